"""The days a promise is in force (its window), the part of a calendar year it covers, and
a yearly target prorated to it.

Decision (issue 11): a yearly target for a promise that covers only part of a year is
prorated by the calendar months it covers — a month it covers only in part counts as a whole
month — and the result is rounded up: "10 per år; 5 för jul–dec 2026".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from intake.followup.models import Promise


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


def months_between(first: date, last: date) -> int:
    """How many calendar months the days first..last touch (a part month counts whole)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def prorated(target: int, months: int) -> int:
    """A yearly target for `months` months of a year, rounded up."""
    if months >= 12:
        return target
    return math.ceil(target * months / 12)


@dataclass(frozen=True)
class Part:
    """The promise's days in one year: first and last day, and the target for them."""

    first: date
    last: date
    full_target: int | None
    target: int | None

    @property
    def months(self) -> int:
        """Calendar months covered (a part month counts whole)."""
        return months_between(self.first, self.last)

    @property
    def is_whole_year(self) -> bool:
        """Whether the promise covers every month of the year."""
        return self.months >= 12

    @property
    def label(self) -> str:
        """The months covered in words, as "jul–dec 2026"."""
        return months_label(self)

    @property
    def is_prorated(self) -> bool:
        """Whether the target shown differs from the yearly target."""
        return self.full_target is not None and not self.is_whole_year


def part(first: date, last: date, full_target: int | None, *, per_year: bool) -> Part:
    """The part of a year with its target: prorated when the target is "at least N a year"."""
    months = months_between(first, last)
    target = prorated(full_target, months) if per_year and full_target is not None else full_target
    return Part(first, last, full_target, target)


def months_label(piece: Part) -> str:
    """The months covered in words, as "jul–dec 2026" (in the page's language)."""
    from flask_babel import format_date  # needs a request or app context: pages only

    def short(day: date) -> str:
        return str(format_date(day, "LLL")).rstrip(".")

    if piece.first.month == piece.last.month:
        return f"{short(piece.first)} {piece.first.year}"
    return f"{short(piece.first)}–{short(piece.last)} {piece.last.year}"
