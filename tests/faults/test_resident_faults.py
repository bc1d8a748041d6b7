"""Faults on the resident's side, in process: a send pressed twice, the database locked or its
connection dropped, the limiter's Redis away, a cross-site form without cookies."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from html import escape
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap
from intake.extensions import db, limiter
from intake.reports import drafts
from intake.reports.models import Draft, Report

from ..accounts.back_office import fast_passwords
from ..conftest import POSTGRES, free_port
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, walk
from ..staff_helpers import PASSWORD, Installation
from .resident_helpers import REFERENCE, UNAVAILABLE

TYPED = {"subject_type": "barn", "first_name": "Alva Ödmark <b>", "age": "8"}
STEP_TWO = "/orosanmalan/personen"


def _reports(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Report)) or 0)


def _set_cookies(response: Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


# --- one report per draft ---------------------------------------------------------------------


def test_a_send_pressed_again_after_success_shows_the_same_receipt(
    app: Flask, client: FlaskClient
) -> None:
    sent = walk(client, PRIVATE_ANONYMOUS_CHILD)
    assert sent.status_code == 303 and sent.location == "/orosanmalan/kvitto"
    match = REFERENCE.search(client.get(sent.location).get_data(as_text=True))
    assert match is not None
    again = client.post("/orosanmalan/granska", data={"confirm": "ja"})
    assert again.status_code == 303 and again.location == "/orosanmalan/kvitto"
    assert match.group(0) in client.get(again.location).get_data(as_text=True)
    assert _reports(app) == 1


def test_a_press_that_loses_the_race_writes_nothing_and_shows_the_receipt(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one browser at the check page, and a second press with the same cookie
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    other = app.test_client()
    cookie = client.get_cookie("intake_session")
    assert cookie is not None
    other.set_cookie("intake_session", cookie.value)
    original, raced = drafts.claim, []

    def claim_after_the_other_press(*args: Any, **kwargs: Any) -> bool:
        # When the other press runs to its end after this one read the draft, before it claims
        if not raced:
            raced.append(True)
            thread = threading.Thread(
                target=lambda: raced.append(
                    other.post("/orosanmalan/granska", data={"confirm": "ja"})
                )
            )
            thread.start()
            thread.join(timeout=60)
        return original(*args, **kwargs)

    monkeypatch.setattr(drafts, "claim", claim_after_the_other_press)
    late = client.post("/orosanmalan/granska", data={"confirm": "ja"})
    # Then both are sent to the one receipt, and only the first stored a report
    assert raced[1].status_code == 303 and raced[1].location == "/orosanmalan/kvitto"
    assert late.status_code == 303 and late.location == "/orosanmalan/kvitto"
    assert REFERENCE.search(client.get("/orosanmalan/kvitto").get_data(as_text=True))
    assert _reports(app) == 1


# --- the draft cookie lasts the browser session; the row expires on its own -------------------


def test_the_draft_cookie_ends_with_the_browser_session(app: Flask, client: FlaskClient) -> None:
    response = client.post("/orosanmalan/om-dig", data=PRIVATE_ANONYMOUS_CHILD["om-dig"])
    assert response.status_code == 302
    (cookie,) = [c for c in _set_cookies(response) if c.startswith("intake_session=")]
    assert "expires" not in cookie.lower() and "max-age" not in cookie.lower()
    with app.app_context():
        expires_at = db.session.scalar(sa.select(Draft.expires_at))
        lifetime = app.config["DRAFT_LIFETIME_SECONDS"]
        from intake import clock

        left = (expires_at - clock.now()).total_seconds()
    assert lifetime - 60 < left <= lifetime


# --- outages: 503 with every answer kept -------------------------------------------------------


def _echoed(html: str, fields: dict[str, str]) -> bool:
    return all(f'name="{k}" value="{escape(v)}"' in html for k, v in fields.items())


@pytest.fixture
def locked_sqlite(app: Flask) -> Iterator[Callable[[], Any]]:
    """A way to hold SQLite's write lock from another connection, as another process would."""
    if POSTGRES:
        pytest.skip("SQLite's file lock")
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    holders: list[sqlite3.Connection] = []

    def hold() -> sqlite3.Connection:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holders.append(holder)
        return holder

    yield hold
    for holder in holders:
        holder.rollback()
        holder.close()


def test_a_step_posted_while_sqlite_is_locked_comes_back_with_the_answers(
    app: Flask, client: FlaskClient, locked_sqlite: Callable[[], sqlite3.Connection]
) -> None:
    assert client.post("/orosanmalan/om-dig", data=PRIVATE_ANONYMOUS_CHILD["om-dig"]).status_code
    before = client.get_cookie("intake_session")
    holder = locked_sqlite()
    # When the step is posted while another connection holds the write lock past the timeout
    response = client.post(STEP_TWO, data=TYPED)
    # Then 503 with the Swedish message and every answer, escaped, ready to send again
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE in html and _echoed(html, TYPED) and "<b>" not in html
    assert not _set_cookies(response)  # the session is left as it was
    assert before is not None and client.get_cookie("intake_session").value == before.value
    # And once the lock is gone, sending again takes the answers
    holder.rollback()
    again = client.post(STEP_TWO, data=TYPED)
    assert again.status_code == 302 and again.location == "/orosanmalan/vardnadshavare"


