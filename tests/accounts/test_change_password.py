"""Changing one's password asks for the current one (after a reset: the one-time password),
guarded by the sign-in delays, audited, and never echoing a password back."""

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
from .back_office import Clock, client_with, cookie, errors, freeze, stockholm, text

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
