"""Wall clock, Swedish calendar and statutory deadlines for incoming reports (orosanmälningar).

Everything time-related in the project goes through this module so that tests can freeze time
by monkeypatching ``intake.clock.now`` and so that "which day is it?" is always answered in
Stockholm local time, never in UTC or the server's local zone.

The holiday table is kept here, by hand, on purpose: which days count for a statutory deadline
is a legal fact the project states itself (lagen (1989:253) om allmänna helgdagar, plus the
municipality's closed eves). tests/test_holidays_library.py checks it against python-holidays
(`holidays.Sweden`) for 50 years, so the arithmetic cannot drift unnoticed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from intake import law

__all__ = [
    "OFFICE_CLOSES",
    "OFFICE_OPENS",
    "STOCKHOLM",
    "DeadlineLabel",
    "DeadlineState",
    "add_working_days",
    "deadline_state",
    "easter_sunday",
    "feedback_due",
    "forhandsbedomning_due",
    "is_working_day",
    "local_date",
    "next_working_day",
    "now",
    "registration_due",
    "skyddsbedomning_due",
    "swedish_public_holidays",
    "year_bounds_utc",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Default office hours of the social services reception; callers may override per unit.
OFFICE_OPENS = time(8, 0)
OFFICE_CLOSES = time(16, 30)

# The förhandsbedömning must be decided within 14 days of receipt (law.cite("sol_20_2")).
FORHANDSBEDOMNING_DAYS = law.FORHANDSBEDOMNING_DAYS

DeadlineLabel = Literal["overdue", "due_today", "upcoming"]


def now() -> datetime:
    """Return the current moment as an aware UTC datetime (the project's only wall-clock read)."""
    return datetime.now(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime is ambiguous (server zone? UTC? Stockholm?) and would silently give
    # the wrong deadline around midnight, so we refuse it rather than guess.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")


def local_date(moment: datetime) -> date:
    """Return the Stockholm calendar date of an aware datetime."""
    _require_aware(moment, "moment")
    return moment.astimezone(STOCKHOLM).date()


def year_bounds_utc(year: int) -> tuple[datetime, datetime]:
    """Return [start, end) of the Stockholm calendar year as aware UTC datetimes."""
    start = datetime(year, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    return start, end


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of the given Gregorian year (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's customary name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_saturday_from(start: date) -> date:
    # weekday(): Monday == 0 ... Saturday == 5.
    return start + timedelta(days=(5 - start.weekday()) % 7)


@functools.lru_cache(maxsize=256)
def _holidays(year: int) -> MappingProxyType[date, str]:
    # Cached as a read-only mapping so no caller can corrupt the shared cache entry.
    easter = easter_sunday(year)
    midsommardagen = _first_saturday_from(date(year, 6, 20))
    entries: list[tuple[date, str]] = [
        # Allmänna helgdagar (lagen (1989:253) om allmänna helgdagar). Påskafton and
        # pingstafton are omitted: they are always Saturdays and so never affect working days.
        (date(year, 1, 1), "nyårsdagen"),
        (date(year, 1, 6), "trettondedag jul"),
        (easter - timedelta(days=2), "långfredagen"),
        (easter, "påskdagen"),
        (easter + timedelta(days=1), "annandag påsk"),
        (date(year, 5, 1), "första maj"),
        (easter + timedelta(days=39), "Kristi himmelfärdsdag"),
        (date(year, 6, 6), "nationaldagen"),
        (easter + timedelta(days=49), "pingstdagen"),
        (midsommardagen, "midsommardagen"),
        (_first_saturday_from(date(year, 10, 31)), "alla helgons dag"),
        (date(year, 12, 25), "juldagen"),
        (date(year, 12, 26), "annandag jul"),
        # De facto arbetsfria dagar: not helgdagar in law, but the municipal offices are
        # closed (kollektivavtal / Semesterlagen treats them like Sundays), so no deadline
        # may be considered met on them.
        (midsommardagen - timedelta(days=1), "midsommarafton"),
        (date(year, 12, 24), "julafton"),
        (date(year, 12, 31), "nyårsafton"),
    ]
    result: dict[date, str] = {}
    for day, name in entries:
        # Movable feasts can coincide with fixed ones (e.g. 2008: Kristi himmelfärdsdag on
        # första maj); keep both names instead of letting one overwrite the other.
        result[day] = f"{result[day]} / {name}" if day in result else name
    return MappingProxyType(dict(sorted(result.items())))


def swedish_public_holidays(year: int) -> dict[date, str]:
    """Return Swedish public holidays plus midsommar-, jul- and nyårsafton, keyed by date."""
    # A fresh dict per call: the cached mapping is shared and must stay unmodified.
    return dict(_holidays(year))


def is_working_day(d: date) -> bool:
    """Return True if d is Monday–Friday and neither a holiday nor an arbetsfri afton."""
    return d.weekday() < 5 and d not in _holidays(d.year)


def next_working_day(d: date) -> date:
    """Return the first working day strictly after d."""
    candidate = d + timedelta(days=1)
    while not is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def _previous_working_day(d: date) -> date:
    candidate = d - timedelta(days=1)
    while not is_working_day(candidate):
        candidate -= timedelta(days=1)
    return candidate


def add_working_days(d: date, n: int) -> date:
    """Return the date n working days after d (before d if n is negative; d itself if n == 0)."""
    step = next_working_day if n >= 0 else _previous_working_day
    result = d
    for _ in range(abs(n)):
        result = step(result)
    return result


def skyddsbedomning_due(
    received_at: datetime, *, opens: time = OFFICE_OPENS, closes: time = OFFICE_CLOSES
) -> date:
    """Return the local date by which the omedelbar skyddsbedömning is due."""
    _require_aware(received_at, "received_at")
    if opens.tzinfo is not None or closes.tzinfo is not None:
        # Office hours are Stockholm wall-clock times; an offset on them would be meaningless.
        raise ValueError("opens and closes must be naive local (Stockholm) times")
    if not opens < closes:
        raise ValueError(f"opens ({opens}) must be before closes ({closes})")
    local = received_at.astimezone(STOCKHOLM)
    day = local.date()
    # A report that arrives before opening is handled when the office opens that same day,
    # so only the closing time matters; `opens` is validated to catch swapped arguments.
    if is_working_day(day) and local.time() < closes:
        return day
    return next_working_day(day)


def forhandsbedomning_due(received_at: datetime) -> date:
    """Return the due date of the förhandsbedömning: receipt date + 14 days, on a working day."""
    # The law counts 14 calendar days. Moving a deadline that lands on a weekend or holiday
    # to the next working day is this municipality's practice choice, not a statutory rule.
    due = local_date(received_at) + timedelta(days=FORHANDSBEDOMNING_DAYS)
    return due if is_working_day(due) else next_working_day(due)


def registration_due(received_at: datetime) -> date:
    """Return the date the report should be registered by: the next working day after receipt."""
    # OSL 5 kap. 1 § (law.cite("osl_5_1")): registration without delay; see intake.law.
    return add_working_days(local_date(received_at), law.REGISTRATION_WORKING_DAYS)


def feedback_due(decided_on: date) -> date:
    """Return the date the återkoppling is due, counted from the date of the decision."""
    # Prop. 2025/26:12: "inom en viss tid"; the conservative reading is in intake.law.
    return add_working_days(decided_on, law.FEEDBACK_WORKING_DAYS)


@dataclass(frozen=True)
class DeadlineState:
    """A due date judged against a given local date."""

    due: date
    today: date

    @property
    def label(self) -> DeadlineLabel:
        """Return "overdue", "due_today" or "upcoming"."""
        return deadline_state(self.due, today=self.today)

    @property
    def days_remaining(self) -> int:
        """Return calendar days until due (negative when overdue)."""
        return (self.due - self.today).days


def deadline_state(due: date, *, today: date) -> DeadlineLabel:
    """Return "overdue", "due_today" or "upcoming" for a due date relative to today."""
    if today > due:
        return "overdue"
    if today == due:
        return "due_today"
    return "upcoming"
