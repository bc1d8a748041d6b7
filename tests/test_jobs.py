"""Scheduled work: the daily digest per inbox (working days after 07:00 Stockholm time, once
a day, counts and a link only), retention (reports, dialogue registrants, askers' contact
details) and session clean-up."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap, jobs, outbox
from intake.accounts.models import SignInThrottle, StaffSession
from intake.crypto import sealing
from intake.dialogues import questions
from intake.dialogues.models import Dialogue, Question
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Inbox, Report

from .accounts.back_office import Clock, fast_passwords, freeze, stockholm, submit
from .dialogues.helpers import new_dialogue
from .gallring_helpers import decide
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
    # (registration is due the working day after receipt: Friday's report is due today)
    assert mails["barnochunga@alvsbyn.invalid"] == {
        "inbox": "Barn och unga",
        "due_today": 1,
        "overdue": 1,
        "feedback_due_today": 0,
        "feedback_overdue": 0,
        "unregistered_due_today": 1,
        "unregistered_overdue": 0,
        "channel_answers": 0,
        "unassigned": 2,
        "assigned": 0,
        "login_url": link,
    }
    assert mails["vuxna@alvsbyn.invalid"] == {
        "inbox": "Vuxna",
        "due_today": 0,
        "overdue": 0,
        "feedback_due_today": 0,
        "feedback_overdue": 0,
        "unregistered_due_today": 0,
        "unregistered_overdue": 1,
        "channel_answers": 0,
        "unassigned": 1,
        "assigned": 0,
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


def _ask(app: Flask, dialogue_id: int, *, whole: bool = False) -> str:
    """A named question with an e-mail; `whole`: sealed in one piece, as before 0008."""
    with app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        if not whole:
            contact = {"name": "Kalle", "email": "kalle@example.com"}
            return questions.submit_question(dialogue, text="Fler poliser?", theme="", **contact).id
        inbox = db.session.scalar(sa.select(Inbox).where(Inbox.slug == questions.QUESTION_INBOX))
        assert inbox is not None
        question = Question(
            id=str(uuid.uuid4()),
            dialogue_id=dialogue_id,
            inbox_id=inbox.id,
            received_at=dialogue.starts_at,
        )
        plain = json.dumps({"text": "Mörkt?", "name": "Lisa", "email": "lisa@example.com"})
        context = questions.question_context(question.id, dialogue_id, inbox.id)
        question.sealed = sealing.seal(plain.encode(), inbox.public_key, context=context)
        db.session.add(question)
        db.session.commit()
        return question.id


def _contact(installation: Installation, question_id: str) -> tuple[str, str]:
    """The asker's name and e-mail as a member of Medborgardialog reads them."""
    with installation.app.app_context():
        inbox = installation.inbox("Medborgardialog")
        key = bootstrap.unlock_with_recovery_code(
            inbox, installation.recovery_codes["Medborgardialog"]
        )
        question = db.session.get(Question, question_id)
        assert question is not None
        opened = questions.open_question(question, key)
        return opened["name"], opened["email"]


def test_the_retention_round_erases_askers_contact_details(
    installation: Installation, frozen: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    decide(installation.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    # Given a question sent before a dialogue, and one from before 0008 sealed in one piece
    app = installation.app
    dialogue_id = new_dialogue(app, starts_at=frozen() + timedelta(days=1))
    asked, whole = _ask(app, dialogue_id), _ask(app, dialogue_id, whole=True)
    ends = frozen() + timedelta(days=1, hours=2)
    caplog.set_level(logging.INFO, logger="intake.jobs")
    # When the worker runs 30 days after the dialogue, nothing is erased yet
    frozen.set(ends + timedelta(days=30))
    run(app)
    assert _contact(installation, asked) == ("Kalle", "kalle@example.com")
    assert "contact details" not in caplog.text
    # When it runs the next day
    frozen.set(ends + timedelta(days=31))
    run(app)
    # Then the asker's name and e-mail are gone, and the log says how many
    assert _contact(installation, asked) == ("", "")
    assert "erased the askers' contact details of 1 questions" in caplog.text
    # And the question sealed in one piece is kept whole, with a warning that it waits
    assert _contact(installation, whole) == ("Lisa", "lisa@example.com")
    assert "1 questions are due for erasure" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # And the round runs once a day: a second run the same day neither erases nor warns again
    caplog.clear()
    run(app)
    assert "contact details" not in caplog.text and "due for erasure" not in caplog.text


@pytest.mark.parametrize(
    ("hours", "left"),
    [
        (23, 2),  # both still counted
        (24.5, 1),  # the older one is forgotten, the newer kept
        (48, 0),
    ],
)
def test_the_worker_forgets_old_sign_in_failures(
    installation: Installation, frozen: Clock, hours: float, left: int
) -> None:
    app: Any = installation.app
    frozen.set(stockholm(*MONDAY, 8, 0))
    # Given failed sign-ins with an address that has no account, and an hour later another
    client = app.test_client()
    client.post("/personal/logga-in", data={"email": "ingen@alvsbyn.invalid", "password": "x"})
    frozen.advance(hours=1)
    client.post("/personal/logga-in", data={"email": "okand@alvsbyn.invalid", "password": "x"})
    frozen.advance(hours=-1)

    def rows() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(SignInThrottle)) or 0

    assert rows() == 2
    # When the worker runs some hours after the first
    frozen.advance(hours=hours)
    run(app)
    # Then the rows a day past their last failure are gone
    assert rows() == left


def test_a_daily_job_that_fails_hands_its_day_back(
    busy: Installation, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the digest fails once on Monday morning (say the database went away mid-round)
    real = jobs.daily_digest
    calls: list[datetime] = []

    def flaky(*, now: datetime) -> int:
        calls.append(now)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT", {}, Exception("gone"))
        return real(now=now)

    monkeypatch.setattr(jobs, "daily_digest", flaky)
    frozen.set(stockholm(*MONDAY, 7, 5))
    with busy.app.app_context():
        assert jobs.run_due() == ["digest"]
    assert digests(busy.app) == []
    # Then the next round runs it again the same day, and only once
    frozen.set(stockholm(*MONDAY, 7, 6))
    run(busy.app)
    run(busy.app)
    assert len(calls) == 2
    assert len(digests(busy.app)) == 2


def test_a_first_ever_daily_run_that_fails_is_retried(
    installation: Installation, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no job_run row yet for retention, and a purge that fails once
    calls: list[object] = []

    def flaky(*, today: object) -> list[object]:
        calls.append(today)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return []

    monkeypatch.setattr(jobs.retention, "purge", flaky)
    with installation.app.app_context():
        db.session.execute(sa.delete(jobs.JobRun))
        db.session.commit()
        assert "retention" in jobs.run_due()
        assert db.session.get(jobs.JobRun, "retention") is None
        assert "retention" not in jobs.run_due()
        assert db.session.get(jobs.JobRun, "retention") is not None
    assert len(calls) == 2
