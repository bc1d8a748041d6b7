"""Counting commitments against their yearly targets.

Rules:
- A promise is in force from `valid_from` until the day before the next promise starts; if
  it is not "until a new promise is given", also at most until `valid_to`; and never after
  it was closed. Counting follows the promise in force on each date.
- Activities count toward their commitment when dated inside the promise's window.
- Dialogues with a held report marked held count toward the promise's dialogue commitment
  (source "dialogues") for the Stockholm date they started — no double entry; a dialogue
  later marked not held stops counting.
- Years are Stockholm calendar years. "At least N per year" and "once per year" are judged
  per year; "once" is done from the year it was first done; "ongoing" has no number.
- Expected so far = target × the elapsed share of the part of the year the promise covers.

All counting is two SQL aggregates for every year at once (activities grouped by commitment
and year; held dialogues grouped by promise window and year). `bench/dashboard.py` times them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from intake import clock
from intake.dialogues.models import CANCELLED, Dialogue, HeldReport
from intake.extensions import db
from intake.followup.models import (
    AT_LEAST_PER_YEAR,
    FROM_DIALOGUES,
    ONCE,
    ONCE_PER_YEAR,
    ONGOING,
    Activity,
    Commitment,
    Promise,
    YearNote,
)

DONE, ON_TRACK, BEHIND, NOT_DONE, CONTINUING = "done", "on_track", "behind", "not_done", "ongoing"


@dataclass(frozen=True)
class Window:
    """The dates (inclusive) a promise is in force; `end` None means still in force."""

    start: date
    end: date | None

    def overlap(self, first: date, last: date) -> tuple[date, date] | None:
        """The part of [first, last] inside the window."""
        start, end = max(self.start, first), min(self.end or last, last)
        return (start, end) if start <= end else None


def windows(promises: Sequence[Promise]) -> dict[int, Window]:
    """Each promise's window, given the promises that follow it."""
    ordered = sorted(promises, key=lambda p: (p.valid_from, p.id))
    found: dict[int, Window] = {}
    for index, promise in enumerate(ordered):
        ends: list[date] = []
        if index + 1 < len(ordered):
            ends.append(ordered[index + 1].valid_from - timedelta(days=1))
        if not promise.until_replaced and promise.valid_to is not None:
            ends.append(promise.valid_to)
        if promise.closed_on is not None:
            ends.append(promise.closed_on)
        found[promise.id] = Window(promise.valid_from, min(ends) if ends else None)
    return found


def in_force(promises: Sequence[Promise], day: date) -> Promise | None:
    """The promise in force on a date."""
    spans = windows(promises)
    for promise in promises:
        window = spans[promise.id]
        if window.start <= day and (window.end is None or day <= window.end):
            return promise
    return None


@dataclass(frozen=True)
class Progress:
    """A commitment in one year."""

    commitment: Commitment
    year: int
    done: int
    target: int | None
    expected: int | None
    status: str
    reason: str
    next_planned_on: date | None

    @property
    def percent(self) -> int | None:
        """Done as a share of the target, capped at 100."""
        if not self.target:
            return None
        return min(100, round(100 * self.done / self.target))

    @property
    def on_pace(self) -> bool | None:
        """Whether what is done so far keeps up with the year."""
        if self.expected is None:
            return None
        return self.done >= self.expected

    @property
    def needs_reason(self) -> bool:
        """Behind or not done without a written reason."""
        return self.status in (BEHIND, NOT_DONE) and not self.reason.strip()


class YearOf(FunctionElement[int]):
    """The calendar year of a DATE column, as an integer."""

    type = sa.Integer()
    name = "year_of"
    inherit_cache = True


