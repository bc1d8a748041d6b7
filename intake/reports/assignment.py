"""Assigning a report to a named caseworker (issue 13 §2): a member of the report's inbox.

Plain functions; the view checks that the acting user is a member of the inbox too. Every
assignment, re-assignment and un-assignment goes through `assign` and the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import gettext as _

from intake import audit
from intake.accounts.models import Membership, User
from intake.extensions import db
from intake.reports.models import Report


class AssignmentError(Exception):
    """The chosen caseworker cannot take the report; the message is Swedish."""


def assignable(inbox_id: int) -> list[User]:
    """Active staff who are members of the inbox (and so can read its reports), by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.inbox_id == inbox_id, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def assign(report: Report, assignee_id: int | None, *, user: User) -> None:
    """Assign the report to a member of its inbox (None: to nobody); audited. Commits."""
    if report.purged_at is not None:
        raise AssignmentError(_("Anmälan är gallrad."))
    if assignee_id is not None and assignee_id not in {u.id for u in assignable(report.inbox_id)}:
        raise AssignmentError(_("Välj en handläggare som har tillgång till inkorgen."))
    if assignee_id == report.assigned_to_id:
        return  # nothing changes: nothing to record
    previous = report.assigned_to_id
    report.assigned_to_id = assignee_id
    if assignee_id is None:
        audit.record(
            "report_unassigned",
            actor_id=user.id,
            actor=user.email,
            target_type="report",
            target_id=report.id,
            assignee=None,
            previous=previous,
        )
    else:
        audit.record(
            "report_assigned",
            actor_id=user.id,
            actor=user.email,
            target_type="report",
            target_id=report.id,
            assignee=assignee_id,
            previous=previous,
        )
    db.session.commit()


def release(member_id: int, inbox_id: int, *, by: User) -> int:
    """Unassign a caseworker who has lost access to an inbox from its reports there, each
    audited as an un-assignment by `by`: the inbox then shows them as without a caseworker,
    for a colleague to take. In the caller's transaction; returns how many."""
    reports = db.session.scalars(
        sa.select(Report).where(Report.inbox_id == inbox_id, Report.assigned_to_id == member_id)
    ).all()
    for report in reports:
        report.assigned_to_id = None
        audit.record(
            "report_unassigned",
            actor_id=by.id,
            actor=by.email,
            target_type="report",
            target_id=report.id,
            assignee=None,
            previous=member_id,
        )
    return len(reports)


def names(user_ids: Sequence[int | None]) -> dict[int, str]:
    """The names of the given staff (one query for a page of the inbox)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    found = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in found}
