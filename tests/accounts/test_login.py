"""Staff sign-in: password + TOTP, delays, one-time codes, first login, sessions, rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from intake import audit, bootstrap, clock
from intake.accounts import guard, service
from intake.accounts.models import SignInThrottle, StaffSession
from intake.extensions import db

from ..staff_helpers import PASSWORD, Installation
from .back_office import (
    Clock,
    client_with,
    cookie,
    errors,
    freeze,
    install,
    signed_cookie,
    staff_cookie,
    staff_sessions,
    stockholm,
    text,
)

EMAIL = "vera.lindqvist@alvsbyn.invalid"
LOGIN, SECOND, ENROL = (
    "/personal/logga-in",
    "/personal/tvastegsverifiering",
    "/personal/tvastegsverifiering/aktivera",
)
CHANGE = "/personal/byt-losenord"
WRONG = "Fel e-postadress eller lösenord."
BAD_CODE = "Koden stämmer inte. Försök igen med en ny kod."
COMMON = "Lösenordet är för vanligt eller har läckt ut tidigare. Välj ett annat."
PERSONAL = "Lösenordet får inte innehålla ditt namn eller din e-postadress."
NEW_PASSWORD = "en lång och ovanlig mening om hjortron"


def authenticate(email: str, password: str) -> service.SignedIn:
    """The service's sign-in with this app's throttle key (inside an app context)."""
    return service.authenticate(email, password, throttle_key=guard.throttle_key())


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A Tuesday morning that only moves when the test says so."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


@pytest.fixture
def vera(installation: Installation, frozen: Clock) -> Installation:
    """The installation with a caseworker in "Vuxna" (TOTP enrolled, own password)."""
    installation.add_user(EMAIL, "caseworker", inboxes=("Vuxna",))
    return installation


def test_password_then_totp_signs_in(vera: Installation) -> None:
    client = vera.app.test_client()
    # Given the right password
    response = client.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302 and response.location == SECOND
    # Then nothing in the staff area opens before the second factor
    assert client.get("/personal/inkorg").location == SECOND
    # When the code from the app is given
    response = client.post(SECOND, data={"code": vera.code(EMAIL)})
    # Then the staff area opens, and the sign-in is audited
    assert response.status_code == 302 and response.location == "/personal/"
    assert client.get("/personal/").status_code == 200
    with vera.app.app_context():
        actions = db.session.scalars(
            sa.select(audit.AuditEvent.action).order_by(audit.AuditEvent.seq)
        ).all()
        assert actions == ["membership_granted", "login"]


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (EMAIL, "fel lösenord helt och hållet"),
        ("ingen.alls@alvsbyn.invalid", PASSWORD),
        (EMAIL.upper(), "fel lösenord helt och hållet"),
    ],
)
def test_wrong_password_reads_like_unknown_email(
    vera: Installation, email: str, password: str
) -> None:
    response = vera.app.test_client().post(LOGIN, data={"email": email, "password": password})
    assert response.status_code == 200
    assert errors(text(response)) == [WRONG]


def test_failures_bring_growing_delays(vera: Installation, frozen: Clock) -> None:
    with vera.app.app_context():
        # Given three wrong passwords, each refused without delay
        for _ in range(3):
            with pytest.raises(service.LoginError) as refused:
                authenticate(EMAIL, "fel lösenord helt och hållet")
            assert not isinstance(refused.value, service.LoginDelayed)
        # When trying again — even with the right password — after each wait and a new miss
        waits = []
        for _ in range(4):
            with pytest.raises(service.LoginDelayed) as delayed:
                authenticate(EMAIL, PASSWORD)
            waits.append(delayed.value.seconds)
            frozen.advance(seconds=delayed.value.seconds)
            with pytest.raises(service.LoginError):
                authenticate(EMAIL, "fel lösenord helt och hållet")
        # Then each wait is longer than the one before
        assert waits == sorted(set(waits)) and waits[0] >= 1
        # And once the wait is over the right password works and the count starts again
        frozen.advance(minutes=15)
        assert authenticate(EMAIL, PASSWORD).user.failed_logins == 0
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInThrottle)) == 0
    # The page says how long to wait, in Swedish, with 429
    client = vera.app.test_client()
    for _ in range(4):
        response = client.post(LOGIN, data={"email": EMAIL, "password": "fel"})
    assert response.status_code == 429
    assert re.search(r"Vänta \d+ sekund(er)? och försök igen", text(response))


def test_failed_second_factor_codes_bring_delays_too(vera: Installation, frozen: Clock) -> None:
    # Given the right password and three wrong codes
    client = vera.app.test_client()
    client.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    for _ in range(3):
        assert errors(text(client.post(SECOND, data={"code": "000000"}))) == [BAD_CODE]
    # When the right code comes at once, then it waits: the code cannot be brute-forced
    response = client.post(SECOND, data={"code": vera.code(EMAIL)})
    assert response.status_code == 429
    assert "Vänta" in text(response)
    # And after the wait it works
    frozen.advance(seconds=31)
    response = client.post(SECOND, data={"code": vera.code(EMAIL)})
    assert response.status_code == 302 and response.location == "/personal/"


def test_a_totp_code_works_once(vera: Installation, frozen: Clock) -> None:
    # Given a sign-in with the current code
    first, second = vera.app.test_client(), vera.app.test_client()
    code = vera.code(EMAIL)
    first.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    assert first.post(SECOND, data={"code": code}).status_code == 302
    # When someone replays the same code within its 30 seconds, then it is refused
    second.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    response = second.post(SECOND, data={"code": code})
    assert response.status_code == 200 and errors(text(response)) == [BAD_CODE]
    # And the next code works
    frozen.advance(seconds=30)
    assert vera.code(EMAIL) != code
    assert second.post(SECOND, data={"code": vera.code(EMAIL)}).status_code == 302


def test_a_backup_code_works_once(vera: Installation) -> None:
    with vera.app.app_context():
        codes = service.new_backup_codes(vera.user(EMAIL), pepper=guard.pepper())
        db.session.commit()

    def second_factor(code: str) -> int:
        client = vera.app.test_client()
        client.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
        return client.post(SECOND, data={"code": code}).status_code

    assert second_factor(codes[0]) == 302
    assert second_factor(codes[0]) == 200  # spent
    assert second_factor(codes[1].upper().replace("-", " ")) == 302  # typed loosely
    assert second_factor("abcde-fghjk") == 200


def test_first_login_enrols_totp_then_changes_password(
    installation: Installation, frozen: Clock
) -> None:
    app = installation.app
    # Given a user an admin created, with a one-time password and no authenticator yet
    with app.app_context():
        bootstrap.create_user("nora@alvsbyn.invalid", "Nora Nilsson", "caseworker", "ab12-cd34")
        db.session.commit()
    client = app.test_client()
    # When they sign in, they must set up the authenticator first
    response = client.post(LOGIN, data={"email": "nora@alvsbyn.invalid", "password": "ab12-cd34"})
    assert response.location == ENROL
    assert client.get("/personal/").status_code == 302
    page = client.get(ENROL)
    assert page.status_code == 200 and "<svg" in text(page)
    with app.app_context():
        nora = installation.user("nora@alvsbyn.invalid")
        secret = service.totp_secret(nora, app.config["APP_KEYS"])
    assert secret in text(page)
    wrong = client.post(ENROL, data={"code": "123456"})
    assert "Kontrollera klockan i telefonen" in text(wrong)
    done = client.post(ENROL, data={"code": pyotp.TOTP(secret).at(clock.now())})
    # Then they see ten backup codes once
    assert done.status_code == 200
    assert len(re.findall(r"<code>[a-z0-9]{5}-[a-z0-9]{5}</code>", text(done))) == 10
    # And every staff page sends them to choose their own password
    assert client.get("/personal/").location == CHANGE
    assert client.get("/personal/inkorg").location == CHANGE
    response = client.post(
        CHANGE,
        data={"current_password": "ab12-cd34", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.location == "/personal/"
    assert client.get("/personal/").status_code == 200
    # And the one-time password is gone, the new one works with the authenticator
    frozen.advance(seconds=30)
    with app.app_context(), pytest.raises(service.LoginError):
        authenticate("nora@alvsbyn.invalid", "ab12-cd34")
    again = app.test_client()
    again.post(LOGIN, data={"email": "nora@alvsbyn.invalid", "password": NEW_PASSWORD})
    code = pyotp.TOTP(secret).at(clock.now())
    assert again.post(SECOND, data={"code": code}).location == "/personal/"


def test_an_enrolled_user_cannot_be_re_enrolled_by_a_link(vera: Installation) -> None:
    # Given a signed-in user
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    with vera.app.app_context():
        before = vera.user(EMAIL).totp_secret
    # When something makes their browser open the enrolment page
    response = client.get(ENROL)
    # Then nothing changes: their authenticator stays the only second factor
    assert response.status_code == 302
    with vera.app.app_context():
        user = vera.user(EMAIL)
        assert user.totp_secret == before and user.totp_enrolled_at is not None


def test_session_is_rotated_at_login(vera: Installation, frozen: Clock) -> None:
    app = vera.app
    # Given a browser with a session planted by someone else (they know its token and key)
    planted = {"staff": {"t": "known-token", "k": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0"}}
    client = client_with(app, signed_cookie(app, planted))
    before = cookie(client)
    # When the user signs in
    vera.login(client, EMAIL)
    # Then the cookie and the staff session in it are new
    after = cookie(client)
    assert after != before and staff_cookie(app, after)["t"] != "known-token"
    assert client_with(app, before).get("/personal/").status_code == 302
    # When they sign in again in the same browser, the earlier session ends on the server
    frozen.advance(seconds=30)
    vera.login(client, EMAIL)
    again = cookie(client)
    assert again != after
    assert client_with(app, after).get("/personal/").status_code == 302
    assert client_with(app, again).get("/personal/").status_code == 200
    assert staff_sessions(app) == 1


@pytest.mark.parametrize(
    ("pauses", "status"),
    [
        ([4], 200),
        ([4, 4, 4, 4], 200),  # use keeps the session alive past the idle limit in total
        ([6], 302),
        ([4, 6], 302),
    ],
)
def test_idle_timeout(
    make_app, monkeypatch: pytest.MonkeyPatch, pauses: list[int], status: int
) -> None:  # type: ignore[no-untyped-def]
    # Given a five-minute idle limit and a signed-in user
    installation = install(make_app, STAFF_IDLE_MINUTES=5)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    installation.add_user(EMAIL, "caseworker")
    client = installation.app.test_client()
    installation.login(client, EMAIL)
    # When they pause between requests
    for pause in pauses:
        frozen.advance(minutes=pause)
        response = client.get("/personal/")
    # Then the session is alive, or gone from the server too
    assert response.status_code == status
    assert staff_sessions(installation.app) == (1 if status == 200 else 0)
    if status == 302:
        assert response.location.startswith(LOGIN)


@pytest.mark.parametrize(("minutes", "status"), [(40, 200), (59, 200), (60, 302), (70, 302)])
def test_absolute_timeout(
    make_app, monkeypatch: pytest.MonkeyPatch, minutes: int, status: int
) -> None:  # type: ignore[no-untyped-def]
    # Given a one-hour absolute limit and a signed-in user
    installation = install(make_app, STAFF_ABSOLUTE_HOURS=1)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    installation.add_user(EMAIL, "caseworker")
    client = installation.app.test_client()
    installation.login(client, EMAIL)
    start = frozen()
    # When they are never idle for long (a request every ten minutes)
    for step in range(10, min(minutes, 60), 10):
        frozen.set(start + timedelta(minutes=step))
        assert client.get("/personal/").status_code == 200
    frozen.set(start + timedelta(minutes=minutes))
    # Then at the limit the session ends however active they were
    assert client.get("/personal/").status_code == status


def test_logout_deletes_the_session_on_the_server(vera: Installation) -> None:
    app = vera.app
    # Given a signed-in user
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    old = cookie(client)
    assert staff_sessions(app) == 1
    # When they sign out
    response = client.post("/personal/logga-ut")
    # Then the server-side row (with the unlocked key) is gone and the old cookie is useless
    assert response.location == LOGIN
    assert staff_sessions(app) == 0
    assert "Du är utloggad." in text(client.get(LOGIN))
    replayed = client_with(app, old).get("/personal/")
    assert replayed.status_code == 302 and replayed.location.startswith(LOGIN)
    with app.app_context():
        actions = db.session.scalars(
            sa.select(audit.AuditEvent.action).order_by(audit.AuditEvent.seq)
        ).all()
        assert actions[-2:] == ["login", "logout"]


def test_deactivated_users_cannot_sign_in(installation: Installation, frozen: Clock) -> None:
    app, email = installation.app, "vera@alvsbyn.se"  # the admin form refuses .invalid
    # Given a signed-in user and an admin
    user_id = installation.add_user(email, "caseworker")
    installation.add_user("chef@alvsbyn.invalid", "admin")
    user_client, admin = app.test_client(), app.test_client()
    installation.login(user_client, email)
    installation.login(admin, "chef@alvsbyn.invalid")
    # When the admin deactivates the account (the box left unticked)
    response = admin.post(
        f"/personal/admin/anvandare/{user_id}",
        data={"name": "Vera Lindqvist", "email": email, "role": "caseworker"},
    )
    assert response.status_code == 302, errors(text(response))
    # Then the running session has ended and signing in reads like a wrong password
    assert user_client.get("/personal/").status_code == 302
    response = app.test_client().post(LOGIN, data={"email": email, "password": PASSWORD})
    assert errors(text(response)) == [WRONG]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort", "Lösenordet måste ha minst 12 tecken."),
        ("x" * 129, "Lösenordet får ha högst 128 tecken."),
        ("sommar2026!", COMMON),
        ("1234567890123", COMMON),
        ("abababababababab", COMMON),
        ("vera.lindqvist har ett lösenord", PERSONAL),
        ("mitt namn är VERA.LINDQVIST", PERSONAL),
    ],
)
def test_password_rules(vera: Installation, password: str, message: str) -> None:
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    response = client.post(
        CHANGE, data={"current_password": PASSWORD, "password": password, "confirm": password}
    )
    assert response.status_code == 200
    assert message in errors(text(response))
    # The old password still works: nothing was changed
    with vera.app.app_context():
        assert authenticate(EMAIL, PASSWORD).user.email == EMAIL


def test_a_good_password_is_accepted_and_the_old_one_stops_working(vera: Installation) -> None:
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    mismatch = client.post(
        CHANGE,
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": "något annat"},
    )
    assert errors(text(mismatch)) == ["Lösenorden är inte lika."]
    response = client.post(
        CHANGE,
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.location == "/personal/"
    with vera.app.app_context():
        with pytest.raises(service.LoginError):
            authenticate(EMAIL, PASSWORD)
        assert authenticate(EMAIL, NEW_PASSWORD).user.email == EMAIL
