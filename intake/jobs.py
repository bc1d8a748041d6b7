"""Scheduled work the worker runs every JOBS_INTERVAL_SECONDS. Each job is idempotent; the
daily ones remember the last day they ran, so a restart or a second worker does not repeat
them."""

from __future__ import annotations

import logging
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
from intake.reports import drafts, retention
from intake.reports.models import Inbox, Report

log = logging.getLogger(__name__)
DIGEST_AFTER = time(7, 0)
UNREGISTERED_REMINDER_DAYS = 14


class JobRun(db.Model):  # type: ignore[name-defined]
    """The last day a daily job ran."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    last_run_on: Mapped[date] = mapped_column(sa.Date)


def _claim_day(name: str, today: date) -> bool:
    """Mark the job as run today; False if it already ran (atomic across workers)."""
    updated = db.session.execute(
        sa.update(JobRun)
        .where(JobRun.name == name, JobRun.last_run_on < today)
        .values(last_run_on=today)
    )
    if updated.rowcount == 1:  # type: ignore[attr-defined]
        db.session.commit()
        return True
    if db.session.get(JobRun, name) is None:
        db.session.add(JobRun(name=name, last_run_on=today))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return False
        return True
    db.session.rollback()
    return False


def daily_digest(*, now: datetime) -> int:
    """Mail each inbox a count of reports due today or overdue, and unregistered ones."""
    today = clock.local_date(now)
    cfg = current_app.config
    opens, closes = (
        time.fromisoformat(cfg["OFFICE_OPENS"]),
        time.fromisoformat(cfg["OFFICE_CLOSES"]),
    )
    sent = 0
    for inbox in db.session.scalars(sa.select(Inbox).where(Inbox.notification_email.is_not(None))):
        due_today = overdue = 0
        open_reports = db.session.scalars(
            sa.select(Report).where(
                Report.inbox_id == inbox.id, Report.purged_at.is_(None), Report.decision.is_(None)
            )
        )
        for report in open_reports:
            states = [
                None
                if report.assessed_at
                else clock.deadline_state(
                    clock.skyddsbedomning_due(report.received_at, opens=opens, closes=closes),
                    today=today,
                ),
                clock.deadline_state(clock.forhandsbedomning_due(report.received_at), today=today),
            ]
            overdue += "overdue" in states
            due_today += "due_today" in states and "overdue" not in states
        cutoff = now - timedelta(days=UNREGISTERED_REMINDER_DAYS)
        unregistered = retention.unregistered(inbox.id, received_before=cutoff)
        if due_today or overdue or unregistered:
            assert inbox.notification_email is not None
            outbox.enqueue(
                "digest",
                inbox.notification_email,
                {
                    "inbox": inbox.name,
                    "due_today": due_today,
                    "overdue": overdue,
                    "unregistered": unregistered,
                    "days": UNREGISTERED_REMINDER_DAYS,
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


def run_due() -> None:
    """Run every scheduled job that is due."""
    now = clock.now()
    keys = appkeys.keys()
    dialogues.send_reminders(now=now, keys=keys, links=dialogue_links())
    purged = drafts.purge_expired()
    if purged:
        log.info("deleted %s expired drafts", purged)
    sessions.purge_expired(idle=timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"]))
    throttle.purge_expired(now=now)
    local = now.astimezone(clock.STOCKHOLM)
    today = local.date()
    if clock.is_working_day(today) and local.time() >= DIGEST_AFTER and _claim_day("digest", today):
        log.info("daily digest: %s inboxes told", daily_digest(now=now))
    if _claim_day("audit_anchor", today):
        anchor = audit_anchors.write()
        if anchor is not None:
            log.info("audit trail anchored at row %s", anchor.seq)
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
    if (
        clock.is_working_day(today)
        and local.time() >= DIGEST_AFTER
        and _claim_day("organiser_reminder", today)
    ):
        remind_organisers(now=now)
