"""Counting commitments against their yearly targets.

Rules:
- A promise is in force from `valid_from` until the day before the next promise starts; if
  it is not "until a new promise is given", also at most until `valid_to`; and never after
  it was closed. Counting follows the promise in force on each date.
- Activities count toward their commitment when dated inside the promise's window.
- Dialogues with a held report marked held count toward the promise's dialogue commitment
  (source "dialogues") for the Stockholm date they started — no double entry; a dialogue
  later marked not held stops counting. A commitment with the rule "both hosts" counts only
  the dialogues the organiser marked as hosted by both the police and the municipality.
- Years are Stockholm calendar years. "At least N per year" and "once per year" are judged
  per year; "once" is done from the year it was first done (or, copied into a successive
  promise, once staff point to when it was done under the earlier one); "ongoing" has no
  number, and is "ongoing" only with at least one activity in the year.
- "At least N per year" for a promise covering part of a year: N prorated by the months
  covered, rounded up (`periods`).
- Expected so far = target × the elapsed share of the part of the year the promise covers.
  "Once per year" has no pace: it is done, or not done yet with the day it is due.
- A year that is over with nothing recorded for any commitment (no activity, no held
  dialogue, no written reason) is "no follow-up recorded", never "not done".
- A ledger `as_of` a day (a report for part of a year) counts only up to that day and judges
  as on that day: pace, never a final "not done" before the year has ended.

All counting is two SQL statements for every year at once: the monthly activity totals that
`models.ActivityTotal` keeps with every activity change, summed per year (less, in a promise's
first and last month, what is dated outside its window), and held dialogues counted per span
of promise window and year. `bench/dashboard.py` times them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import sqlalchemy as sa

from intake import clock
from intake.dialogues.models import PLANNED, Dialogue, HeldReport
from intake.extensions import db
from intake.followup import periods
from intake.followup.models import (
    AT_LEAST_PER_YEAR,
    BOTH_HOSTS,
    FROM_DIALOGUES,
    ONCE,
    ONCE_PER_YEAR,
    ONGOING,
    Activity,
    ActivityTotal,
    Commitment,
    Promise,
    YearNote,
    YearOf,
)
from intake.followup.periods import Window as Window
from intake.followup.periods import in_force as in_force
from intake.followup.periods import windows as windows

DONE, ON_TRACK, BEHIND, NOT_DONE, CONTINUING = "done", "on_track", "behind", "not_done", "ongoing"
# Not done yet (once a year, before the day it is due); ongoing without any activity; a year
# that is over without anything recorded at all.
NOT_YET, NO_ACTIVITY, NO_DATA = "not_yet", "no_activity", "no_data"


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
    part: periods.Part | None = None
    due_on: date | None = None
    # When (and under which promise) a "done once" commitment was last done before this one.
    earlier: tuple[date, str] | None = None

    @property
    def carried_on(self) -> date | None:
        """The earlier promise's date this commitment was marked done by."""
        return self.commitment.done_earlier_on

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
        """Behind, not done, or a target year without anything recorded, without a written
        reason (staff see it; the public page shows no reasons)."""
        short = self.status in (BEHIND, NOT_DONE) or (self.status == NO_DATA and self.target)
        return bool(short) and not self.reason.strip()


def _outside(window: Window) -> list[tuple[date, date]]:
    """The days of the window's first and last month that lie outside it."""
    days = []
    if window.start.day != 1:
        days.append((window.start.replace(day=1), window.start - timedelta(days=1)))
    if window.end is not None and (window.end + timedelta(days=1)).day != 1:
        next_month = (window.end.replace(day=1) + timedelta(days=31)).replace(day=1)
        days.append((window.end + timedelta(days=1), next_month - timedelta(days=1)))
    return days


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.STOCKHOLM).astimezone(UTC)


# The two aggregates are built once per shape (the promises' windows and commitments, which
# change once in a few years) and kept: building them costs more than running them.


@lru_cache(maxsize=64)
def _activity_sums(
    promises: tuple[tuple[tuple[int, ...], Window], ...],
) -> sa.CompoundSelect[int, int, int] | None:
    """(commitment, year, amount) rows that add up to what counts, for each promise's
    commitment ids and window: the monthly totals kept with every activity change for each
    month the window touches, summed per year, less what is dated outside the window in its
    first and last month. Windows seldom cut a month, and the service refuses dates outside
    them, so those range sums find few rows whatever the number of activities. None when
    there is nothing to count."""
    parts: list[sa.Select[int, int, int]] = []
    year = YearOf(ActivityTotal.month)
    for ids, window in promises:
        if window.end is not None and window.end < window.start:
            continue
        parts.append(
            sa.select(ActivityTotal.commitment_id, year, sa.func.sum(ActivityTotal.total))
            .where(ActivityTotal.commitment_id.in_(ids))
            .where(ActivityTotal.month >= window.start.replace(day=1))
            .where(*([ActivityTotal.month <= window.end] if window.end is not None else []))
            .group_by(ActivityTotal.commitment_id, year)
        )
        parts.extend(
            sa.select(Activity.commitment_id, sa.literal(first.year), -sa.func.sum(Activity.count))
            .where(Activity.commitment_id.in_(ids), Activity.occurred_on.between(first, last))
            .group_by(Activity.commitment_id)
            for first, last in _outside(window)
        )
    return sa.union_all(*parts) if parts else None


