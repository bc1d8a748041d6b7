"""Tests for intake.clock: Swedish calendar, office hours and statutory deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake import clock
from intake.clock import (
    STOCKHOLM,
    DeadlineState,
    add_working_days,
    deadline_state,
    easter_sunday,
    forhandsbedomning_due,
    is_working_day,
    local_date,
    next_working_day,
    skyddsbedomning_due,
    swedish_public_holidays,
    year_bounds_utc,
)

# Keep generated dates where the calendar rules are meaningful and far from date.max overflow.
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
# No example database: it would write a .hypothesis directory into the working tree.
PROPERTY = settings(database=None, max_examples=300, deadline=None)


def sthlm(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Build an aware Stockholm-local datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- now -----------------------------------------------------------------------------------------


def test_now_is_aware_utc() -> None:
    moment = clock.now()
    assert moment.tzinfo is UTC
    assert abs(datetime.now(UTC) - moment) < timedelta(seconds=5)


def test_now_can_be_monkeypatched_via_module_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = utc(2026, 1, 5, 9, 0)
    monkeypatch.setattr(clock, "now", lambda: frozen)
    assert clock.now() == frozen


# --- Easter and holidays -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2000, date(2000, 4, 23)),
        (2008, date(2008, 3, 23)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),  # earliest possible Easter
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


@given(st.integers(min_value=1583, max_value=9999))
@PROPERTY
def test_easter_is_a_sunday_in_the_allowed_window(year: int) -> None:
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


HOLIDAYS_2026 = {
    date(2026, 1, 1): "nyårsdagen",
    date(2026, 1, 6): "trettondedag jul",
    date(2026, 4, 3): "långfredagen",
    date(2026, 4, 5): "påskdagen",
    date(2026, 4, 6): "annandag påsk",
    date(2026, 5, 1): "första maj",
    date(2026, 5, 14): "Kristi himmelfärdsdag",
    date(2026, 5, 24): "pingstdagen",
    date(2026, 6, 6): "nationaldagen",
    date(2026, 6, 19): "midsommarafton",
    date(2026, 6, 20): "midsommardagen",
    date(2026, 10, 31): "alla helgons dag",
    date(2026, 12, 24): "julafton",
    date(2026, 12, 25): "juldagen",
    date(2026, 12, 26): "annandag jul",
    date(2026, 12, 31): "nyårsafton",
}


def test_full_holiday_list_2026() -> None:
    assert swedish_public_holidays(2026) == HOLIDAYS_2026


def test_midsommarafton_2026() -> None:
    assert swedish_public_holidays(2026)[date(2026, 6, 19)] == "midsommarafton"
    assert not is_working_day(date(2026, 6, 19))


@pytest.mark.parametrize(
    ("year", "midsommardagen", "alla_helgons_dag"),
    [
        (2024, date(2024, 6, 22), date(2024, 11, 2)),
        (2025, date(2025, 6, 21), date(2025, 11, 1)),
        (2026, date(2026, 6, 20), date(2026, 10, 31)),
        (2027, date(2027, 6, 26), date(2027, 11, 6)),
    ],
)
def test_movable_saturdays(year: int, midsommardagen: date, alla_helgons_dag: date) -> None:
    holidays = swedish_public_holidays(year)
    assert holidays[midsommardagen] == "midsommardagen"
    assert holidays[midsommardagen - timedelta(days=1)] == "midsommarafton"
    assert holidays[alla_helgons_dag] == "alla helgons dag"


def test_coinciding_holidays_keep_both_names() -> None:
    # 2008: Easter on 23 March puts Kristi himmelfärdsdag on 1 May.
    assert swedish_public_holidays(2008)[date(2008, 5, 1)] == "första maj / Kristi himmelfärdsdag"


def test_returned_holiday_dict_is_a_private_copy() -> None:
    swedish_public_holidays(2026).clear()
    assert swedish_public_holidays(2026) == HOLIDAYS_2026
    assert not is_working_day(date(2026, 1, 6))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 5), True),  # Monday
        (date(2026, 1, 6), False),  # trettondedag jul, Tuesday
        (date(2026, 1, 9), True),  # Friday
        (date(2026, 1, 10), False),  # Saturday
        (date(2026, 1, 11), False),  # Sunday
        (date(2026, 4, 2), True),  # skärtorsdagen is an ordinary working day
        (date(2026, 6, 19), False),  # midsommarafton
        (date(2026, 12, 23), True),
        (date(2026, 12, 24), False),  # julafton
        (date(2026, 12, 31), False),  # nyårsafton
        (date(2028, 2, 29), True),  # leap day, Tuesday
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


# --- working-day arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 5), date(2026, 1, 7)),  # over trettondedag jul
        (date(2026, 1, 9), date(2026, 1, 12)),  # Friday -> Monday
        (date(2026, 4, 2), date(2026, 4, 7)),  # over Easter
        (date(2026, 6, 18), date(2026, 6, 22)),  # over midsommar
        (date(2026, 12, 23), date(2026, 12, 28)),  # over Christmas
        (date(2026, 12, 30), date(2027, 1, 4)),  # over New Year into next year
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 1, 5), 0, date(2026, 1, 5)),
        (date(2026, 1, 10), 0, date(2026, 1, 10)),  # zero steps never moves, even on a weekend
        (date(2026, 1, 5), 1, date(2026, 1, 7)),
        (date(2026, 1, 5), 5, date(2026, 1, 13)),
        (date(2026, 12, 22), 3, date(2026, 12, 29)),
        (date(2026, 1, 7), -1, date(2026, 1, 5)),
        (date(2026, 1, 12), -1, date(2026, 1, 9)),
    ],
)
def test_add_working_days(day: date, n: int, expected: date) -> None:
    assert add_working_days(day, n) == expected


@given(DATES)
@PROPERTY
def test_next_working_day_is_the_first_working_day_after(day: date) -> None:
    result = next_working_day(day)
    assert result > day
    assert is_working_day(result)
    between = day + timedelta(days=1)
    while between < result:
        assert not is_working_day(between)
        between += timedelta(days=1)


@given(DATES, st.integers(min_value=-30, max_value=30))
@PROPERTY
def test_add_working_days_counts_working_days(day: date, n: int) -> None:
    result = add_working_days(day, n)
    if n == 0:
        assert result == day
        return
    assert is_working_day(result)
    low, high = (day, result) if n > 0 else (result, day)
    # Working days in the half-open interval (low, high] (forwards) or [low, high) (backwards).
    span = [low + timedelta(days=i) for i in range((high - low).days + 1)]
    inside = span[1:] if n > 0 else span[:-1]
    assert sum(is_working_day(d) for d in inside) == abs(n)


# --- local dates and year bounds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Spring forward on Sunday 2026-03-29 at 01:00 UTC (CET +1 -> CEST +2).
        (utc(2026, 3, 28, 22, 59, 59), date(2026, 3, 28)),
        (utc(2026, 3, 28, 23, 0), date(2026, 3, 29)),
        (utc(2026, 3, 29, 21, 59, 59), date(2026, 3, 29)),
        (utc(2026, 3, 29, 22, 0), date(2026, 3, 30)),
        # Fall back on Sunday 2026-10-25 at 01:00 UTC (CEST +2 -> CET +1).
        (utc(2026, 10, 24, 21, 59, 59), date(2026, 10, 24)),
        (utc(2026, 10, 24, 22, 0), date(2026, 10, 25)),
        (utc(2026, 10, 25, 22, 59, 59), date(2026, 10, 25)),
        (utc(2026, 10, 25, 23, 0), date(2026, 10, 26)),
        # Any aware zone works, not just UTC.
        (datetime(2026, 1, 5, 19, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 1, 6)),
    ],
)
def test_local_date(moment: datetime, expected: date) -> None:
    assert local_date(moment) == expected


def test_local_date_rejects_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 1, 5, 12, 0))


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2026, (utc(2025, 12, 31, 23, 0), utc(2026, 12, 31, 23, 0))),
        (2028, (utc(2027, 12, 31, 23, 0), utc(2028, 12, 31, 23, 0))),
    ],
)
def test_year_bounds_utc(year: int, expected: tuple[datetime, datetime]) -> None:
    start, end = year_bounds_utc(year)
    assert (start, end) == expected
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert local_date(start) == date(year, 1, 1)
    assert local_date(end - timedelta(microseconds=1)) == date(year, 12, 31)


# --- omedelbar skyddsbedömning -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        # Friday 2026-01-09 around default closing time 16:30.
        (sthlm(2026, 1, 9, 16, 29), date(2026, 1, 9)),
        (sthlm(2026, 1, 9, 16, 30), date(2026, 1, 12)),
        (sthlm(2026, 1, 9, 16, 31), date(2026, 1, 12)),
        # Before opening on a working day: handled when the office opens that day.
        (sthlm(2026, 1, 9, 6, 15), date(2026, 1, 9)),
        (sthlm(2026, 1, 5, 0, 0), date(2026, 1, 5)),
        # Weekend and holiday.
        (sthlm(2026, 1, 10, 10, 0), date(2026, 1, 12)),  # Saturday
        (sthlm(2026, 1, 11, 23, 59), date(2026, 1, 12)),  # Sunday
        (sthlm(2026, 1, 6, 10, 0), date(2026, 1, 7)),  # trettondedag jul
        # Thursday evening before midsommar: midsommarafton is closed too.
        (sthlm(2026, 6, 18, 19, 0), date(2026, 6, 22)),
        (sthlm(2026, 6, 19, 9, 0), date(2026, 6, 22)),
        # Christmas: 23 Dec evening -> Monday 28 Dec.
        (sthlm(2026, 12, 23, 17, 0), date(2026, 12, 28)),
        # Easter: skärtorsdag evening -> Tuesday after annandag påsk.
        (sthlm(2026, 4, 2, 18, 0), date(2026, 4, 7)),
        # Leap day 2028-02-29 is a Tuesday.
        (sthlm(2028, 2, 29, 9, 0), date(2028, 2, 29)),
        # UTC inputs across DST: closing 16:30 local is 15:30 UTC in winter, 14:30 UTC in summer.
        (utc(2026, 3, 27, 15, 29), date(2026, 3, 27)),  # Fri 16:29 CET
        (utc(2026, 3, 30, 14, 31), date(2026, 3, 31)),  # Mon 16:31 CEST
        (utc(2026, 3, 30, 14, 29), date(2026, 3, 30)),  # Mon 16:29 CEST
        (utc(2026, 3, 29, 22, 30), date(2026, 3, 30)),  # Mon 00:30 CEST, not Sunday
        (utc(2026, 10, 23, 14, 31), date(2026, 10, 26)),  # Fri 16:31 CEST
        (utc(2026, 10, 26, 15, 29), date(2026, 10, 26)),  # Mon 16:29 CET
        (utc(2026, 10, 26, 15, 31), date(2026, 10, 27)),  # Mon 16:31 CET
        (utc(2026, 10, 25, 23, 30), date(2026, 10, 26)),  # Mon 00:30 CET
        # UTC evening before New Year's Day locally already 2027-01-01 (a holiday, Friday).
        (utc(2026, 12, 31, 23, 30), date(2027, 1, 4)),
    ],
)
def test_skyddsbedomning_due_default_hours(received_at: datetime, expected: date) -> None:
    assert skyddsbedomning_due(received_at) == expected


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        (sthlm(2026, 1, 9, 16, 31), date(2026, 1, 9)),
        (sthlm(2026, 1, 9, 16, 59), date(2026, 1, 9)),
        (sthlm(2026, 1, 9, 17, 0), date(2026, 1, 12)),
        (sthlm(2026, 1, 9, 17, 1), date(2026, 1, 12)),
    ],
)
def test_skyddsbedomning_due_custom_closing(received_at: datetime, expected: date) -> None:
    assert skyddsbedomning_due(received_at, closes=time(17, 0)) == expected


def test_skyddsbedomning_due_custom_opening_does_not_push_early_reports() -> None:
    assert skyddsbedomning_due(sthlm(2026, 1, 9, 7, 0), opens=time(9, 0)) == date(2026, 1, 9)


def test_skyddsbedomning_due_rejects_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        skyddsbedomning_due(datetime(2026, 1, 9, 12, 0))


@pytest.mark.parametrize(
    ("opens", "closes"),
    [
        (time(17, 0), time(8, 0)),
        (time(8, 0), time(8, 0)),
        (time(8, 0), time(16, 30, tzinfo=UTC)),
    ],
)
def test_skyddsbedomning_due_rejects_bad_office_hours(opens: time, closes: time) -> None:
    with pytest.raises(ValueError):
        skyddsbedomning_due(sthlm(2026, 1, 9, 12, 0), opens=opens, closes=closes)


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
@PROPERTY
def test_skyddsbedomning_due_is_a_working_day_not_before_receipt(naive_utc: datetime) -> None:
    received_at = naive_utc.replace(tzinfo=UTC)
    due = skyddsbedomning_due(received_at)
    assert is_working_day(due)
    assert local_date(received_at) <= due <= next_working_day(local_date(received_at))


# --- förhandsbedömning ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        (sthlm(2026, 1, 5, 10, 0), date(2026, 1, 19)),  # Monday + 14 = Monday
        (sthlm(2026, 1, 5, 23, 59), date(2026, 1, 19)),  # time of day is irrelevant
        (sthlm(2026, 1, 3, 10, 0), date(2026, 1, 19)),  # lands Saturday 17th -> Monday 19th
        (sthlm(2026, 1, 4, 10, 0), date(2026, 1, 19)),  # lands Sunday 18th -> Monday 19th
        (sthlm(2026, 6, 5, 10, 0), date(2026, 6, 22)),  # lands on midsommarafton -> Monday
        (sthlm(2026, 12, 10, 10, 0), date(2026, 12, 28)),  # lands on julafton -> 28 Dec
        (utc(2026, 1, 4, 23, 30), date(2026, 1, 19)),  # already 5 Jan in Stockholm
    ],
)
def test_forhandsbedomning_due(received_at: datetime, expected: date) -> None:
    assert forhandsbedomning_due(received_at) == expected


def test_forhandsbedomning_due_rejects_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        forhandsbedomning_due(datetime(2026, 1, 5, 10, 0))


# --- deadline state ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "label", "days_remaining"),
    [
        (date(2026, 1, 18), "upcoming", 1),
        (date(2026, 1, 19), "due_today", 0),
        (date(2026, 1, 20), "overdue", -1),
    ],
)
def test_deadline_state(today: date, label: str, days_remaining: int) -> None:
    due = date(2026, 1, 19)
    assert deadline_state(due, today=today) == label
    state = DeadlineState(due=due, today=today)
    assert state.label == label
    assert state.days_remaining == days_remaining


def test_deadline_state_is_frozen() -> None:
    state = DeadlineState(due=date(2026, 1, 19), today=date(2026, 1, 5))
    with pytest.raises(AttributeError):
        state.due = date(2026, 1, 20)  # type: ignore[misc]
