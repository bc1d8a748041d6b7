"""Staff timeouts as documented: the server-side row's idle and absolute limits decide when a
caseworker is signed out, not the age of the session cookie's signature."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.config import ConfigError

from .back_office import freeze, install, staff_sessions, stockholm

EMAIL = "vera.lindqvist@alvsbyn.invalid"
LOGIN = "/personal/logga-in"


def test_a_caseworker_active_all_day_stays_signed_in_until_the_absolute_limit(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Given the shipped limits (idle 30 min, absolute 10 h, cookie signature 2 h)
    installation = install(make_app)
    app = installation.app
    assert app.config["STAFF_ABSOLUTE_HOURS"] == 10
    assert app.permanent_session_lifetime < timedelta(hours=10)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 7, 0))
    installation.add_user(EMAIL, "caseworker")
    client = app.test_client()
    installation.login(client, EMAIL)
    start = frozen()
    # When they use the service every twenty minutes all day
    for step in range(20, 10 * 60, 20):
        frozen.set(start + timedelta(minutes=step))
        response = client.get("/personal/")
        # Then they stay signed in, well past the cookie signature's two hours
        assert response.status_code == 200, f"signed out after {step} minutes"
    # And at the absolute limit they are signed out however active they were
    frozen.set(start + timedelta(hours=10))
    response = client.get("/personal/")
    assert response.status_code == 302
    assert response.location.startswith(LOGIN)
    assert staff_sessions(app) == 0


@pytest.mark.parametrize(("minutes", "status"), [(29, 200), (31, 302)])
def test_an_idle_caseworker_is_signed_out_after_the_idle_limit(
    make_app, monkeypatch: pytest.MonkeyPatch, minutes: int, status: int
) -> None:  # type: ignore[no-untyped-def]
    # Given a caseworker who signed in and worked for three hours
    installation = install(make_app)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 8, 0))
    installation.add_user(EMAIL, "caseworker")
    client = installation.app.test_client()
    installation.login(client, EMAIL)
    for _ in range(9):
        frozen.advance(minutes=20)
        assert client.get("/personal/").status_code == 200
    # When they leave the browser alone
    frozen.advance(minutes=minutes)
    response = client.get("/personal/")
    # Then the idle limit (30 min) decides
    assert response.status_code == status
    assert staff_sessions(installation.app) == (1 if status == 200 else 0)


def test_use_re_signs_the_cookie(make_app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # Given a signed-in caseworker
    installation = install(make_app)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 8, 0))
    installation.add_user(EMAIL, "caseworker")
    client = installation.app.test_client()
    installation.login(client, EMAIL)
    # When they come back within the idle limit, the cookie is written afresh
    frozen.advance(minutes=10)
    assert "intake_session=" in client.get("/personal/").headers.get("Set-Cookie", "")
    # And a second request within the same half minute does not need to
    frozen.advance(seconds=5)
    assert "Set-Cookie" not in client.get("/personal/").headers


def test_a_cookie_not_re_signed_within_its_lifetime_signs_nobody_in(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Given a caseworker whose idle limit outlasts nothing but the cookie is short-lived
    installation = install(make_app, PERMANENT_SESSION_LIFETIME=60 * 60, STAFF_IDLE_MINUTES=60)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 8, 0))
    installation.add_user(EMAIL, "caseworker")
    client = installation.app.test_client()
    installation.login(client, EMAIL)
    # When the cookie's signature is older than its lifetime (read from intake.clock)
    frozen.advance(minutes=61)
    # Then it is refused, as is the idle session behind it
    assert client.get("/personal/").status_code == 302


def test_an_idle_limit_longer_than_the_cookie_is_refused(make_app) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        make_app(STAFF_IDLE_MINUTES=3 * 60, PERMANENT_SESSION_LIFETIME=2 * 3600)
