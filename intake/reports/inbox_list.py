"""What the caseworkers' inbox page shows (issue 13 §2): the filters read from the query
string, one keyset page, the names of the assigned caseworkers, the triage labels.

Everything comes from plain columns (intake.reports.listing); the next deadline is the stored
one (intake.reports.next_deadline), judged against today once per page, not per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import request

from intake import clock
from intake.accounts.models import Membership, User
from intake.extensions import db
from intake.reports import assignment, handling, inbox_query, listing, next_deadline, triage
from intake.reports.models import Inbox


def _colleagues(inbox_ids: Sequence[int]) -> list[tuple[int, str]]:
    """Active members of the given inboxes, by name: whom the list can be filtered on."""
    if not inbox_ids:
        return []
    rows = db.session.execute(
        sa.select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.inbox_id.in_(inbox_ids), User.active.is_(True))
        .distinct()
        .order_by(User.name, User.id)
    )
    return [(user_id, name) for user_id, name in rows]


def _names(colleagues: list[tuple[int, str]], user_ids: list[int | None]) -> dict[int, str]:
    """The names of the assigned caseworkers: the colleagues' already read, others looked up
    (a caseworker no longer active or no longer a member)."""
    known = dict(colleagues)
    return known | assignment.names([i for i in user_ids if i is not None and i not in known])


def page_for(user: User, inboxes: Sequence[Inbox]) -> dict[str, Any]:
    """The inbox page's template context for the signed-in caseworker."""
    inbox_ids = [i.id for i in inboxes]
    today = clock.local_date(clock.now())
    colleagues = _colleagues(inbox_ids)
    query = inbox_query.read_query(
        request.args,
        inbox_ids=inbox_ids,
        statuses=handling.STATUSES,
        me=user.id,
        assignable=[i for i, _name in colleagues],
        today=today,
    )
    page = listing.list_reports(
        inbox_ids,
        status=query.status,
        inbox_id=query.inbox_id,
        acute=query.acute,
        triage=query.triage,
        after=request.args.get("efter"),
        before=request.args.get("fore"),
        page=request.args.get("sida", 1, type=int) or 1,
    )
    return {
        "page": page,
        "inboxes": inboxes,
        "query": query,
        "filters": query.args(),
        "colleagues": colleagues,
        "me": user.id,
        "assigned": _names(colleagues, [r.assigned_to_id for r in page.reports]),
        "due_states": {
            r.id: next_deadline.state(r.next_deadline, today=today) for r in page.reports
        },
        "age_labels": triage.AGE_LABELS,
        "reporter_labels": triage.REPORTER_LABELS,
        "concern_labels": triage.CONCERN_LABELS,
    }
