"""Signing in at /orosanmalan/mina-anmalningar against the real OpenID Provider: every failure
gives a Swedish page (templates/reports/mine_failure.html), never a 500, and leaks nothing:
no claim, code or state on the page or in the log, and nobody signed in afterwards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import KeySet, RSAKey

from intake import bootstrap, clock
from intake.reports import eid

from . import provider as op
from .conftest import eid_settings

MINE = "/orosanmalan/mina-anmalningar/"
CALLBACK = "/orosanmalan/mina-anmalningar/retur"
UNCHECKED = "Inloggningen kunde inte kontrolleras"
SECRETS = ("198112189876", "196502154567", "Anna", "Ulla", "Acke", "Lärare")


def _app(make_app: Any, issuer: str, **extra: Any) -> Flask:
    app: Flask = make_app(WTF_CSRF_ENABLED=False, **eid_settings(issuer, **extra))
    with app.app_context():
        bootstrap.run_setup()
    return app


@pytest.fixture
def mine_app(make_app: Any, broker: op.Provider) -> Flask:
    """The app with e-legitimation against the test OP (CSRF off)."""
    return _app(make_app, broker.issuer)


def _to_broker(client: FlaskClient) -> str:
    response = client.post(f"{MINE}logga-in")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return str(response.headers["Location"])


def _back(client: FlaskClient, url: str) -> Any:
    return client.get(url.removeprefix("http://127.0.0.1:5000"))


def _at_op(client: FlaskClient, account: str = "anna", **kw: bool) -> str:
    return op.sign_in_at(_to_broker(client), account, callback=CALLBACK, **kw)


def _with_state(url: str, state: str) -> str:
    query = op.query_of(url)
    query["state"] = state
    return CALLBACK + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def _assert_failure_page(response: Any, status: int, heading: str, url: str = "") -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == status, op.redacted(page[:500])
    assert '<html lang="sv"' in page and heading in page
    assert "Försök igen" in page and f'href="{MINE}"' in page
    for secret in (*SECRETS, *op.query_of(url).values()):
        assert secret not in page, op.redacted(secret)


def _assert_nobody_signed_in(client: FlaskClient) -> None:
    page = client.get(MINE).get_data(as_text=True)
    assert "Logga in med e-legitimation" in page and "Logga ut" not in page


def _cancel(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    url = _at_op(client, cancel=True)
    return _back(client, url), url


def _wrong_state(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    url = _at_op(client)
    return client.get(_with_state(url, "not-the-state")), url


def _replayed_code(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    # A sign-in completes; a second sign-in in the same browser is answered with the first
    # one's (spent) code under the second one's state: the OP refuses to redeem it again.
    first = _at_op(client)
    assert _back(client, first).status_code == 303
    second_state = op.query_of(_to_broker(client))["state"]
    return client.get(_with_state(first, second_state)), first


def _replayed_answer(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    url = _at_op(client)
    assert _back(client, url).status_code == 303
    return _back(client, url), url


def _expired(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    # The OP's ID tokens live 10 minutes; the answer is checked 15 minutes later (within
    # the sign-in's own 20 minutes).
    url = _at_op(client)
    later = clock.now() + timedelta(minutes=15)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: later)
        return _back(client, url), url


def _wrong_key(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    # The published key id, but another key: the token does not verify.
    url = _at_op(client)
    found = eid.broker_of(app)
    assert found is not None
    kid = op.requests.get(f"{found.settings.issuer}/jwks", timeout=5).json()["keys"][0]["kid"]
    found.keys = KeySet([RSAKey.generate_key(2048, parameters={"kid": kid})])
    return _back(client, url), url


def _without_personnummer(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    url = _at_op(client, "utan-pnr")
    return _back(client, url), url


def _without_acr(app: Flask, client: FlaskClient) -> tuple[Any, str]:
    url = _at_op(client, "utan-acr")
    return _back(client, url), url


Case = Callable[[Flask, FlaskClient], tuple[Any, str]]
FAILURES: list[tuple[str, Case, int, str]] = [
    ("cancel", _cancel, 200, "Du avbröt inloggningen"),
    ("wrong state", _wrong_state, 400, UNCHECKED),
    ("replayed code", _replayed_code, 400, UNCHECKED),
    ("replayed answer", _replayed_answer, 400, UNCHECKED),
    ("expired token", _expired, 400, UNCHECKED),
    ("wrong key", _wrong_key, 400, UNCHECKED),
    ("missing personnummer", _without_personnummer, 400, "Vi fick inte ditt personnummer"),
    ("missing acr", _without_acr, 400, "E-legitimationen räcker inte här"),
]


@pytest.mark.parametrize(
    ("case", "act", "status", "heading"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_failed_sign_in_gets_a_swedish_page(
    mine_app: Flask,
    caplog: pytest.LogCaptureFixture,
    case: str,
    act: Case,
    status: int,
    heading: str,
) -> None:
    client = mine_app.test_client()
    with caplog.at_level(logging.INFO):
        response, url = act(mine_app, client)
    _assert_failure_page(response, status, heading, url)
    if not case.startswith("replayed"):  # that browser signed in once, for real
        _assert_nobody_signed_in(client)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "e-legitimation failed:" in logged
    for secret in (*SECRETS, *op.query_of(url).values()):
        assert secret not in logged, op.redacted(secret)


def test_the_provider_stopped_before_the_sign_in(make_app: Any) -> None:
    stopped = op.start()
    stopped.stop()
    app = _app(make_app, stopped.issuer)
    client = app.test_client()
    response = client.post(f"{MINE}logga-in")
    _assert_failure_page(response, 503, "Inloggningen svarar inte just nu")
    _assert_nobody_signed_in(client)


def test_the_provider_stopped_during_the_sign_in(make_app: Any) -> None:
    running = op.start()
    try:
        app = _app(make_app, running.issuer)
        client = app.test_client()
        url = _at_op(client)
    finally:
        running.stop()
    _assert_failure_page(_back(client, url), 503, "Inloggningen svarar inte just nu", url)
    _assert_nobody_signed_in(client)


def test_the_provider_silent(make_app: Any, silent_broker: str) -> None:
    app = _app(make_app, silent_broker, EID_TIMEOUT_SECONDS=0.5)
    response = app.test_client().post(f"{MINE}logga-in")
    _assert_failure_page(response, 503, "Inloggningen svarar inte just nu")


def test_an_answer_without_a_sign_in_waiting_sends_back(mine_app: Flask) -> None:
    """A callback in a browser that never started a sign-in: back to the page, nothing more."""
    other = mine_app.test_client()
    url = _at_op(other)
    stranger = mine_app.test_client()
    response = _back(stranger, url)
    assert response.status_code in (302, 303)
    _assert_nobody_signed_in(stranger)


def test_a_userinfo_broker_signs_in_and_a_subject_mismatch_fails(
    make_app: Any, userinfo_broker: op.Provider
) -> None:
    """Claims from userinfo: Anna signs in; a userinfo about another subject gets the page."""
    app = _app(make_app, userinfo_broker.issuer)
    anna = app.test_client()
    assert _back(anna, _at_op(anna)).status_code == 303
    assert "Logga ut" in anna.get(MINE).get_data(as_text=True)
    client = app.test_client()
    url = _at_op(client, "byter-sub")
    _assert_failure_page(_back(client, url), 400, UNCHECKED, url)
    _assert_nobody_signed_in(client)
