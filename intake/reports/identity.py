"""Parsing and validation of Swedish personnummer and samordningsnummer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MINYEAR, date
from typing import Final, Literal

__all__ = [
    "IdentityNumber",
    "IdentityNumberError",
    "IdentityNumberReason",
    "is_valid_identity_number",
    "luhn_check_digit",
    "parse_birth_date",
    "parse_identity_number",
]

IdentityNumberReason = Literal["format", "checksum", "date", "future"]

# Messages deliberately never echo the input: identity numbers are personal data and these
# errors tend to end up in logs and flash messages.
_MESSAGES: Final[dict[IdentityNumberReason, str]] = {
    "format": "identity number or date is not in a recognised format",
    "checksum": "identity number check digit is wrong",
    "date": "identity number or date does not denote a real calendar date",
    "future": "identity number or date lies in the future",
}

# Samordningsnummer are personnummer with 60 added to the day of birth.
_COORDINATION_OFFSET: Final = 60

# Explicit [0-9] plus re.ASCII: plain \d would also accept e.g. Arabic-Indic digits, which
# int() happily converts, letting look-alike input through.
_TWELVE_DIGIT: Final = re.compile(
    r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"
    r"(?P<sep>[- ]?)(?P<serial>[0-9]{3})(?P<check>[0-9])",
    re.ASCII,
)
_TEN_DIGIT: Final = re.compile(
    r"(?P<year>[0-9]{2})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"
    r"(?P<sep>[-+ ]?)(?P<serial>[0-9]{3})(?P<check>[0-9])",
    re.ASCII,
)
_BIRTH_DATE: Final = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>-?)(?P<month>[0-9]{2})(?P=sep)(?P<day>[0-9]{2})",
    re.ASCII,
)
_NINE_DIGITS: Final = re.compile(r"[0-9]{9}", re.ASCII)
_MIN_BIRTH_YEAR: Final = 1900


class IdentityNumberError(ValueError):
    """Raised when an identity number or birth date is rejected; see ``reason``."""

    reason: IdentityNumberReason

    def __init__(self, reason: IdentityNumberReason, message: str | None = None) -> None:
        """Create an error for ``reason`` with an optional human-readable message."""
        super().__init__(message if message is not None else _MESSAGES[reason])
        self.reason = reason

    def __reduce__(self) -> tuple[type[IdentityNumberError], tuple[IdentityNumberReason, str]]:
        """Keep ``reason`` when pickled; the default would pass the message in as the reason."""
        return (type(self), (self.reason, str(self)))


@dataclass(frozen=True)
class IdentityNumber:
    """A validated personnummer or samordningsnummer."""

    birth_date: date
    serial: str
    check: str
    coordination: bool

    def __post_init__(self) -> None:
        """Reject instances whose parts could not come from a valid number."""
        # Checked here too so that hand-built instances cannot render an invalid canonical().
        if len(self.serial) != 3 or not self.serial.isascii() or not self.serial.isdigit():
            raise IdentityNumberError("format", "serial must be exactly three digits")
        if len(self.check) != 1 or not self.check.isascii() or not self.check.isdigit():
            raise IdentityNumberError("format", "check must be exactly one digit")
        if luhn_check_digit(self.canonical()[2:11]) != self.check:
            raise IdentityNumberError("checksum")

    def canonical(self) -> str:
        """Return the number as 12 digits ``YYYYMMDDNNNC``, coordination day kept at +60."""
        day = self.birth_date.day + (_COORDINATION_OFFSET if self.coordination else 0)
        born = self.birth_date
        # Formatted by hand because strftime("%Y") does not zero-pad years below 1000 everywhere.
        return f"{born.year:04d}{born.month:02d}{day:02d}{self.serial}{self.check}"

    def age_on(self, day: date) -> int:
        """Return the age in completed years on ``day``."""
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        born = self.birth_date
        # Tuple comparison means someone born on 29 February gets a year older on 1 March in
        # non-leap years.
        before_birthday = (day.month, day.day) < (born.month, born.day)
        return day.year - born.year - int(before_birthday)


def luhn_check_digit(nine_digits: str) -> str:
    """Return the Luhn check digit for the nine digits ``YYMMDDNNN``."""
    if not _NINE_DIGITS.fullmatch(nine_digits):
        raise IdentityNumberError("format", "expected exactly nine ASCII digits")
    total = 0
    for index, char in enumerate(nine_digits):
        # Skatteverket weights the digits 2, 1, 2, 1, ... from the left; a two-digit product
        # contributes the sum of its digits.
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def _make_date(year: int, month: int, day: int) -> date:
    """Build a date, translating impossible dates into IdentityNumberError("date")."""
    if year < MINYEAR:
        # A ten-digit number read relative to a very early ``today`` can land before year 1.
        raise IdentityNumberError("date")
    try:
        return date(year, month, day)
    except ValueError:
        raise IdentityNumberError("date") from None


def _resolve_century(yy: int, month: int, day: int, *, plus: bool, today: date) -> int:
    """Return the full year for a two-digit year relative to ``today``."""
    year = today.year - today.year % 100 + yy
    # Compared as tuples rather than dates so that an impossible date (e.g. 29 February in a
    # non-leap year) still gets a century and is then reported as "date", not "format".
    if (year, month, day) > (today.year, today.month, today.day):
        year -= 100
    if plus:
        # "+" is how the ten-digit form marks someone aged 100 or more.
        year -= 100
    return year


def parse_identity_number(text: str, *, today: date) -> IdentityNumber:
    """Parse and validate a personnummer or samordningsnummer as of ``today``."""
    stripped = text.strip()
    if match := _TWELVE_DIGIT.fullmatch(stripped):
        full_year: int | None = int(match["year"])
    elif match := _TEN_DIGIT.fullmatch(stripped):
        full_year = None
    else:
        raise IdentityNumberError("format")

    written_day = int(match["day"])
    serial = match["serial"]
    check = match["check"]

    # The check digit covers the ten-digit form as written, including a +60 day.
    short_form = match["year"][-2:] + match["month"] + match["day"] + serial
    if luhn_check_digit(short_form) != check:
        raise IdentityNumberError("checksum")

    coordination = written_day > _COORDINATION_OFFSET
    day = written_day - _COORDINATION_OFFSET if coordination else written_day
    month = int(match["month"])
    if full_year is None:
        full_year = _resolve_century(
            int(match["year"]), month, day, plus=match["sep"] == "+", today=today
        )
    birth_date = _make_date(full_year, month, day)
    if birth_date > today:
        raise IdentityNumberError("future")
    return IdentityNumber(
        birth_date=birth_date, serial=serial, check=check, coordination=coordination
    )


def is_valid_identity_number(text: str, *, today: date) -> bool:
    """Return whether ``text`` is a valid personnummer or samordningsnummer as of ``today``."""
    try:
        parse_identity_number(text, today=today)
    except IdentityNumberError:
        return False
    return True


def parse_birth_date(text: str, *, today: date) -> date:
    """Parse a birth date written as ``YYYY-MM-DD`` or ``YYYYMMDD``."""
    # date.fromisoformat is not used: since 3.11 it also accepts week dates and other forms.
    match = _BIRTH_DATE.fullmatch(text.strip())
    if match is None:
        raise IdentityNumberError("format")
    born = _make_date(int(match["year"]), int(match["month"]), int(match["day"]))
    if born.year < _MIN_BIRTH_YEAR:
        # A real date, but not a plausible birth date for anyone we serve.
        raise IdentityNumberError("date", f"birth dates before {_MIN_BIRTH_YEAR} are not accepted")
    if born > today:
        raise IdentityNumberError("future")
    return born
