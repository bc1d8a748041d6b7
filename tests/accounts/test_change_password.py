"""Changing one's password asks for the current one (after a reset: the one-time password),
guarded by the sign-in delays, audited, never echoing a password back, and signing the user
out of every other browser."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import audit, clock
from intake.accounts import guard, service, throttle
from intake.accounts.models import SignInThrottle, User
from intake.crypto import passwords
from intake.extensions import db

from ..staff_helpers import PASSWORD, Installation
from .back_office import (
    Clock,
    client_with,
    cookie,
    errors,
    freeze,
    staff_sessions,
    stockholm,
    submit,
    text,
)

EMAIL, CHEF = "vera.lindqvist@alvsbyn.invalid", "chef@alvsbyn.invalid"
LOGIN, SECOND = "/personal/logga-in", "/personal/tvastegsverifiering"
ENROL, CHANGE = "/personal/tvastegsverifiering/aktivera", "/personal/byt-losenord"
NEW_PASSWORD = "en lång och ovanlig mening om hjortron"
WRONG_CURRENT = "Lösenordet stämmer inte. Skriv det lösenord som du loggade in med."
MISSING_CURRENT = "Skriv ditt nuvarande lösenord."
SHORT = "Lösenordet måste ha minst 12 tecken."
ONE_TIME_HINT = "Engångslösenordet som du loggade in med."


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A Tuesday morning that only moves when the test says so."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


@pytest.fixture
def vera(installation: Installation, frozen: Clock) -> Installation:
    """The installation with a caseworker in "Vuxna" (TOTP enrolled, own password)."""
    installation.add_user(EMAIL, "caseworker", inboxes=("Vuxna",))
    return installation


def change(
    client: FlaskClient, current: str, new: str = NEW_PASSWORD, confirm: str | None = None
) -> TestResponse:
    """Post the change-password form."""
    return client.post(
        CHANGE,
        data={
            "current_password": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def password_works(app: Flask, email: str, password: str) -> bool:
    """Whether the password is the user's (checked on the hash: no delay is counted)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None
        return passwords.verify_password(user.password_hash, password)


def failures(app: Flask, email: str) -> int:
    """The throttle's count of password failures for an address."""
    with app.app_context():
        key_hash = throttle.key_for(email, key=guard.throttle_key())
        count = db.session.scalar(
            sa.select(SignInThrottle.failures).where(SignInThrottle.key_hash == key_hash)
        )
        return int(count or 0)


def actions(app: Flask) -> list[str]:
    """The audit trail's actions, in order."""
    with app.app_context():
        return list(
            db.session.scalars(sa.select(audit.AuditEvent.action).order_by(audit.AuditEvent.seq))
        )


def password_values(html: str) -> list[str]:
    """The value attribute of every password input on the page."""
    inputs = re.findall(r"<input[^>]*type=\"password\"[^>]*>", html, re.S)
    return [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("current", "new", "confirm", "status", "shown", "changed", "counted"),
    [
        (PASSWORD, NEW_PASSWORD, None, 302, [], True, 0),
        ("", NEW_PASSWORD, None, 200, [MISSING_CURRENT], False, 0),
        ("fel lösenord helt och hållet", NEW_PASSWORD, None, 200, [WRONG_CURRENT], False, 1),
        (PASSWORD.upper(), NEW_PASSWORD, None, 200, [WRONG_CURRENT], False, 1),
        (PASSWORD + " ", NEW_PASSWORD, None, 200, [WRONG_CURRENT], False, 1),
        # A wrong current password stops there: the new one is not even looked at
        ("fel lösenord helt och hållet", "kort", None, 200, [WRONG_CURRENT], False, 1),
        # A right current password with a bad new one: the rules speak, nothing is counted
        (PASSWORD, "kort", None, 200, [SHORT], False, 0),
        (PASSWORD, NEW_PASSWORD, "något annat", 200, ["Lösenorden är inte lika."], False, 0),
        ("", "kort", "", 200, [MISSING_CURRENT, "Skriv lösenordet en gång till."], False, 0),
    ],
)
def test_the_current_password_is_required(
    vera: Installation,
    current: str,
    new: str,
    confirm: str | None,
    status: int,
    shown: list[str],
    changed: bool,
    counted: int,
) -> None:
    app = vera.app
    # Given a signed-in session, and a second browser holding the same cookie (a hijacker)
    owner = app.test_client()
    vera.login(owner, EMAIL)
    thief = client_with(app, cookie(owner))
    # When the hijacked session posts the form
    response = change(thief, current, new, confirm)
    # Then only the right current password lets the change through
    assert response.status_code == status
    html = text(response)
    for message in shown:
        assert message in errors(html)
    assert len(errors(html)) == len(shown)
    assert password_works(app, EMAIL, NEW_PASSWORD if changed else PASSWORD)
    assert not password_works(app, EMAIL, PASSWORD if changed else NEW_PASSWORD)
    # And a wrong current password counts like a wrong password at sign-in
    assert failures(app, EMAIL) == counted
    # And no password comes back in the page
    if status == 200:
        assert password_values(html) == ["", "", ""]
        for typed in {current, new, confirm or new} - {""}:
            assert typed not in html


