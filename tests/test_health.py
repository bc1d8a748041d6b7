"""Liveness (intake.health): /healthz, /readyz, the admin overview's banner and `doctor`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import clock, create_app, health, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage

from .conftest import base_config
from .staff_helpers import Installation

FACTS = {
    "ready",
    "database",
    "migrations",
    "worker_fresh",
    "worker_heartbeat_age_seconds",
    "worker_stale_after_seconds",
    "oldest_unsent_mail_age_seconds",
    "mail_stale_after_seconds",
    "failed_mails",
}
ADMIN = "chef@example.org"


def beat(app: Flask, seconds_ago: int = 0) -> None:
    """A worker's heartbeat some seconds ago."""
    with app.app_context():
        moment = clock.now() - timedelta(seconds=seconds_ago)
        health.beat("test-worker", started_at=moment, now=moment)


def queue_mail(app: Flask, *, minutes_ago: int = 0, failed: bool = False) -> None:
    """An outbox row created some minutes ago, optionally given up."""
    with app.app_context():
        outbox.enqueue("new_report", "secret.person@example.org", {"inbox": "X", "acute": False})
        db.session.commit()
        row = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert row is not None
        row.created_at = clock.now() - timedelta(minutes=minutes_ago)
        if failed:
            row.failed_at, row.attempts, row.last_error = clock.now(), 12, "UnicodeEncodeError"
            row.recipient_protected = None
        db.session.commit()


def readyz(app: Flask) -> tuple[int, dict[str, Any]]:
    """Status and JSON of /readyz, checking that no cookie is set."""
    response = app.test_client().get("/readyz")
    assert "Set-Cookie" not in response.headers
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == FACTS
    return response.status_code, body


def test_healthz_answers_ok_without_a_cookie(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_with_a_fresh_worker_and_no_trouble(app: Flask) -> None:
    # Given a worker that just beat and mail that just queued
    beat(app)
    queue_mail(app)
    # Then /readyz says ready, with only its facts
    status, body = readyz(app)
    assert status == 200, body
    assert body["ready"] is True and body["database"] is True and body["migrations"] is True
    assert body["worker_heartbeat_age_seconds"] <= 1
    assert body["oldest_unsent_mail_age_seconds"] <= 1
    assert body["failed_mails"] == 0


@pytest.mark.parametrize(
    ("arrange", "fact", "value"),
    [
        (lambda app: None, "worker_fresh", False),
        (lambda app: beat(app, seconds_ago=301), "worker_fresh", False),
        (lambda app: (beat(app), queue_mail(app, minutes_ago=31)), "failed_mails", 0),
        (lambda app: (beat(app), queue_mail(app, failed=True)), "failed_mails", 1),
    ],
    ids=["no-worker", "stale-worker", "mail-waiting-too-long", "failed-mail"],
)
def test_readyz_is_503_when_something_needs_an_operator(
    app: Flask, arrange: Callable[[Flask], object], fact: str, value: object
) -> None:
    arrange(app)
    status, body = readyz(app)
    assert status == 503
    assert body["ready"] is False
    assert body[fact] == value


def test_readyz_notices_a_database_behind_the_code(app: Flask) -> None:
    beat(app)
    with app.app_context():
        [head] = db.session.scalars(sa.text("SELECT version_num FROM alembic_version")).all()
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    try:
        status, body = readyz(app)
        assert (status, body["database"], body["migrations"]) == (503, True, False)
    finally:
        # On PostgreSQL the next test reuses this database (only its rows are emptied).
        with app.app_context():
            db.session.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )
            db.session.commit()


def test_readyz_says_so_when_the_database_is_unreachable(tmp_path: Any) -> None:
    app = create_app(base_config(f"sqlite:///{tmp_path}/no/such/dir/intake.sqlite3"))
    status, body = readyz(app)
    assert (status, body["database"], body["migrations"]) == (503, False, None)
    with app.app_context():
        db.engine.dispose()


def test_doctor_prints_the_same_and_exits_by_health(app: Flask) -> None:
    # Given no worker yet and one failed mail
    queue_mail(app, failed=True)
    result = app.test_cli_runner().invoke(args=["doctor"])
    # Then doctor says what is wrong and exits 1, naming the mail's kind but not its address
    assert result.exit_code == 1, result.output
    assert "FEL  Ingen arbetare har gett livstecken" in result.output
    assert "E-post som gett upp de senaste 7 dagarna: 1." in result.output
    assert "new_report" in result.output and "UnicodeEncodeError" in result.output
    assert "secret.person" not in result.output
    assert "Något behöver åtgärdas." in result.output
    # When the worker beats and the failed mail is older than the window
    beat(app)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(failed_at=clock.now() - timedelta(days=8))
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("Allt fungerar.")


def test_the_admin_overview_shows_a_banner_with_failed_mail(installation: Installation) -> None:
    # Given an admin, a stale worker and a mail the outbox gave up on
    installation.add_user(ADMIN, "admin")
    app = installation.app
    beat(app, seconds_ago=3600)
    queue_mail(app, failed=True)
    client = app.test_client()
    installation.login(client, ADMIN)
    # When the admin opens the overview
    html = client.get("/personal/").get_data(as_text=True)
    # Then a banner says what is wrong, with the count and each failed mail's kind and error
    assert "Tjänsten behöver tillsyn" in html
    assert "har inte gett livstecken på 60 minuter" in html
    assert "1 e-postmeddelande har inte kunnat skickas de senaste 7 dagarna." in html
    assert "new_report" in html and "UnicodeEncodeError" in html
    assert "secret.person" not in html


def test_no_banner_when_all_is_well_or_for_other_staff(installation: Installation) -> None:
    installation.add_user(ADMIN, "admin")
    installation.add_user("bea@example.org", "caseworker", inboxes=("Barn och unga",))
    app = installation.app
    queue_mail(app, failed=True)
    caseworker = app.test_client()
    installation.login(caseworker, "bea@example.org")
    assert "Tjänsten behöver tillsyn" not in caseworker.get("/personal/").get_data(as_text=True)
    beat(app)
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
    admin = app.test_client()
    installation.login(admin, ADMIN)
    assert "Tjänsten behöver tillsyn" not in admin.get("/personal/").get_data(as_text=True)
