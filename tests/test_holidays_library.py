"""The hand-kept holiday table in intake.clock, checked against python-holidays for 50 years.

intake.clock keeps its own table (decided in issue 13 §6): the days that count for statutory
deadlines are legal facts this project states and cites itself, and names and coinciding feasts
are its own. The well-kept library is the check that the arithmetic (Easter, midsommar, alla
helgons dag) stays right. The de facto non-working eves (midsommar-, jul-, nyårsafton) are the
municipality's choice, not law: they stay explicit and are checked apart.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from intake import clock

# 2005: nationaldagen became a helgdag and annandag pingst stopped being one (SFS 2004:1108);
# from then on the law and the table agree, so 50 years from there.
YEARS = range(2005, 2055)
EVES = {"midsommarafton", "julafton", "nyårsafton"}


def library_days(year: int) -> set[date]:
    """Allmänna helgdagar on weekdays and Saturdays, as python-holidays has them."""
    return set(holidays.Sweden(years=year, include_sundays=False, categories=("public",)))


def table_days(year: int) -> set[date]:
    """The table's helgdagar, without the eves (which are not helgdagar in law)."""
    return {
        day
        for day, name in clock.swedish_public_holidays(year).items()
        if not set(name.split(" / ")) <= EVES
    }


@pytest.mark.parametrize("year", YEARS)
def test_the_table_matches_the_library(year: int) -> None:
    ours, theirs = table_days(year), library_days(year)
    # Påskafton and pingstafton are Saturdays by definition and left out on purpose
    assert {d for d in theirs - ours if d.weekday() != 5} == set()
    assert ours - theirs == set()


@pytest.mark.parametrize("year", YEARS)
def test_the_working_day_calendar_matches_the_library_plus_the_eves(year: int) -> None:
    # Given the library's helgdagar and the three explicit eves
    closed = library_days(year) | eves(year)
    # Then every day of the year is a working day exactly when it is a weekday not closed
    day = date(year, 1, 1)
    while day.year == year:
        assert clock.is_working_day(day) == (day.weekday() < 5 and day not in closed), day
        day += timedelta(days=1)


def eves(year: int) -> set[date]:
    """Midsommarafton (the Friday before midsommardagen), julafton and nyårsafton."""
    midsommardagen = next(
        day
        for day, name in holidays.Sweden(years=year, language="en_US").items()
        if name == "Midsummer Day"
    )
    return {midsommardagen - timedelta(days=1), date(year, 12, 24), date(year, 12, 31)}


@pytest.mark.parametrize("year", YEARS)
def test_the_eves_are_explicit(year: int) -> None:
    names = clock.swedish_public_holidays(year)
    found = {day for day, name in names.items() if set(name.split(" / ")) & EVES}
    assert found == eves(year)
