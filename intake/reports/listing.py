"""The caseworkers' inbox list: keyset pages in the list's order, counts per status.

Issue 14 §1: a page costs what the first page costs at any depth. The order is acute (and
"vet inte") first, then newest, then id, all descending, so that one index per inbox serves
it (Report.__table_args__). With several inboxes each is read with its own index and the
pages are merged. The list never reads a sealed column.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from intake.extensions import db
from intake.models_base import UTCDateTime
from intake.reports.models import Report

PAGE_SIZE = 25

# What the list and its deadlines read (intake.reports.handling.deadlines): no sealed column.
_LISTED = load_only(
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


def _key(report: Report) -> Key:
    return report.acute_first, report.received_at, report.id


def _sort_columns() -> sa.ColumnElement[tuple[int, datetime, str]]:
    return sa.tuple_(Report.acute_first, Report.received_at, Report.id)


def _bound(key: Key) -> sa.ColumnElement[tuple[int, datetime, str]]:
    return sa.tuple_(
        sa.literal(key[0], sa.SmallInteger()),
        sa.literal(key[1], UTCDateTime()),
        sa.literal(key[2], sa.String()),
    )


def _one_inbox(
    inbox_id: int, filters: list[sa.ColumnElement[bool]], after: Key | None, before: Key | None
) -> list[Report]:
    """Up to PAGE_SIZE + 1 rows of one inbox from the cursor on, in reading direction."""
    query = sa.select(Report).options(_LISTED).where(Report.inbox_id == inbox_id, *filters)
    columns = (Report.acute_first, Report.received_at, Report.id)
    if before is not None:
        query = query.where(_sort_columns() > _bound(before)).order_by(*columns)
    else:
        if after is not None:
            query = query.where(_sort_columns() < _bound(after))
        query = query.order_by(*(c.desc() for c in columns))
    return list(db.session.scalars(query.limit(PAGE_SIZE + 1)))


def _tallies(inbox_ids: Sequence[int]) -> list[tuple[str, str | None, bool, int]]:
    """Reports per (status, acute answer, acute) in the inboxes: a GROUP BY per inbox in the
    order of ix_report_inbox_counts, so read from that index alone, without sorting."""
    found = []
    for inbox_id in inbox_ids:
        found += [
            (status, answer, bool(acute), count)
            for status, answer, acute, count in db.session.execute(
                sa.select(Report.status, Report.acute_answer, Report.acute, sa.func.count())
                .where(Report.inbox_id == inbox_id)
                .group_by(Report.status, Report.acute_answer, Report.acute)
            )
        ]
    return found


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
) -> InboxPage:
    """Reports of the given inboxes: acute and "vet inte" first, then newest; keyset pages.

    `acute` filters on the reporter's answer: "ja", "nej" or "vet_ej". `after`/`before` are
    cursors from a previous page (an invalid one gives the first page); `page` is only the
    page number shown, carried along with the cursor."""
    scope = [i for i in inbox_ids if inbox_id is None or i == inbox_id]
    tallies = _tallies(scope) if scope else []
    counts: dict[str, int] = {}
    for one_status, _answer, _acute, count in tallies:
        counts[one_status] = counts.get(one_status, 0) + count
    total = sum(
        count
        for one_status, answer, is_acute, count in tallies
        if (status is None or one_status == status) and _matches(answer, is_acute, acute)
    )
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
    pages = max(1, -(-total // PAGE_SIZE))
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    if before_key is not None:
        after_key = None
    if after_key is None and before_key is None:
        page = 1
    page = min(max(page, 1), pages)
    rows: list[Report] = []
    for one in scope:
        rows.extend(_one_inbox(one, filters, after_key, before_key))
    if before_key is not None:
        chosen = heapq.nsmallest(PAGE_SIZE + 1, rows, key=_key)
        more_before = len(chosen) > PAGE_SIZE
        reports = sorted(chosen[:PAGE_SIZE], key=_key, reverse=True)
        if not more_before:  # back at the start: the first page, full
            return list_reports(inbox_ids, status=status, inbox_id=inbox_id, acute=acute)
        has_next, has_previous = True, True
    else:
        chosen = heapq.nlargest(PAGE_SIZE + 1, rows, key=_key)
        reports = chosen[:PAGE_SIZE]
        has_next, has_previous = len(chosen) > PAGE_SIZE, after_key is not None
        if after_key is not None and not reports:  # past the end: the first page
            return list_reports(inbox_ids, status=status, inbox_id=inbox_id, acute=acute)
    return InboxPage(
        reports=reports,
        total=total,
        page=page,
        pages=pages,
        counts=counts,
        after=encode_cursor(_key(reports[-1])) if has_next and reports else None,
        before=encode_cursor(_key(reports[0])) if has_previous and reports else None,
    )