@pytest.mark.parametrize(
    ("current", "trail"),
    [
        (PASSWORD, ["password_changed"]),
        ("fel lösenord helt och hållet", ["password_change_failed"]),
        ("", []),  # the form stopped it: the service was never asked
    ],
)
def test_changes_and_wrong_current_passwords_are_audited(
    vera: Installation, current: str, trail: list[str]
) -> None:
    app = vera.app
    client = app.test_client()
    vera.login(client, EMAIL)
    before = actions(app)
    change(client, current)
    assert actions(app)[len(before) :] == trail
    with app.app_context():
        user_id = vera.user(EMAIL).id
        for event in db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.seq > len(before))
        ):
            assert (event.actor_id, event.actor) == (user_id, EMAIL)
            assert (event.target_type, event.target_id) == ("user", str(user_id))
            stored = f"{event.actor}{event.details}"
            assert PASSWORD not in stored and NEW_PASSWORD not in stored
            assert current not in stored or not current
        assert audit.verify().ok


def test_guessing_the_current_password_brings_the_sign_in_delays(
    vera: Installation, frozen: Clock
) -> None:
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    # Given three wrong guesses from the session, each refused without delay
    for _ in range(3):
        response = change(client, "fel lösenord helt och hållet")
        assert response.status_code == 200 and errors(text(response)) == [WRONG_CURRENT]
    # When the right one comes at once, then it waits: a session cannot brute-force it
    response = change(client, PASSWORD)
    assert response.status_code == 429
    assert errors(text(response)) == [
        "För många misslyckade försök. Vänta 2 sekunder och försök igen."
    ]
    assert password_values(text(response)) == ["", "", ""]
    assert password_works(vera.app, EMAIL, PASSWORD)
    # And each further miss waits longer, as at sign-in
    frozen.advance(seconds=2)
    assert change(client, "fel igen").status_code == 200
    assert "Vänta 3 sekunder" in text(change(client, PASSWORD))
    # And after the wait the right password works, and the count starts again
    frozen.advance(seconds=3)
    assert change(client, PASSWORD).status_code == 302
    assert failures(vera.app, EMAIL) == 0
    assert password_works(vera.app, EMAIL, NEW_PASSWORD)


def test_the_count_is_the_one_sign_in_keeps(vera: Installation, frozen: Clock) -> None:
    # Given a signed-in user, and someone guessing at the sign-in page meanwhile
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    stranger = vera.app.test_client()
    for _ in range(3):
        stranger.post(LOGIN, data={"email": EMAIL, "password": "gissning"})
    # When the session tries its own guess, it waits too: guesses add up wherever they come from
    assert change(client, PASSWORD).status_code == 429
    # And the other way round: the session's misses delay the sign-in page
    frozen.advance(seconds=2)
    change(client, "fel lösenord helt och hållet")
    response = stranger.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 429


def _reset_and_sign_in(installation: Installation, client: FlaskClient) -> str:
    """An admin resets Vera's password; she signs in with the one-time password and enrols.
    Returns the one-time password."""
    app = installation.app
    installation.add_user(CHEF, "admin")
    admin = app.test_client()
    installation.login(admin, CHEF)
    with app.app_context():
        user_id = installation.user(EMAIL).id
    page = text(admin.post(f"/personal/admin/anvandare/{user_id}/aterstall"))
    found = re.search(r'<p class="reference"><code>([^<]+)</code>', page)
    assert found is not None
    one_time = found.group(1)
    response = client.post(LOGIN, data={"email": EMAIL, "password": one_time})
    assert response.location == ENROL
    client.get(ENROL)
    with app.app_context():
        secret = service.totp_secret(installation.user(EMAIL), app.config["APP_KEYS"])
    assert client.post(ENROL, data={"code": pyotp.TOTP(secret).at(clock.now())}).status_code == 200
    return one_time