def test_a_staff_post_while_sqlite_is_locked_gets_503_without_the_password(
    installation: Installation,
    monkeypatch: pytest.MonkeyPatch,
    locked_sqlite: Callable[[], sqlite3.Connection],
) -> None:
    fast_passwords(monkeypatch)
    locked_sqlite()
    form = {"email": "vem@alvsbyn.invalid", "password": PASSWORD}
    response = installation.app.test_client().post("/personal/logga-in", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert _echoed(html, {"email": form["email"]}) and PASSWORD not in html


def test_a_get_during_an_outage_is_a_plain_503(
    app: Flask, client: FlaskClient, locked_sqlite: Callable[[], sqlite3.Connection]
) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD)
    locked_sqlite()
    # The receipt page writes (the follow-up code is shown once)
    response = client.get("/orosanmalan/kvitto")
    assert response.status_code == 503
    assert "Tjänsten är tillfälligt otillgänglig" in response.get_data(as_text=True)


@pytest.mark.skipif(not POSTGRES, reason="a PostgreSQL backend to terminate")
def test_a_step_posted_over_a_dropped_postgresql_connection_is_no_500(
    app: Flask, client: FlaskClient
) -> None:
    assert client.post("/orosanmalan/om-dig", data=PRIVATE_ANONYMOUS_CHILD["om-dig"]).status_code
    # When every connection the app pooled is terminated by the server
    with app.app_context():
        url = db.engine.url
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    response = client.post(STEP_TWO, data=TYPED)
    # Then no 500: the step is taken, or the answers come back with the Swedish message
    html = response.get_data(as_text=True)
    assert response.status_code in (302, 503)
    if response.status_code == 503:
        assert UNAVAILABLE in html and _echoed(html, TYPED)
        response = client.post(STEP_TWO, data=TYPED)
    assert response.status_code == 302 and response.location == "/orosanmalan/vardnadshavare"


# --- the limiter's storage away -----------------------------------------------------------------


@pytest.fixture
def redis_away(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app whose rate limits live in a Redis on a port nobody listens on."""
    app = make_app(
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        RATELIMIT_SUBMIT="2 per minute",
    )
    with app.app_context():
        bootstrap.run_setup()
    yield app
    # The extension is one object for every app in this process: forget this outage.
    limiter._storage_dead = False


def test_with_redis_away_limits_degrade_to_memory_and_it_is_logged_once(
    redis_away: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    client = redis_away.test_client()
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    answers = [client.post("/orosanmalan/granska", data={}) for _ in range(3)]
    # The check page comes back (nothing confirmed) with the answers, until the limit
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Barnet är ofta hungrigt." in answers[0].get_data(as_text=True)
    falling = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(falling) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- a refused request never touches the session -------------------------------------------------


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask]) -> Flask:
    """An app with CSRF on, after setup."""
    app: Flask = make_app()
    with app.app_context():
        bootstrap.run_setup()
    return app


def _token_in(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def _token(client: FlaskClient, path: str) -> str:
    return _token_in(client.get(path).get_data(as_text=True))


CROSS_SITE = [
    ("/orosanmalan/om-dig", {"reporter_type": "privat", "anonymous": "ja"}),
    ("/orosanmalan/avbryt", {}),
    ("/personal/logga-ut", {}),
    ("/personal/logga-in", {"email": "a@b.se", "password": "x"}),
]


@pytest.mark.parametrize(("path", "form"), CROSS_SITE)
@pytest.mark.parametrize("site", ["cross-site", None])
def test_a_cross_site_post_without_cookies_sets_no_cookie_and_wipes_no_draft(
    csrf_app: Flask, path: str, form: dict[str, str], site: str | None
) -> None:
    # Given a resident with a draft in this browser
    resident = csrf_app.test_client()
    token = _token(resident, "/orosanmalan/om-dig")
    first = {**PRIVATE_ANONYMOUS_CHILD["om-dig"], "csrf_token": token}
    assert resident.post("/orosanmalan/om-dig", data=first).status_code == 302
    # When another site's form posts here (the browser sends no cookie: SameSite=Lax)
    stranger = csrf_app.test_client(use_cookies=False)
    headers = {"Sec-Fetch-Site": site} if site else {}
    response = stranger.post(path, data=form, headers=headers)
    # Then it is refused and sets no cookie, so the browser keeps its own session
    assert response.status_code == 400
    assert not _set_cookies(response)
    # And the resident's draft is still there
    assert 'value="privat" checked' in resident.get("/orosanmalan/om-dig").get_data(as_text=True)


def test_a_same_site_post_without_a_session_can_still_be_sent_again(csrf_app: Flask) -> None:
    # A tab restored after the browser was closed: this site, no cookie any more
    client = csrf_app.test_client()
    data = {**TYPED, "csrf_token": "stale"}
    response = client.post(STEP_TWO, data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400 and _set_cookies(response)
    html = response.get_data(as_text=True)
    assert _echoed(html, TYPED)
    token = _token_in(html)
    again = client.post(STEP_TWO, data={**TYPED, "csrf_token": token})
    assert again.status_code == 302  # the draft starts here: step one is asked next
