"""The caseworkers' inbox list: keyset pages in the list's order, counts per status.

Issue 14 §1: a page costs what the first page costs at any depth. The order is acute (and
"vet inte") first, then newest, then id, all descending, so that one index per inbox serves
it (Report.__table_args__). With several inboxes each is read with its own index and the
pages are merged. The list never reads a sealed column.
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


def _walked(
    inbox_ids: Sequence[int],
    filters: list[sa.ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
) -> list[Key]:
    """_one_inbox's keys for each of the inboxes, in one statement (one round trip): a UNION
    ALL of each inbox's own page, each read in order from its index."""
    if not inbox_ids:
        return []
    pages = [_one_inbox(one, filters, after, before).subquery() for one in inbox_ids]
    query = sa.union_all(*(sa.select(*page.c) for page in pages))
    return [
        (first, received, report_id) for first, received, report_id in db.session.execute(query)
    ]


def _walked_reports(
    inbox_ids: Sequence[int],
    filters: list[sa.ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
) -> list[Report]:
    """The reports of the PAGE_SIZE + 1 first of _walked's keys in reading direction, in the
    same statement: the keys are merged and cut in SQL and only those rows are read (the
    list's columns), by primary key."""
    if not inbox_ids:
        return []
    pages = [_one_inbox(one, filters, after, before).subquery() for one in inbox_ids]
    merged = sa.union_all(*(sa.select(*page.c) for page in pages)).subquery()
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


def _count(inbox_id: int, filters: list[sa.ColumnElement[bool]]) -> int:
    """How many of one inbox's reports match every triage filter, counted up to COUNT_CAP + 1
    from an index alone (ix_report_inbox_triage or, walking, ix_report_inbox_list)."""
    matching: sa.Select[tuple[int]] = (
        sa.select(sa.literal_column("1"))
        .select_from(Report)
        .where(Report.inbox_id == inbox_id, *filters)
        .limit(COUNT_CAP + 1)
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0


def _matching(inbox_id: int, filters: list[sa.ColumnElement[bool]]) -> list[Key]:
    """The keys of one inbox's reports that match every triage filter, in no order (called when
    they are few): ix_report_inbox_triage holds the keys too."""
    query = sa.select(*_KEY_COLUMNS).where(Report.inbox_id == inbox_id, *filters)
    return [
        (first, received, report_id) for first, received, report_id in db.session.execute(query)
    ]


def _page_of(keys: list[Key], after: Key | None, before: Key | None) -> list[Key]:
    """What _one_inbox would read, from all of an inbox's matching keys."""
    if before is not None:
        return heapq.nsmallest(PAGE_SIZE + 1, (k for k in keys if k > before))
    return heapq.nlargest(PAGE_SIZE + 1, (k for k in keys if after is None or k < after))


def _reports(keys: Sequence[Key]) -> list[Report]:
    """The listed reports of these keys, in the keys' order (only the list's columns)."""
    ids = [key[2] for key in keys]
    found = {
        report.id: report
        for report in db.session.scalars(
            sa.select(Report).options(_listed()).where(Report.id.in_(ids))
        )
    }
    return [found[report_id] for report_id in ids if report_id in found]


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
        matches = {one: _count(one, filters) for one in scope}
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
    keys: list[Key] = []
    walk = []
    for one in scope:
        if one not in matches:
            walk.append(one)
        elif 0 < matches[one] <= min(SORT_HERE, COUNT_CAP):
            keys.extend(_page_of(_matching(one, filters), after_key, before_key))
        elif matches[one] > 0:
            walk.append(one)
    loaded: dict[Key, Report] | None = None
    if keys:  # some inboxes' keys sorted here: merge all keys, then read the page's reports
        keys.extend(_walked(walk, filters, after_key, before_key))
    else:  # every inbox walked: its first keys and their reports in one statement
        loaded = {
            _key(report): report for report in _walked_reports(walk, filters, after_key, before_key)
        }
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
    reports = [loaded[key] for key in shown] if loaded is not None else _reports(shown)
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