@pytest.mark.parametrize(
    ("current", "shown", "changed"),
    [
        ("one-time", [], True),
        ("", [MISSING_CURRENT], False),
        (PASSWORD, [WRONG_CURRENT], False),  # the password from before the reset is gone
        ("abcd-efgh-jkmn-pqrs", [WRONG_CURRENT], False),
    ],
)
def test_after_a_reset_the_one_time_password_is_the_current_one(
    vera: Installation, current: str, shown: list[str], changed: bool
) -> None:
    app = vera.app
    client = app.test_client()
    # Given a reset, a sign-in with the one-time password and a new authenticator
    one_time = _reset_and_sign_in(vera, client)
    typed = one_time if current == "one-time" else current
    # Then every staff page sends her to choose her own password, which asks for the one-time
    assert client.get("/personal/").location == CHANGE
    page = text(client.get(CHANGE))
    assert ONE_TIME_HINT in page and 'autocomplete="current-password"' in page
    # When she sends the form
    response = client.post(
        CHANGE, data={"current_password": typed, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    # Then it takes the one-time password and nothing else
    assert errors(text(response)) == shown
    if changed:
        assert response.location == "/personal/"
        assert client.get("/personal/").status_code == 200
        assert password_works(app, EMAIL, NEW_PASSWORD)
        assert not password_works(app, EMAIL, one_time)
    else:
        assert response.status_code == 200
        assert client.get("/personal/").location == CHANGE
        assert password_works(app, EMAIL, one_time)


def test_a_user_with_an_own_password_sees_no_one_time_hint(vera: Installation) -> None:
    client = vera.app.test_client()
    vera.login(client, EMAIL)
    page = text(client.get(CHANGE))
    assert "Nuvarande lösenord" in page and ONE_TIME_HINT not in page


def test_an_expired_form_never_echoes_the_current_password(make_app) -> None:  # type: ignore[no-untyped-def]
    # Given CSRF protection on and a form sent without its token (an expired page)
    app = make_app()
    response = app.test_client().post(
        CHANGE,
        data={"current_password": "mitt-nuvarande-KANARIE", "password": "x", "confirm": "x"},
    )
    # Then the "page has expired" answer does not carry the current password back
    assert response.status_code == 400
    assert "mitt-nuvarande-KANARIE" not in text(response)


# --- A change signs the user out everywhere else ---------------------------------------------

COLLEAGUE = "bo.nilsson@alvsbyn.invalid"
CHANGED = "Lösenordet är bytt."


def signed_in(installation: Installation, frozen: Clock, email: str = EMAIL) -> FlaskClient:
    """A new browser signed in (password and TOTP); the clock moves on to a fresh TOTP code."""
    frozen.advance(seconds=30)  # a TOTP code is good once
    client = installation.app.test_client()
    installation.login(client, email)
    assert client.get("/personal/").status_code == 200
    return client


def notices(html: str) -> list[str]:
    """The flashed notices on a page."""
    return re.findall(r'class="notice notice-info"[^>]*><p>(.*?)</p>', html, re.S)


def sent_to_sign_in(client: FlaskClient, path: str = "/personal/inkorg") -> bool:
    """Whether a staff page sends the client to the sign-in page."""
    response = client.get(path)
    return response.status_code == 302 and response.location.startswith(LOGIN)


def changes_recorded(app: Flask) -> list[dict[str, object]]:
    """The details of every password_changed entry in the audit trail."""
    with app.app_context():
        return [
            dict(details)
            for details in db.session.scalars(
                sa.select(audit.AuditEvent.details)
                .where(audit.AuditEvent.action == "password_changed")
                .order_by(audit.AuditEvent.seq)
            )
        ]


def test_a_change_signs_out_the_other_sessions_and_keeps_this_one(
    vera: Installation, frozen: Clock
) -> None:
    app = vera.app
    report_id = submit(app, subject_type="vuxen", what_happened="Vuxens KANARIE-text.")
    # Given Vera signed in in two browsers; the second may be an attacker with her old password
    mine, other = signed_in(vera, frozen), signed_in(vera, frozen)
    others_cookie = cookie(other)
    # When she changes her password in the first
    assert change(mine, PASSWORD).location == "/personal/"
    # Then the first says so, and that one other browser was signed out
    assert notices(text(mine.get("/personal/"))) == [
        "Lösenordet är bytt. Du är utloggad på 1 annan enhet."
    ]
    # And the other browser's next staff page is the sign-in page, its cookie replayed too
    assert sent_to_sign_in(other)
    assert sent_to_sign_in(client_with(app, others_cookie), f"/personal/anmalan/{report_id}")
    # And the first browser stays signed in, its unlocked key still opening the inbox's reports
    assert mine.get("/personal/inkorg").status_code == 200
    page = mine.get(f"/personal/anmalan/{report_id}")
    assert page.status_code == 200 and "Vuxens KANARIE-text." in text(page)
    # And the other browser can sign in again, with the new password only
    frozen.advance(seconds=30)
    assert other.post(LOGIN, data={"email": EMAIL, "password": PASSWORD}).status_code == 200
    vera.login(other, EMAIL, password=NEW_PASSWORD)
    assert other.get("/personal/inkorg").status_code == 200


@pytest.mark.parametrize(
    ("others", "notice"),
    [
        (0, CHANGED),
        (1, "Lösenordet är bytt. Du är utloggad på 1 annan enhet."),
        (2, "Lösenordet är bytt. Du är utloggad på 2 andra enheter."),
        (3, "Lösenordet är bytt. Du är utloggad på 3 andra enheter."),
    ],
)
def test_the_notice_and_the_audit_trail_count_the_sessions_ended(
    vera: Installation, frozen: Clock, others: int, notice: str
) -> None:
    app = vera.app
    # Given Vera signed in here and in some other browsers
    mine = signed_in(vera, frozen)
    elsewhere = [signed_in(vera, frozen) for _ in range(others)]
    # When she changes her password here
    change(mine, PASSWORD)
    # Then the notice counts the browsers signed out, in proper Swedish singular and plural
    assert notices(text(mine.get("/personal/"))) == [notice]
    assert all(sent_to_sign_in(client) for client in elsewhere)
    # And the audit entry records how many, and nothing more about them
    assert changes_recorded(app) == [{"other_sessions_ended": others}]
    with app.app_context():
        assert audit.verify().ok
    assert staff_sessions(app) == 1


@pytest.mark.parametrize(
    ("current", "new", "confirm"),
    [
        ("fel lösenord helt och hållet", NEW_PASSWORD, None),  # wrong current password
        (PASSWORD, "kort", None),  # the new password breaks the rules
        (PASSWORD, NEW_PASSWORD, "något annat"),  # the form stops it
        ("", NEW_PASSWORD, None),
    ],
)
def test_a_failed_change_ends_no_session(
    vera: Installation, frozen: Clock, current: str, new: str, confirm: str | None
) -> None:
    # Given Vera signed in in two browsers
    mine, other = signed_in(vera, frozen), signed_in(vera, frozen)
    # When a change from the first fails
    assert change(mine, current, new, confirm).status_code == 200
    # Then both browsers stay signed in, and nothing claims a change
    assert mine.get("/personal/inkorg").status_code == 200
    assert other.get("/personal/inkorg").status_code == 200
    assert staff_sessions(vera.app) == 2
    assert changes_recorded(vera.app) == []
    assert password_works(vera.app, EMAIL, PASSWORD)


def test_a_colleagues_session_is_left_alone(vera: Installation, frozen: Clock) -> None:
    # Given Vera and a colleague signed in
    vera.add_user(COLLEAGUE, "caseworker", inboxes=("Vuxna",))
    mine, colleague = signed_in(vera, frozen), signed_in(vera, frozen, COLLEAGUE)
    # When Vera changes her password
    change(mine, PASSWORD)
    # Then only her own other sessions count, and she has none: the colleague stays signed in
    assert notices(text(mine.get("/personal/"))) == [CHANGED]
    assert colleague.get("/personal/inkorg").status_code == 200
    assert changes_recorded(vera.app) == [{"other_sessions_ended": 0}]


def test_a_timed_out_session_goes_but_is_not_counted(vera: Installation, frozen: Clock) -> None:
    app = vera.app
    idle = app.config["STAFF_IDLE_MINUTES"]
    # Given a browser left idle past the timeout (its row not yet purged), a live one, and this
    forgotten = signed_in(vera, frozen)
    forgotten_cookie = cookie(forgotten)
    mine, other = signed_in(vera, frozen), signed_in(vera, frozen)
    frozen.advance(minutes=idle - 5)
    assert mine.get("/personal/").status_code == 200
    assert other.get("/personal/").status_code == 200
    frozen.advance(minutes=10)
    assert staff_sessions(app) == 3
    # When Vera changes her password here
    change(mine, PASSWORD)
    # Then only the live browser is counted as signed out, and every other row is gone
    assert notices(text(mine.get("/personal/"))) == [
        "Lösenordet är bytt. Du är utloggad på 1 annan enhet."
    ]
    assert changes_recorded(app) == [{"other_sessions_ended": 1}]
    assert staff_sessions(app) == 1
    assert sent_to_sign_in(other) and sent_to_sign_in(client_with(app, forgotten_cookie))
