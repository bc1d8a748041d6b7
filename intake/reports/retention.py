"""Retention (gallring): content is purged N days after the report was registered in the
case management system, N from the gallringsbeslut recorded for report content
(intake.gallring); without one nothing is purged (NoDecision). Unregistered reports are never
purged; they raise reminders.

A report is never purged before N days have passed since it was received either, whatever
registration date was typed (a `0001-01-01` typo must not destroy a report received today).

A purge deletes every sealed part (answers, assessment note, reporter additions, the case
notes' rows), the
follow-up code and the linking tag, and keeps a content-free tombstone (reference, dates,
handling decision, the gallringsbeslut it was purged under) and its audit rows. On PostgreSQL
the purged tables are then rewritten (gallring.reclaim), so the ciphertext leaves the
table files too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from intake import audit, clock, gallring
from intake.extensions import db
from intake.reports import casenotes, channel
from intake.reports.models import Inbox, Report, ReportMessage


@dataclass(frozen=True)
class Due:
    """A report whose content is due for purging."""

    report_id: str
    reference: str
    inbox: str
    registered_on: date
    purge_on: date


def due(*, today: date, decision: gallring.RetentionDecision | None = None) -> list[Due]:
    """Registered reports whose retention period (from the decision valid today) is over,
    counted from registration and from receipt, that still hold content. NoDecision if none."""
    if decision is None:
        decision = gallring.require(gallring.REPORT_CONTENT, on=today)
    days = timedelta(days=decision.retention_days)
    rows = db.session.execute(
        sa.select(Report, Inbox)
        .join(Inbox, Inbox.id == Report.inbox_id)
        .where(Report.registered_on.is_not(None), Report.purged_at.is_(None))
        .order_by(Report.registered_on)
    ).all()
    found = []
    for report, inbox in rows:
        assert report.registered_on is not None
        received_on = clock.local_date(report.received_at)
        purge_on = max(report.registered_on, received_on) + days
        if purge_on <= today:
            found.append(
                Due(report.id, report.reference, inbox.name, report.registered_on, purge_on)
            )
    return found


def purge(*, today: date) -> list[Due]:
    """Purge what is due under the decision valid today; returns what went. Commits. Raises
    NoDecision (and purges nothing) when no gallringsbeslut for report content is recorded."""
    decision = gallring.require(gallring.REPORT_CONTENT, on=today)
    gone = due(today=today, decision=decision)
    for item in gone:
        report = db.session.get(Report, item.report_id)
        assert report is not None
        report.sealed = None
        report.assessment_note = None
        report.followup_hash = None
        report.followup_lookup = None
        report.link_tag = None  # derived from the personnummer: it goes with the content
        report.channel_public_key, report.channel_flag = None, None
        channel.purge(report.id)
        casenotes.purge(report.id)
        report.purged_at = clock.now()
        report.purge_decision_id = decision.id
        report.status = "purged"
        db.session.execute(
            sa.update(ReportMessage).where(ReportMessage.report_id == report.id).values(sealed=None)
        )
        audit.record(
            "report_purged",
            actor_id=None,
            actor="gallring",
            target_type="report",
            target_id=report.id,
            decision=decision.describe(),
            decision_id=decision.id,
        )
    db.session.commit()
    if gone:
        gallring.reclaim("report", "report_message", "channel_message", "case_note")
    return gone


def unregistered(inbox_id: int, *, received_before: datetime) -> int:
    """Reports of an inbox received before a moment and still not registered (reminders)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(
                Report.inbox_id == inbox_id,
                Report.registered_on.is_(None),
                Report.purged_at.is_(None),
                Report.received_at < received_before,
            )
        )
        or 0
    )
