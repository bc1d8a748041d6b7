"""The caseworkers' inbox list: keyset pages in the list's order, counts per status.

Issue 14 §1: a page costs what the first page costs at any depth. The order is acute (and
"vet inte") first, then newest, then id, all descending, so that one index per inbox serves
it (Report.__table_args__). With several inboxes each is read with its own index and the
pages are merged in SQL: a page is one statement whatever the number of inboxes (on
PostgreSQL a round trip costs more than what it reads). The list never reads a sealed column.
"""

from __future__ import annotations

import base64
import binascii
import functools
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlalchemy.orm.strategy_options import _AbstractLoad

from intake.extensions import db
from intake.models_base import UTCDateTime
from intake.reports import choices, tally
from intake.reports.models import Report

PAGE_SIZE = 25


# What the list and its deadlines read (intake.reports.handling.deadlines): no sealed column.
# Built on first use: load_only configures the mappers, which needs every domain's models.
@functools.cache
def _listed() -> _AbstractLoad:
    return load_only(
        Report.id,
        Report.reference,
        Report.inbox_id,
        Report.received_at,
        Report.status,
        Report.acute,
        Report.acute_answer,
        Report.acute_first,
        Report.subject_type,
        Report.feedback_requested,
        Report.assessed_at,
        Report.decision,
        Report.decided_on,
        Report.registered_on,
        Report.feedback_sent_at,
        Report.outcome,
        Report.purged_at,
        Report.channel_flag,
        Report.reporter_kind,
        Report.concern_group,
        Report.assigned_to_id,
        Report.next_deadline,
        Report.next_deadline_kind,
        raiseload=True,
    )


Key = tuple[int, datetime, str]
_ID = re.compile(r"[0-9a-f-]{1,36}")


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox list; `after`/`before` are the cursors of the next/previous page."""

    reports: Sequence[Report]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    after: str | None
    before: str | None
    # Under triage filters the count stops at COUNT_CAP: `total` is then a lower bound.
    capped: bool = False


def encode_cursor(key: Key) -> str:
    """An opaque cursor for a row's sort key (validated again by decode_cursor)."""
    raw = f"{key[0]}|{key[1].isoformat()}|{key[2]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> Key | None:
    """The sort key in a cursor from the query string, or None when it is not a valid one."""
    if not value or len(value) > 120:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        first, moment, report_id = raw.split("|")
        received = datetime.fromisoformat(moment)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if first not in ("0", "1") or received.tzinfo is None or not _ID.fullmatch(report_id):
        return None
    return int(first), received, report_id


def _sort_columns() -> sa.ColumnElement[tuple[int, datetime, str]]:
    return sa.tuple_(Report.acute_first, Report.received_at, Report.id)


def _bound(key: Key) -> sa.ColumnElement[tuple[int, datetime, str]]:
    return sa.tuple_(
        sa.literal(key[0], sa.SmallInteger()),
        sa.literal(key[1], UTCDateTime()),
        sa.literal(key[2], sa.String()),
    )


_KEY_COLUMNS = (Report.acute_first, Report.received_at, Report.id)