@compiles(YearOf)
def _year_of(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(YearOf, "sqlite")
def _year_of_sqlite(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a DATE as 'YYYY-MM-DD' text. strftime parses every date; substr takes about
    # a quarter off this aggregate, which the dashboard runs over every activity on each view.
    return f"CAST(substr({compiler.process(element.clauses, **kw)}, 1, 4) AS INTEGER)"


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.STOCKHOLM).astimezone(UTC)


class Ledger:
    """Counts for every commitment and year, loaded with two aggregate queries."""

    def __init__(self, *, today: date) -> None:
        self.today = today
        self.promises = list(db.session.scalars(sa.select(Promise).order_by(Promise.valid_from)))
        self.windows = windows(self.promises)
        self.commitments = list(
            db.session.scalars(
                sa.select(Commitment).order_by(Commitment.promise_id, Commitment.position)
            )
        )
        self.counts: dict[tuple[int, int], int] = defaultdict(int)
        if self.promises:
            self._count_activities()
            self._count_dialogues()
        self.notes = {
            (note.commitment_id, note.year): note
            for note in db.session.scalars(sa.select(YearNote))
        }

    @property
    def years(self) -> list[int]:
        """Every year some promise covers, up to this year."""
        if not self.promises:
            return []
        first = min(w.start for w in self.windows.values()).year
        last = max((w.end.year if w.end else self.today.year) for w in self.windows.values())
        return list(range(first, max(min(last, self.today.year), first) + 1))

    def _count_activities(self) -> None:
        # The commitments of each promise are known here, so no join: each promise's own
        # commitment ids, inside its window. Dialogues count from their held reports, never
        # from activities, so their commitment is left out.
        by_promise: dict[int, list[int]] = defaultdict(list)
        for commitment in self.commitments:
            if commitment.source != FROM_DIALOGUES:
                by_promise[commitment.promise_id].append(commitment.id)
        inside = [
            sa.and_(
                Activity.commitment_id.in_(ids),
                Activity.occurred_on >= self.windows[promise_id].start,
                *(
                    [Activity.occurred_on <= self.windows[promise_id].end]
                    if self.windows[promise_id].end
                    else []
                ),
            )
            for promise_id, ids in by_promise.items()
        ]
        if not inside:
            return
        year = YearOf(Activity.occurred_on)
        rows = db.session.execute(
            sa.select(Activity.commitment_id, year, sa.func.sum(Activity.count))
            .where(sa.or_(*inside))
            .group_by(Activity.commitment_id, year)
        )
        for commitment_id, year_value, total in rows:
            self.counts[(commitment_id, int(year_value))] += int(total or 0)

    def _count_dialogues(self) -> None:
        dialogue_commitment = {
            c.promise_id: c.id for c in self.commitments if c.source == FROM_DIALOGUES
        }
        if not dialogue_commitment:
            return
        years = self.years or [self.today.year]
        year_case = sa.case(
            *[
                (
                    sa.and_(
                        Dialogue.starts_at >= _utc_midnight(date(y, 1, 1)),
                        Dialogue.starts_at < _utc_midnight(date(y + 1, 1, 1)),
                    ),
                    y,
                )
                for y in years
            ],
            else_=0,
        )
        promise_case = sa.case(
            *[
                (
                    sa.and_(
                        Dialogue.starts_at >= _utc_midnight(window.start),
                        *(
                            [Dialogue.starts_at < _utc_midnight(window.end + timedelta(days=1))]
                            if window.end
                            else []
                        ),
                    ),
                    promise_id,
                )
                for promise_id, window in self.windows.items()
                if promise_id in dialogue_commitment
            ],
            else_=0,
        )
        rows = db.session.execute(
            sa.select(promise_case, year_case, sa.func.count())
            .select_from(Dialogue)
            .join(HeldReport, HeldReport.dialogue_id == Dialogue.id)
            .where(HeldReport.held.is_(True), Dialogue.status != CANCELLED)
            .group_by(promise_case, year_case)
        )
        for promise_id, year_value, total in rows:
            if promise_id and year_value:
                self.counts[(dialogue_commitment[promise_id], int(year_value))] += int(total)

    def _over(self, window: Window, year: int) -> bool:
        """Whether the promise's part of the year has ended (the last day itself still counts)."""
        span = window.overlap(date(year, 1, 1), date(year, 12, 31))
        return span is not None and self.today > span[1]

    def _elapsed_share(self, window: Window, year: int) -> float | None:
        """Share of the promise's part of the year that has passed (None if no overlap)."""
        span = window.overlap(date(year, 1, 1), date(year, 12, 31))
        if span is None:
            return None
        start, end = span
        if self.today > end:
            return 1.0
        if self.today < start:
            return 0.0
        return ((self.today - start).days + 1) / ((end - start).days + 1)

    def progress(self, commitment: Commitment, year: int) -> Progress | None:
        """A commitment's progress in a year; None if its promise is not in force that year."""
        window = self.windows[commitment.promise_id]
        share = self._elapsed_share(window, year)
        if share is None:
            return None
        done = self.counts.get((commitment.id, year), 0)
        note = self.notes.get((commitment.id, year))
        reason, planned = (note.reason, note.next_planned_on) if note else ("", None)
        target: int | None
        if commitment.target_type == AT_LEAST_PER_YEAR:
            target = commitment.target or 0
        elif commitment.target_type in (ONCE_PER_YEAR, ONCE):
            target = 1
        else:
            target = None
        if commitment.target_type == ONCE:
            earlier = sum(
                v for (cid, y), v in self.counts.items() if cid == commitment.id and y < year
            )
            if earlier:
                return Progress(commitment, year, done, target, target, DONE, reason, planned)
        if target is None or commitment.target_type == ONGOING:
            return Progress(commitment, year, done, None, None, CONTINUING, reason, planned)
        expected = math.floor(target * share)
        if done >= target:
            status = DONE
        elif self._over(window, year):
            status = NOT_DONE
        elif done >= expected:
            status = ON_TRACK
        else:
            status = BEHIND
        return Progress(commitment, year, done, target, expected, status, reason, planned)

    def year(self, year: int) -> list[Progress]:
        """Every commitment in force in a year."""
        found = [self.progress(c, year) for c in self.commitments]
        return [p for p in found if p is not None]


@dataclass(frozen=True)
class Rollup:
    """Commitments of one party or area in a year."""

    key: str
    total: int
    done: int
    on_track: int
    behind: int
    not_done: int
    ongoing: int


def rollup(rows: Sequence[Progress], key: str) -> list[Rollup]:
    """Counts of statuses grouped by 'party' or 'area'."""
    groups: dict[str, list[Progress]] = defaultdict(list)
    for row in rows:
        groups[getattr(row.commitment, key)].append(row)
    return [
        Rollup(
            key=name,
            total=len(items),
            done=sum(p.status == DONE for p in items),
            on_track=sum(p.status == ON_TRACK for p in items),
            behind=sum(p.status == BEHIND for p in items),
            not_done=sum(p.status == NOT_DONE for p in items),
            ongoing=sum(p.status == CONTINUING for p in items),
        )
        for name, items in sorted(groups.items())
    ]
