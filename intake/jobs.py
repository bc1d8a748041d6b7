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

from intake import appkeys, audit_anchors, clock, gallring, outbox
from intake.accounts import sessions, throttle
from intake.accounts.models import ADMIN, ORGANISER, User
from intake.dialogues import erasure, questions
from intake.dialogues import service as dialogues
from intake.extensions import db
from intake.reports import channel, drafts, handling, retention
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


def _digest_counts(inbox: Inbox, *, today: date, opens: time, closes: time) -> dict[str, int]:
    """Per inbox: the children's deadlines, återkoppling and registration, due or overdue."""
    counts = dict.fromkeys(
        (
            "due_today",
            "overdue",
            "feedback_due_today",
            "feedback_overdue",
            "unregistered_due_today",
            "unregistered_overdue",
        ),
        0,
    )
    # Answers from reporters that no caseworker has read yet (intake.reports.channel).
    counts["channel_answers"] = channel.waiting_counts(inbox.id)
    # Only reports with something still open: not purged, and not yet registered or decided
    # or with an återkoppling still to send.
    pending = db.session.scalars(
        sa.select(Report).where(
            Report.inbox_id == inbox.id,
            Report.purged_at.is_(None),
            sa.or_(
                Report.registered_on.is_(None),
                Report.decision.is_(None),
                sa.and_(Report.feedback_requested.is_(True), Report.feedback_sent_at.is_(None)),
            ),
        )
    )
    for report in pending:
        d = handling.deadlines(report, today=today, opens=opens, closes=closes)
        # Statutory child deadlines (none for reports about adults): one count per report.
        states = (d.skydd_state, d.forhand_state)
        counts["overdue"] += "overdue" in states
        counts["due_today"] += "due_today" in states and "overdue" not in states
        counts["feedback_overdue"] += d.feedback_state == "overdue"
        counts["feedback_due_today"] += d.feedback_state == "due_today"
        counts["unregistered_overdue"] += d.registration_state == "overdue"
        counts["unregistered_due_today"] += d.registration_state == "due_today"
    return counts


def daily_digest(*, now: datetime) -> int:
    """Mail each inbox counts of what is due today or overdue: deadlines and registration."""
    today = clock.local_date(now)
    cfg = current_app.config
    opens, closes = (
        time.fromisoformat(cfg["OFFICE_OPENS"]),
        time.fromisoformat(cfg["OFFICE_CLOSES"]),
    )
    sent = 0
    for inbox in db.session.scalars(sa.select(Inbox).where(Inbox.notification_email.is_not(None))):
        counts = _digest_counts(inbox, today=today, opens=opens, closes=closes)
        if any(counts.values()):
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