def _one_inbox(
    inbox_id: int,
    filters: list[sa.ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
) -> sa.Select[int, datetime, str]:
    """The sort keys of up to PAGE_SIZE + 1 rows of one inbox from the cursor on, in reading
    direction: only the keys, read from the list's index, so that merging the inboxes builds
    no report it then throws away."""
    query = sa.select(*_KEY_COLUMNS).where(Report.inbox_id == inbox_id, *filters)
    if before is not None:
        query = query.where(_sort_columns() > _bound(before)).order_by(*_KEY_COLUMNS)
    else:
        if after is not None:
            query = query.where(_sort_columns() < _bound(after))
        query = query.order_by(*(c.desc() for c in _KEY_COLUMNS))
    return query.limit(PAGE_SIZE + 1)


def _few(
    inbox_ids: Sequence[int],
    filters: list[sa.ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
) -> sa.Select[int, datetime, str]:
    """The keys of every report of these inboxes that matches the triage filters, from the
    cursor on, in no order: for inboxes where they are few (ix_report_inbox_triage holds
    the keys too, so this reads that index alone instead of walking the list's)."""
    query = sa.select(*_KEY_COLUMNS).where(Report.inbox_id.in_(inbox_ids), *filters)
    if before is not None:
        return query.where(_sort_columns() > _bound(before))
    if after is not None:
        return query.where(_sort_columns() < _bound(after))
    return query


def _page(
    walked: Sequence[int],
    few: Sequence[int],
    filters: list[sa.ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
) -> list[Report]:
    """The PAGE_SIZE + 1 first reports in reading direction, in one statement (one round
    trip): a UNION ALL of the keys of each walked inbox's own page (_one_inbox, read in order
    from its index) and of the few inboxes' matches (_few), merged and cut in SQL; only those
    rows are then read (the list's columns), by primary key."""
    branches = [_one_inbox(one, filters, after, before).subquery() for one in walked]
    if few:
        branches.append(_few(few, filters, after, before).subquery())
    if not branches:
        return []
    merged = sa.union_all(*(sa.select(*branch.c) for branch in branches)).subquery()
    keys = (merged.c.acute_first, merged.c.received_at, merged.c.id)
    first = (
        sa.select(merged.c.id)
        .order_by(*(keys if before is not None else (key.desc() for key in keys)))
        .limit(PAGE_SIZE + 1)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(Report).options(_listed()).join(first, first.c.id == Report.id)
        )
    )


def _key(report: Report) -> Key:
    return report.acute_first, report.received_at, report.id


def _counts(inbox_ids: Sequence[int], filters: list[sa.ColumnElement[bool]]) -> dict[int, int]:
    """How many of each inbox's reports match every triage filter, counted up to COUNT_CAP + 1
    from an index alone (ix_report_inbox_triage or, walking, ix_report_inbox_list); all the
    inboxes in one statement."""
    if not inbox_ids:
        return {}
    branches = []
    for one in inbox_ids:
        capped = (
            sa.select(sa.literal_column("1"))
            .select_from(Report)
            .where(Report.inbox_id == one, *filters)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        branches.append(
            sa.select(sa.literal(one, sa.Integer()), sa.func.count()).select_from(capped)
        )
    return {inbox_id: count for inbox_id, count in db.session.execute(sa.union_all(*branches))}


AGE_GROUPS = tuple(str(choice.value) for choice in choices.SUBJECT_TYPES)
UNKNOWN = "okand"  # a filter value: the column is not known (NULL)
DEADLINE_FILTERS = ("forsenad", "idag", "kommande", "ingen")


@dataclass(frozen=True)
class Triage:
    """The triage filters of the inbox (issue 13 §2), all on plain columns; None: any.

    `age`, `reporter` and `concern` take a stored value or UNKNOWN; `assignee` a user id or
    0 for "no caseworker"; `deadline` one of DEADLINE_FILTERS, judged against `today`."""

    age: str | None = None
    reporter: str | None = None
    concern: str | None = None
    assignee: int | None = None
    deadline: str | None = None
    today: date | None = None

    def any(self) -> bool:
        """Whether any filter is set."""
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name != "today")

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of the filters."""
        found: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (Report.subject_type, self.age),
            (Report.reporter_kind, self.reporter),
            (Report.concern_group, self.concern),
        ):
            if value == UNKNOWN:
                found.append(column.is_(None))
            elif value is not None:
                found.append(column == value)
        if self.assignee == 0:
            found.append(Report.assigned_to_id.is_(None))
        elif self.assignee is not None:
            found.append(Report.assigned_to_id == self.assignee)
        if self.deadline == "ingen":
            found.append(Report.next_deadline.is_(None))
        elif self.deadline is not None and self.today is not None:
            if self.deadline == "forsenad":
                found.append(Report.next_deadline < self.today)
            elif self.deadline == "idag":
                found.append(Report.next_deadline == self.today)
            else:
                found.append(Report.next_deadline > self.today)
        return found


# A filtered count reads at most this many index entries per inbox: past it the page says
# "more than", so that a broad filter costs no more than a narrow one (issue 14 §1).
COUNT_CAP = 1000
# Up to this many matches in an inbox, its page is sorted from all of them; with more, the
# list's index walked in order finds a page's worth soon.
SORT_HERE = 100


def _matches(answer: str | None, acute: bool, wanted: str | None) -> bool:
    if wanted == "ja":
        return acute or answer == "ja"
    return wanted is None or answer == wanted


def list_reports(
    inbox_ids: Sequence[int],
    *,
    status: str | None,
    inbox_id: int | None,
    acute: str | None,
    after: str | None = None,
    before: str | None = None,
    page: int = 1,
    triage: Triage | None = None,
) -> InboxPage:
    """Reports of the given inboxes: acute and "vet inte" first, then newest; keyset pages.

    `acute` filters on the reporter's answer: "ja", "nej" or "vet_ej". `after`/`before` are
    cursors from a previous page (an invalid one gives the first page); `page` is only the
    page number shown, carried along with the cursor. `triage` narrows the list further."""
    scope = [i for i in inbox_ids if inbox_id is None or i == inbox_id]
    tallies = tally.counts(scope)
    counts: dict[str, int] = {}
    for one_status, _answer, _acute, count in tallies:
        counts[one_status] = counts.get(one_status, 0) + count
    filters: list[sa.ColumnElement[bool]] = []
    if status:
        filters.append(Report.status == status)
    # Each answer lies in one acute-first group: the index range starts at that group.
    if acute == "ja":
        filters += [
            Report.acute_first == 1,
            sa.or_(Report.acute.is_(True), Report.acute_answer == "ja"),
        ]
    elif acute == "vet_ej":
        filters += [Report.acute_first == 1, Report.acute_answer == acute]
    elif acute == "nej":
        filters += [Report.acute_first == 0, Report.acute_answer == acute]
    capped = False
    matches: dict[int, int] = {}
    if triage is not None and triage.any():
        filters += triage.clauses()
        matches = _counts(scope, filters)
        total = sum(matches.values())
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    else:  # the tallies tell
        total = sum(
            count
            for one_status, answer, is_acute, count in tallies
            if (status is None or one_status == status) and _matches(answer, is_acute, acute)
        )
    pages = max(1, -(-total // PAGE_SIZE))
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    if before_key is not None:
        after_key = None
    if after_key is None and before_key is None:
        page = 1
    page = max(page, 1) if capped else min(max(page, 1), pages)
    # An inbox with no match costs only its count; with few, its matches are read from the
    # triage index and sorted; with many (or no triage filter), its index is walked in order.
    sort_here = min(SORT_HERE, COUNT_CAP)
    few = [one for one in scope if one in matches and 0 < matches[one] <= sort_here]
    walk = [one for one in scope if one not in matches or matches[one] > sort_here]
    loaded = {_key(report): report for report in _page(walk, few, filters, after_key, before_key)}
    keys = list(loaded)
    if before_key is not None:
        chosen = heapq.nsmallest(PAGE_SIZE + 1, keys)
        more_before = len(chosen) > PAGE_SIZE
        shown = sorted(chosen[:PAGE_SIZE], reverse=True)
        if not more_before:  # back at the start: the first page, full
            return list_reports(
                inbox_ids, status=status, inbox_id=inbox_id, acute=acute, triage=triage
            )
        has_next, has_previous = True, True
    else:
        chosen = heapq.nlargest(PAGE_SIZE + 1, keys)
        shown = chosen[:PAGE_SIZE]
        has_next, has_previous = len(chosen) > PAGE_SIZE, after_key is not None
        if after_key is not None and not shown:  # past the end: the first page
            return list_reports(
                inbox_ids, status=status, inbox_id=inbox_id, acute=acute, triage=triage
            )
    reports = [loaded[key] for key in shown]
    return InboxPage(
        reports=reports,
        total=total,
        page=page,
        pages=pages,
        capped=capped,
        counts=counts,
        after=encode_cursor(shown[-1]) if has_next and shown else None,
        before=encode_cursor(shown[0]) if has_previous and shown else None,
    )