@lru_cache(maxsize=64)
def _held_per_span(spans: tuple[tuple[date, date], ...]) -> sa.Select[int, int, int]:
    """(span index, count, count hosted by both parties) of the held dialogues that started on
    the days of each span (first and last day, Stockholm time); index -1 for the rest. Spans
    do not overlap, so one CASE names each dialogue's span and one GROUP BY counts them all."""
    span = sa.case(
        *[
            (
                sa.and_(
                    Dialogue.starts_at >= _utc_midnight(first),
                    Dialogue.starts_at < _utc_midnight(last + timedelta(days=1)),
                ),
                index,
            )
            for index, (first, last) in enumerate(spans)
        ],
        else_=-1,
    )
    return (
        sa.select(span, sa.func.count(), sa.func.sum(sa.case((_joint(), 1), else_=0)))
        .select_from(Dialogue)
        .join(HeldReport, HeldReport.dialogue_id == Dialogue.id)
        # Published and not cancelled: a draft never counts, even with a held report.
        .where(HeldReport.held.is_(True), Dialogue.status == PLANNED)
        .group_by(span)
    )


def _joint() -> sa.ColumnElement[bool]:
    """The dialogue is marked as hosted by both the police and the municipality. The hosts
    are a JSON list; its text is compared, the same on SQLite and PostgreSQL (json keeps the
    text it was given)."""
    hosts = sa.cast(Dialogue.hosts, sa.Text)
    return sa.and_(hosts.like('%"polisen"%'), hosts.like('%"kommunen"%'))


def _capped(window: Window, until: date | None) -> Window:
    if until is None or (window.end is not None and window.end <= until):
        return window
    return Window(window.start, until)


