"""Bounds on numbers and dates typed into forms and URLs, so no typo reaches the database or
the calendar arithmetic (a year-1 date overflows when converted to UTC)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation

FIRST_YEAR, LAST_YEAR = 2000, 2100
# Query parameters that are numbers, and the range each may take; past it the page is a 404.
QUERY_NUMBERS: dict[str, tuple[int, int]] = {
    # A page of a list: views clamp a page past either end to the nearest; past these bounds
    # it is no page at all (and an offset the database would overflow on).
    "sida": (-1_000_000, 1_000_000),
    "ar": (FIRST_YEAR, LAST_YEAR),  # a year of the follow-up
    "inkorg": (1, 2**31 - 1),  # an inbox id
}


def year_in_range(year: int) -> bool:
    """Whether a year is one the service deals in."""
    return FIRST_YEAR <= year <= LAST_YEAR


def years(form: Any, field: Any) -> None:
    """WTForms validator: a date (or 'YYYY-MM-DD…' text) in FIRST_YEAR–LAST_YEAR.

    Stops the chain: the field's own rules after it would do arithmetic on the year."""
    value = field.data
    if not value:
        return
    year = getattr(value, "year", None)
    if year is None and isinstance(value, str):
        head = value.strip()[:4]
        year = int(head) if head.isdigit() else None
    if year is not None and not year_in_range(year):
        raise StopValidation(
            _l("Skriv ett år mellan %(first)d och %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


def query_number_ok(name: str, value: str) -> bool:
    """False when a numeric query parameter holds a whole number outside its range."""
    bound = QUERY_NUMBERS.get(name)
    if bound is None:
        return True
    try:
        number = int(value)
    except ValueError:
        return True  # not a number: the view falls back to its default
    return bound[0] <= number <= bound[1]
