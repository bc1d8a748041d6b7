"""The part of a calendar year a promise covers, and a yearly target prorated to it.

Decision (issue 11): a yearly target for a promise that covers only part of a year is
prorated by the calendar months it covers — a month it covers only in part counts as a whole
month — and the result is rounded up: "10 per år; 5 för jul–dec 2026".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date


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
