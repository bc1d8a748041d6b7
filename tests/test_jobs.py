"""Scheduled work: the daily digest per inbox (working days after 07:00 Stockholm time, once
a day, counts and a link only), retention and session clean-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import jobs, outbox
from intake.accounts.models import StaffSession
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Report

from .accounts.back_office import Clock, fast_passwords, freeze, stockholm, submit
from .staff_helpers import Installation

MONDAY = (2026, 3, 9)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock, moved only by the test."""
    return freeze(monkeypatch, stockholm(2026, 2, 20, 10, 0))


@pytest.fixture
def busy(installation: Installation, frozen: Clock) -> Installation:
    """Reports that make a Monday morning digest: see each one's comment."""
    app = installation.app
    # "Vuxna": decided three weeks ago, never registered in the case system
    decided = submit(app, subject_type="vuxen", what_happened="KANARIE vuxen")
    with app.app_context():
        report = db.session.get(Report, decided)
        assert report is not None
        report.assessed_at, report.decision, report.status = frozen(), "opened", "decided"
        db.session.commit()
    # "Barn och unga": Friday morning, not assessed (overdue on Monday)
    frozen.set(stockholm(2026, 3, 6, 10, 0))
    submit(app, what_happened="KANARIE fredag")
    # "Barn och unga": Monday at dawn (due the same day)
    frozen.set(stockholm(*MONDAY, 5, 30))
    submit(app, what_happened="KANARIE måndag")
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))  # the new-report notices
        db.session.commit()
    return installation


def digests(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """The digest mails queued so far: recipient and context."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template == "digest")
            .order_by(OutboxMessage.id)
        )
        return [(row.recipient, dict(row.context)) for row in rows]


def run(app: Flask) -> None:
    """One round of the worker's scheduled jobs."""
    with app.app_context():
        jobs.run_due()


def test_the_digest_counts_due_and_overdue_per_inbox(busy: Installation, frozen: Clock) -> None:
    # When the worker runs on Monday at 07:00 Stockholm time
    frozen.set(stockholm(*MONDAY, 7, 0))
    run(busy.app)
    # Then each inbox with something to do gets one mail of counts and a link
    mails = dict(digests(busy.app))
    assert set(mails) == {"barnochunga@alvsbyn.invalid", "vuxna@alvsbyn.invalid"}
    link = "http://127.0.0.1:5000/personal/inkorg"
    assert mails["barnochunga@alvsbyn.invalid"] == {
        "inbox": "Barn och unga",
        "due_today": 1,
        "overdue": 1,
        "unregistered": 0,
        "days": 14,
        "login_url": link,
    }
    assert mails["vuxna@alvsbyn.invalid"] == {
        "inbox": "Vuxna",
        "due_today": 0,
        "overdue": 0,
        "unregistered": 1,
        "days": 14,
        "login_url": link,
    }
    # And the mail holds nothing from any report
    with busy.app.app_context():
        references = db.session.scalars(sa.select(Report.reference)).all()
        for row in db.session.scalars(sa.select(OutboxMessage)):
            rendered = outbox.render(row)
            body = f"{rendered.subject}{rendered.body}{rendered.html}"
            assert "KANARIE" not in body
            assert not any(reference in body for reference in references)
            assert "Det här meddelandet innehåller inga uppgifter ur anmälningarna." in body


@pytest.mark.parametrize(
    ("moment", "sent"),
    [
        (stockholm(*MONDAY, 6, 59), False),
        (stockholm(*MONDAY, 7, 0), True),
        (stockholm(*MONDAY, 16, 0), True),
        # 06:30 UTC is 07:30 in Stockholm in winter, 08:30 in summer: the local hour counts
        (datetime(2026, 3, 9, 6, 30, tzinfo=UTC), True),
        (datetime(2026, 6, 15, 5, 30, tzinfo=UTC), True),
        (datetime(2026, 6, 15, 4, 30, tzinfo=UTC), False),
        (stockholm(2026, 3, 7, 10, 0), False),  # Saturday
        (stockholm(2026, 3, 8, 10, 0), False),  # Sunday
        (stockholm(2026, 4, 3, 10, 0), False),  # Good Friday
        (stockholm(2026, 6, 19, 10, 0), False),  # Midsummer Eve
        (stockholm(2026, 12, 24, 10, 0), False),  # Christmas Eve
    ],
)
def test_the_digest_goes_out_on_working_days_after_seven(
    busy: Installation, frozen: Clock, moment: datetime, sent: bool
) -> None:
    frozen.set(moment)
    run(busy.app)
    assert len(digests(busy.app)) == (2 if sent else 0)


def test_the_digest_goes_out_once_a_day(busy: Installation, frozen: Clock) -> None:
    # Given the worker ran early, then twice after seven, and a second worker too
    for hour, minute in [(6, 0), (7, 5), (7, 5), (15, 0)]:
        frozen.set(stockholm(*MONDAY, hour, minute))
        run(busy.app)
    second_worker = busy.app.test_cli_runner().invoke(args=["jobs", "run"])
    assert second_worker.exit_code == 0 and "Klart." in second_worker.output
    # Then Monday has one digest per inbox
    assert len(digests(busy.app)) == 2
    # And Tuesday its own
    frozen.set(stockholm(2026, 3, 10, 7, 30))
    run(busy.app)
    run(busy.app)
    assert len(digests(busy.app)) == 4


def test_a_day_that_is_not_claimed_early_still_gets_its_digest(
    busy: Installation, frozen: Clock
) -> None:
    # A run before seven must not use up the day (it only claims once the digest is due)
    frozen.set(stockholm(*MONDAY, 0, 5))
    run(busy.app)
    frozen.set(stockholm(*MONDAY, 7, 1))
    run(busy.app)
    assert len(digests(busy.app)) == 2


def test_a_quiet_inbox_gets_no_digest(installation: Installation, frozen: Clock) -> None:
    frozen.set(stockholm(*MONDAY, 8, 0))
    run(installation.app)
    assert digests(installation.app) == []


def test_the_worker_deletes_idle_staff_sessions(installation: Installation, frozen: Clock) -> None:
    app: Any = installation.app
    frozen.set(stockholm(*MONDAY, 8, 0))
    installation.add_user("bea@alvsbyn.invalid", "caseworker")
    installation.login(app.test_client(), "bea@alvsbyn.invalid")

    def sessions() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) or 0

    frozen.advance(minutes=29)
    run(app)
    assert sessions() == 1
    frozen.advance(minutes=2)
    run(app)
    assert sessions() == 0
