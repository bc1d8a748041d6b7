"""Moving a report to another inbox of the same kind, re-sealed to that inbox's key.

An inbox's kind comes from the routing rules that send reports to it: a rule for a child or
a young adult (intake.law.CHILD_RULES_SUBJECTS: the children's deadlines apply) makes it an
inbox for children, a rule for an adult or an elderly person one for adults, a rule for any
subject both. A report may move only to an inbox that takes reports of its own kind, so a
report about a child never lands where the children's deadlines are not kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from intake import audit, law, outbox
from intake.accounts.models import User
from intake.crypto import custody, sealing
from intake.extensions import db
from intake.reports import assignment, casenotes, channel, handling, service
from intake.reports.models import Inbox, Report, RoutingRule

CHILDREN, ADULTS = "barn", "vuxna"


def kinds_of_subject(subject_type: str | None) -> frozenset[str]:
    """The kinds of inbox a routing rule for this subject type makes (None: any subject)."""
    if subject_type is None:
        return frozenset({CHILDREN, ADULTS})
    return frozenset({CHILDREN if subject_type in law.CHILD_RULES_SUBJECTS else ADULTS})


def report_kind(report: Report) -> str:
    """A report's kind: children's (the children's deadlines apply) or adults'."""
    return CHILDREN if handling.child_rules(report) else ADULTS


def inbox_kinds() -> dict[int, frozenset[str]]:
    """Each inbox's kinds, from the routing rules (an inbox no rule names has none)."""
    kinds: dict[int, frozenset[str]] = {}
    for inbox_id, subject_type in db.session.execute(
        sa.select(RoutingRule.inbox_id, RoutingRule.subject_type)
    ):
        kinds[inbox_id] = kinds.get(inbox_id, frozenset()) | kinds_of_subject(subject_type)
    return kinds


def targets(report: Report) -> list[Inbox]:
    """The inboxes this report may move to: of its kind, other than its own, by name (the
    routing rules read in the same statement; as inbox_kinds)."""
    child = RoutingRule.subject_type.in_(sorted(law.CHILD_RULES_SUBJECTS))
    of_kind = RoutingRule.subject_type.is_(None) | (
        child if report_kind(report) == CHILDREN else ~child
    )
    return list(
        db.session.scalars(
            sa.select(Inbox)
            .where(
                Inbox.id.in_(sa.select(RoutingRule.inbox_id).where(of_kind)),
                Inbox.id != report.inbox_id,
            )
            .order_by(Inbox.name)
        )
    )


def move(
    report: Report, target: Inbox, secret: custody.InboxSecret, *, user: User, base_url: str
) -> None:
    """Move a report to another inbox of its kind: every sealed part is re-sealed to the
    target's key. Commits."""
    if target.id == report.inbox_id:
        raise handling.HandlingError("Anmälan finns redan i den inkorgen.")
    if report.sealed is None:
        raise handling.HandlingError("Anmälan är gallrad.")
    if report_kind(report) not in inbox_kinds().get(target.id, frozenset()):
        raise handling.HandlingError(
            _l(
                "Anmälan gäller ett barn eller en ung vuxen och kan bara flyttas till en inkorg"
                " för barn och unga."
            )
            if report_kind(report) == CHILDREN
            else _l("Anmälan gäller en vuxen och kan bara flyttas till en inkorg för vuxna.")
        )
    answers = service.open_answers(report, secret.private)
    note = None
    if report.assessment_note is not None:
        note = sealing.open_sealed(
            report.assessment_note, secret.private, context=handling.note_context(report)
        )
    texts = [
        (
            m,
            sealing.open_sealed(
                m.sealed, secret.private, context=handling.message_context(m, report.inbox_id)
            ),
        )
        for m in report.messages
        if m.sealed is not None
    ]
    source = report.inbox_id
    if report.assigned_to_id not in {u.id for u in assignment.assignable(target.id)}:
        report.assigned_to_id = None  # the caseworker cannot read the target inbox
    channel.reseal_for_move(report, secret, target)
    casenotes.reseal_for_move(report, secret, target)
    report.inbox_id = target.id
    report.sealed = service.seal_answers(
        answers,
        report_id=report.id,
        inbox_id=target.id,
        public_key=target.public_key,
        version=report.schema_version,
    )
    if note is not None:
        report.assessment_note = sealing.seal(
            note, target.public_key, context=handling.note_context(report)
        )
    for message, text in texts:
        message.sealed = sealing.seal(
            text, target.public_key, context=handling.message_context(message, target.id)
        )
    if target.notification_email:
        outbox.enqueue(
            "new_report",
            target.notification_email,
            {
                "inbox": target.name,
                "acute": report.acute,
                "acute_answer": report.acute_answer,
                "login_url": f"{base_url}/personal/",
            },
        )
    audit.record(
        "report_moved",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
        source=source,
        target=target.id,
    )
    db.session.commit()
