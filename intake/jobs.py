"""Scheduled work the worker runs every JOBS_INTERVAL_SECONDS. Each job is idempotent; the
daily ones remember the last day they ran, so a restart or a second worker does not repeat
them. A daily job claims its day before it runs (so two workers never both run it) and hands
the day back if it fails, so the next round tries again instead of waiting for tomorrow."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from intake import appkeys, audit_anchors, clock, gallring, law, outbox
from intake.accounts import sessions, throttle
from intake.accounts.models import ADMIN, ORGANISER, User
from intake.dialogues import erasure, questions
from intake.dialogues import service as dialogues
from intake.extensions import db
from intake.reports import channel, drafts, handling, next_deadline, retention, tally
from intake.reports.models import Inbox, Report

log = logging.getLogger(__name__)
DIGEST_AFTER = time(7, 0)


class JobRun(db.Model):  # type: ignore[name-defined]
    """The last day a daily job ran."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    last_run_on: Mapped[date] = mapped_column(sa.Date)


# The day each daily job held before this process claimed it today, to hand it back on failure.
_claimed: dict[str, date | None] = {}


def _claim_day(name: str, today: date) -> bool:
    """Mark the job as run today; False if it already ran (atomic across workers)."""
    previous = db.session.scalar(sa.select(JobRun.last_run_on).where(JobRun.name == name))
    updated = db.session.execute(
        sa.update(JobRun)
        .where(JobRun.name == name, JobRun.last_run_on < today)
        .values(last_run_on=today)
    )
    if updated.rowcount == 1:  # type: ignore[attr-defined]
        db.session.commit()
        _claimed[name] = previous
        return True
    if db.session.get(JobRun, name) is None:
        db.session.add(JobRun(name=name, last_run_on=today))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return False
        _claimed[name] = None
        return True
    db.session.rollback()
    return False


def _release_day(name: str, today: date) -> None:
    """Hand back today's claim of a daily job that failed, so the next round runs it again."""
    if name not in _claimed:
        return
    previous = _claimed.pop(name)
    mine = sa.and_(JobRun.name == name, JobRun.last_run_on == today)
    if previous is None:
        db.session.execute(sa.delete(JobRun).where(mine))
    else:
        db.session.execute(sa.update(JobRun).where(mine).values(last_run_on=previous))
    db.session.commit()


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.STOCKHOLM)


