"""Rate limits behind a proxy (TRUSTED_PROXIES, X-Forwarded-For), and the second factor's own
limit and atomic failure count under parallel guesses over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.accounts.models import User
from intake.extensions import db, limiter
from intake.ratelimit import ProcessMemoryStorage

from ..accounts.back_office import fast_passwords
from ..conftest import LiveServer
from ..staff_helpers import PASSWORD, Installation
from .resident_helpers import Browser

PROXY = "127.0.0.1"
SEND = "/orosanmalan/granska"
EMAIL = "vera.lindqvist@alvsbyn.invalid"
LOGIN, SECOND = "/personal/logga-in", "/personal/tvastegsverifiering"
BAD_CODE = "Koden stämmer inte. Försök igen med en ny kod."


def _limited(make_app: Callable[..., Flask], proxies: int) -> Flask:
    return make_app(
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=True,
        RATELIMIT_SUBMIT="2 per minute",
        TRUSTED_PROXIES=proxies,
    )


def _send(app: Flask, forwarded_for: str) -> int:
    response = app.test_client().post(
        SEND,
        data={},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_two_residents_behind_one_proxy_get_their_own_buckets(
    make_app: Callable[..., Flask],
) -> None:
    app = _limited(make_app, proxies=1)
    assert [_send(app, "203.0.113.5") for _ in range(3)] == [302, 302, 429]
    # Another resident behind the same proxy is not held back
    assert _send(app, "203.0.113.6") == 302
    # A client cannot step out of its bucket by putting another address in front
    assert _send(app, "198.51.100.1, 203.0.113.5") == 429
    # And the limiter holds no address, only keyed hashes
    with app.app_context():
        storage = limiter.storage
        assert isinstance(storage, ProcessMemoryStorage)
        keys = " ".join(storage._counts)
    assert keys and "203.0.113" not in keys and "198.51.100" not in keys


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    make_app: Callable[..., Flask],
) -> None:
    app = _limited(make_app, proxies=0)
    # Every forged address still lands in the one bucket of the connecting address
    assert [_send(app, f"203.0.113.{n}") for n in range(1, 4)] == [302, 302, 429]


def test_trusted_proxies_comes_from_the_environment(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TRUSTED_PROXIES", "2")
    app = make_app()
    assert app.config["TRUSTED_PROXIES"] == 2
    # Both the client address and the scheme are taken from the two nearest proxies
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto) == (2, 2)


@pytest.fixture
def vera(installation: Installation, monkeypatch: pytest.MonkeyPatch) -> Installation:
    """A caseworker with TOTP enrolled."""
    fast_passwords(monkeypatch)
    installation.add_user(EMAIL, "caseworker", inboxes=("Vuxna",))
    return installation


def test_the_second_factor_has_its_own_limit(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake import bootstrap

    fast_passwords(monkeypatch)
    app = make_app(
        WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True, RATELIMIT_SECOND_FACTOR="2 per minute"
    )
    with app.app_context():
        result = bootstrap.run_setup()
    Installation(app=app, recovery_codes=result.recovery_codes).add_user(EMAIL, "caseworker")
    client = app.test_client()
    assert client.post(LOGIN, data={"email": EMAIL, "password": PASSWORD}).status_code == 302
    statuses = [client.post(SECOND, data={"code": "abcde-fghjk"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


GUESSERS = 8
GUESSES_EACH = 4


def _allowed(seconds: float) -> int:
    """Guesses the delays let through in `seconds`: 3 free, then after 1, 2, 4 … seconds."""
    allowed, waited, delay = 3, 0.0, 1
    while waited + delay <= seconds:
        waited += delay
        allowed += 1
        delay *= 2
    return allowed


def test_parallel_wrong_codes_are_all_counted_and_refused_at_the_limit(
    vera: Installation,
) -> None:
    # Given eight sessions of one user at the second factor, over real HTTP
    with LiveServer(vera.app) as server:
        browsers = [Browser(server.port) for _ in range(GUESSERS)]
        for browser in browsers:
            answer = browser.post(LOGIN, {"email": EMAIL, "password": PASSWORD})
            assert answer.status == 302, answer.body[:500]
        checked: list[int] = []
        refused: list[int] = []
        lock, gate = threading.Lock(), threading.Barrier(GUESSERS)

        def guess(browser: Browser) -> None:
            gate.wait(timeout=30)
            for _ in range(GUESSES_EACH):
                answer = browser.post(SECOND, {"code": "abcde-fghjk"})  # never a right code
                with lock:
                    if answer.status == 429:
                        refused.append(1)
                    else:
                        assert answer.status == 200 and BAD_CODE in answer.body
                        checked.append(1)

        # When they all guess at once
        started = time.monotonic()
        threads = [threading.Thread(target=guess, args=(b,)) for b in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.monotonic() - started
    # Then every guess checked is a failure counted, and the delays held
    assert len(checked) + len(refused) == GUESSERS * GUESSES_EACH
    with vera.app.app_context():
        failures = db.session.scalar(sa.select(User.failed_logins).where(User.email == EMAIL))
    assert failures == len(checked)
    assert 3 <= len(checked) <= _allowed(elapsed), (len(checked), elapsed)