class Ledger:
    """Counts for every commitment and year, loaded with two aggregate queries."""

    def __init__(self, *, today: date, as_of: date | None = None) -> None:
        self.today = as_of if as_of is not None and as_of < today else today
        self.promises = list(db.session.scalars(sa.select(Promise).order_by(Promise.valid_from)))
        self.windows = windows(self.promises)
        # What is counted: up to `as_of` when the ledger looks back at an earlier day.
        until = self.today if as_of is not None and as_of < today else None
        self.count_windows = {pid: _capped(w, until) for pid, w in self.windows.items()}
        self.held_years: set[int] = set()
        self.commitments = list(
            db.session.scalars(
                sa.select(Commitment).order_by(Commitment.promise_id, Commitment.position)
            )
        )
        self.counts: dict[tuple[int, int], int] = defaultdict(int)
        if self.promises:
            self._count_activities()
            self._count_dialogues()
        # Only what a row shows: plain tuples, not ORM objects, for every commitment and year.
        self.notes: dict[tuple[int, int], tuple[str, date | None]] = {
            (commitment_id, year): (reason, planned)
            for commitment_id, year, reason, planned in db.session.execute(
                sa.select(
                    YearNote.commitment_id, YearNote.year, YearNote.reason, YearNote.next_planned_on
                )
            )
        }
        # Years with anything recorded: an activity, a held dialogue, a written reason.
        self.recorded = (
            {year for (_cid, year), total in self.counts.items() if total}
            | self.held_years
            | {year for (_cid, year), (reason, _p) in self.notes.items() if reason.strip()}
        )
        self.earlier = self._earlier_done()

    @property
    def years(self) -> list[int]:
        """Every year some promise covers, up to this year."""
        if not self.promises:
            return []
        first = min(w.start for w in self.windows.values()).year
        last = max((w.end.year if w.end else self.today.year) for w in self.windows.values())
        return list(range(first, max(min(last, self.today.year), first) + 1))

    def _count_activities(self) -> None:
        by_promise: dict[int, list[int]] = defaultdict(list)
        for commitment in self.commitments:
            # Dialogues count from their held reports, never from activities.
            if commitment.source != FROM_DIALOGUES:
                by_promise[commitment.promise_id].append(commitment.id)
        shape = tuple(
            (tuple(ids), self.count_windows[promise_id]) for promise_id, ids in by_promise.items()
        )
        statement = _activity_sums(shape)
        if statement is None:
            return
        for commitment_id, year_value, total in db.session.execute(statement):
            self.counts[(commitment_id, int(year_value))] += int(total or 0)

    def _count_dialogues(self) -> None:
        dialogue_commitment = {
            c.promise_id: c for c in self.commitments if c.source == FROM_DIALOGUES
        }
        # The spans where a promise with a dialogue commitment meets a Stockholm year.
        spans: list[tuple[Commitment, int, date, date]] = []  # commitment, year, days
        for promise_id, commitment in dialogue_commitment.items():
            window = self.count_windows[promise_id]
            for year in self.years or [self.today.year]:
                days = window.overlap(date(year, 1, 1), date(year, 12, 31))
                if days is not None:
                    spans.append((commitment, year, *days))
        if not spans:
            return
        statement = _held_per_span(tuple((first, last) for _, _, first, last in spans))
        for index, total, joint in db.session.execute(statement):
            if index >= 0:
                commitment, year = spans[index][:2]
                counted = joint if commitment.counting_rule == BOTH_HOSTS else total
                self.counts[(commitment.id, year)] += int(counted or 0)
                if total:
                    self.held_years.add(year)

    def _earlier_done(self) -> dict[int, tuple[date, str]]:
        """For "done once" commitments copied from an earlier promise: the last day it was
        done there (an activity, or the earlier one's own carried date), and that promise."""
        by_id = {c.id: c for c in self.commitments}
        titles = {p.id: p.title for p in self.promises}
        copied = [c for c in self.commitments if c.target_type == ONCE and c.copied_from_id]
        if not copied:
            return {}
        last_done = dict(
            db.session.execute(
                sa.select(Activity.commitment_id, sa.func.max(Activity.occurred_on))
                .where(
                    Activity.commitment_id.in_([c.id for c in self.commitments]),
                    Activity.count > 0,
                )
                .group_by(Activity.commitment_id)
            ).all()
        )
        found: dict[int, tuple[date, str]] = {}
        for commitment in copied:
            ancestor = by_id.get(commitment.copied_from_id or 0)
            seen: set[int] = set()
            while ancestor is not None and ancestor.id not in seen:
                seen.add(ancestor.id)
                day = last_done.get(ancestor.id) or ancestor.done_earlier_on
                if day is not None:
                    found[commitment.id] = (day, titles.get(ancestor.promise_id, ""))
                    break
                ancestor = by_id.get(ancestor.copied_from_id or 0)
        return found

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

    def part(self, commitment: Commitment, year: int) -> periods.Part | None:
        """The promise's days in the year, with the commitment's target for them."""
        window = self.windows[commitment.promise_id]
        span = window.overlap(date(year, 1, 1), date(year, 12, 31))
        if span is None:
            return None
        per_year = commitment.target_type == AT_LEAST_PER_YEAR
        return periods.part(*span, yearly_target(commitment), per_year=per_year)

    def progress(self, commitment: Commitment, year: int) -> Progress | None:
        """A commitment's progress in a year; None if its promise is not in force that year."""
        window = self.windows[commitment.promise_id]
        share = self._elapsed_share(window, year)
        piece = self.part(commitment, year)
        if share is None or piece is None:
            return None
        done = self.counts.get((commitment.id, year), 0)
        reason, planned = self.notes.get((commitment.id, year), ("", None))
        target, over = piece.target, self._over(window, year)
        recorded = year in self.recorded

        def made(status: str, expected: int | None = None, due: date | None = None) -> Progress:
            shown = None if commitment.target_type == ONGOING else target
            return Progress(
                commitment, year, done, shown, expected, status, reason, planned,
                part=piece, due_on=due, earlier=self.earlier.get(commitment.id),
            )  # fmt: skip

        if commitment.target_type == ONCE:
            earlier = sum(
                v for (cid, y), v in self.counts.items() if cid == commitment.id and y < year
            )
            if earlier or commitment.done_earlier_on is not None:
                return made(DONE, target)
        if target is None or commitment.target_type == ONGOING:
            if done:
                return made(CONTINUING)
            return made(NO_DATA if over and not recorded else NO_ACTIVITY)
        expected = math.floor(target * share)
        if done >= target:
            return made(DONE, expected)
        if over:
            return made(NOT_DONE if recorded else NO_DATA, expected)
        if commitment.target_type in (ONCE_PER_YEAR, ONCE):
            due = piece.last if commitment.target_type == ONCE_PER_YEAR else window.end
            return made(NOT_YET, None, due)
        return made(ON_TRACK if done >= expected else BEHIND, expected)

    def year(self, year: int) -> list[Progress]:
        """Every commitment in force in a year."""
        found = [self.progress(c, year) for c in self.commitments]
        return [p for p in found if p is not None]

    def history(self, commitment: Commitment) -> list[tuple[int, int, int | None]]:
        """(year, done, target) for each year the commitment's promise is in force: what
        `progress` gives for those years, without judging the pace of each."""
        found = []
        for year in self.years:
            piece = self.part(commitment, year)
            if piece is not None:
                found.append((year, self.counts.get((commitment.id, year), 0), piece.target))
        return found


def yearly_target(commitment: Commitment) -> int | None:
    """The number a commitment must reach in a year; None when it has no number."""
    if commitment.target_type == AT_LEAST_PER_YEAR:
        return commitment.target or 0
    if commitment.target_type in (ONCE_PER_YEAR, ONCE):
        return 1
    return None


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
    not_yet: int = 0
    no_activity: int = 0
    no_data: int = 0


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
            not_yet=sum(p.status == NOT_YET for p in items),
            no_activity=sum(p.status == NO_ACTIVITY for p in items),
            no_data=sum(p.status == NO_DATA for p in items),
        )
        for name, items in sorted(groups.items())
    ]