def _count(inbox_id: int, *where: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(Report)
    found = db.session.scalar(
        query.where(Report.inbox_id == inbox_id, Report.purged_at.is_(None), *where)
    )
    return found or 0


def _digest_counts(inbox: Inbox, *, today: date) -> dict[str, int]:
    """Per inbox: the children's deadlines, återkoppling, registration and assignment, counted
    in SQL from plain columns (the stored next deadline, intake.reports.next_deadline)."""
    statutory = Report.next_deadline_kind.in_((next_deadline.SKYDD, next_deadline.FORHAND))
    feedback = Report.next_deadline_kind == next_deadline.FEEDBACK
    # Registration is due the working day after receipt (clock.registration_due): overdue
    # when received before the last working day before today, due today when received on or
    # after it (and today is a working day).
    last_working_day = clock.add_working_days(today, -law.REGISTRATION_WORKING_DAYS)
    unregistered = Report.registered_on.is_(None)
    since = _local_midnight(last_working_day)
    open_report = sa.and_(unregistered, Report.status != handling.PURGED)
    return {
        "due_today": _count(inbox.id, statutory, Report.next_deadline == today),
        "overdue": _count(inbox.id, statutory, Report.next_deadline < today),
        "feedback_due_today": _count(inbox.id, feedback, Report.next_deadline == today),
        "feedback_overdue": _count(inbox.id, feedback, Report.next_deadline < today),
        "unregistered_due_today": (
            _count(
                inbox.id,
                unregistered,
                Report.received_at >= since,
                Report.received_at < _local_midnight(today),
            )
            if clock.is_working_day(today)
            else 0
        ),
        "unregistered_overdue": _count(inbox.id, unregistered, Report.received_at < since),
        # Answers from reporters that no caseworker has read yet (intake.reports.channel).
        "channel_answers": channel.waiting_counts(inbox.id),
        # Reports not yet registered, with and without a caseworker (issue 13 §2): counts only.
        "unassigned": _count(inbox.id, open_report, Report.assigned_to_id.is_(None)),
        "assigned": _count(inbox.id, open_report, Report.assigned_to_id.is_not(None)),
    }


def daily_digest(*, now: datetime) -> int:
    """Mail each inbox counts of what is due today or overdue: deadlines and registration."""
    today = clock.local_date(now)
    cfg = current_app.config
    sent = 0
    for inbox in db.session.scalars(sa.select(Inbox).where(Inbox.notification_email.is_not(None))):
        counts = _digest_counts(inbox, today=today)
        # Reports in hand with a caseworker are no reason on their own to send a mail.
        if any(count for name, count in counts.items() if name != "assigned"):
            assert inbox.notification_email is not None
            outbox.enqueue(
                "digest",
                inbox.notification_email,
                {
                    "inbox": inbox.name,
                    **counts,
                    "login_url": f"{cfg['BASE_URL']}/personal/inkorg",
                },
            )
            sent += 1
    db.session.commit()
    return sent


def dialogue_links() -> dialogues.MailLinks:
    """Mail links for dialogue mails sent by the worker."""
    cfg = current_app.config
    return dialogues.MailLinks(base_url=cfg["BASE_URL"], secret_key=str(cfg["SECRET_KEY"]))


def remind_organisers(*, now: datetime) -> int:
    """Tell organisers about ended dialogues that still lack a held report."""
    missing = questions.ended_without_report(now=now)
    if not missing:
        return 0
    recipients = db.session.scalars(
        sa.select(User.email).where(User.role.in_([ORGANISER, ADMIN]), User.active.is_(True))
    ).all()
    for email in recipients:
        outbox.enqueue(
            "dialogue_report_missing",
            email,
            {
                "count": len(missing),
                "login_url": f"{current_app.config['BASE_URL']}/personal/dialoger/",
            },
        )
    db.session.commit()
    return len(recipients)


def _reminders(now: datetime) -> None:
    dialogues.send_reminders(now=now, keys=appkeys.keys(), links=dialogue_links())


def _drafts(now: datetime) -> None:
    purged = drafts.purge_expired()
    if purged:
        log.info("deleted %s expired drafts", purged)


def _sessions(now: datetime) -> None:
    sessions.purge_expired(idle=timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"]))


def _throttle(now: datetime) -> None:
    throttle.purge_expired(now=now)


def _digest(now: datetime) -> None:
    local = now.astimezone(clock.STOCKHOLM)
    today = local.date()
    if clock.is_working_day(today) and local.time() >= DIGEST_AFTER and _claim_day("digest", today):
        log.info("daily digest: %s inboxes told", daily_digest(now=now))


def _anchor(now: datetime) -> None:
    if anchor := audit_anchors.write_if_due(now=now):
        log.info("audit trail anchored at row %s", anchor.seq)


def _retention(now: datetime) -> None:
    today = clock.local_date(now)
    if _claim_day("retention", today):
        # Each class goes under its own gallringsbeslut (intake.gallring); a class without one
        # is skipped with a warning, nothing of it deleted, and the others still run.
        try:
            if gone := retention.purge(today=today):
                log.info("retention: purged %s reports", len(gone))
        except gallring.NoDecision as refused:
            db.session.rollback()
            log.warning("retention: %s", refused)
        try:
            if erased := erasure.erase_registrants(now=now):
                log.info("erased registrants of %s dialogues", len(erased))
        except gallring.NoDecision as refused:
            db.session.rollback()
            log.warning("retention: %s", refused)
        try:
            contacts = erasure.erase_contacts(now=now)  # askers' names and e-mails only
        except gallring.NoDecision as refused:
            db.session.rollback()
            log.warning("retention: %s", refused)
            contacts = []
        if count := sum(item.count for item in contacts):
            log.info("erased the askers' contact details of %s questions", count)
        if waiting := sum(item.waiting for item in contacts):
            log.warning(
                "%s questions are due for erasure of the asker's contact details but are still "
                "sealed in one piece: a member of Medborgardialog must open a questions page once",
                waiting,
            )


def _tally(now: datetime) -> None:
    # PostgreSQL's pending changes to the inbox counts, folded in (intake.reports.tally).
    tally.fold()


def _organisers(now: datetime) -> None:
    local = now.astimezone(clock.STOCKHOLM)
    today = local.date()
    if (
        clock.is_working_day(today)
        and local.time() >= DIGEST_AFTER
        and _claim_day("organiser_reminder", today)
    ):
        remind_organisers(now=now)


# In this order, each on its own (intake.worker runs them every JOBS_INTERVAL_SECONDS).
JOBS: tuple[tuple[str, Callable[[datetime], None]], ...] = (
    ("reminders", _reminders),
    ("drafts", _drafts),
    ("sessions", _sessions),
    ("throttle", _throttle),
    ("digest", _digest),
    ("audit_anchor", _anchor),
    ("retention", _retention),
    ("organiser_reminder", _organisers),
    ("report_tally", _tally),
)


def run_due() -> list[str]:
    """Run every scheduled job that is due; one that fails is rolled back and logged and the
    others still run. Returns the names of the jobs that failed."""
    now = clock.now()
    failed: list[str] = []
    for name, job in JOBS:
        _claimed.pop(name, None)
        try:
            job(now)
        except Exception as error:  # one job must never stop the others
            db.session.rollback()
            # The class only: a database error's text can carry the row's values.
            log.error("job %s failed: %s", name, type(error).__name__)
            failed.append(name)
            try:
                _release_day(name, clock.local_date(now))
            except Exception as release_error:  # the database may be what failed
                db.session.rollback()
                log.error("job %s keeps today's claim: %s", name, type(release_error).__name__)
        finally:
            _claimed.pop(name, None)
    return failed
