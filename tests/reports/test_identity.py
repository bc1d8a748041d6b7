"""Tests for intake.reports.identity."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.reports.identity import (
    IdentityNumber,
    IdentityNumberError,
    is_valid_identity_number,
    luhn_check_digit,
    parse_birth_date,
    parse_identity_number,
)

TODAY = date(2025, 6, 15)


WEIGHTS = (2, 1, 2, 1, 2, 1, 2, 1, 2)


def reference_luhn(nine_digits: str) -> str:
    """Compute the check digit independently of the module under test."""
    # Deliberately a different formulation: concatenate the weighted products as text and sum
    # every digit, instead of digit-summing each product arithmetically.
    weighted = "".join(str(int(d) * w) for d, w in zip(nine_digits, WEIGHTS, strict=True))
    return str(-sum(int(c) for c in weighted) % 10)


def with_check(prefix: str, ten_digit_body: str) -> str:
    """Append the reference check digit; ``ten_digit_body`` is the YYMMDDNNN part."""
    return prefix + reference_luhn(ten_digit_body)


def test_reference_luhn_matches_published_example() -> None:
    """Anchor the reference implementation on Skatteverket's own example number."""
    assert reference_luhn("121212121") == "2"


# Each row: text, expected birth date, expected canonical form, expected coordination flag.
LEAP_DAY = with_check("20000229-123", "000229123")
COORD = with_check("701063-239", "701063239")
VALID_CASES: list[tuple[str, date, str, bool]] = [
    ("19121212-1212", date(1912, 12, 12), "191212121212", False),
    ("191212121212", date(1912, 12, 12), "191212121212", False),
    ("121212+1212", date(1912, 12, 12), "191212121212", False),
    ("121212-1212", date(2012, 12, 12), "201212121212", False),
    ("1212121212", date(2012, 12, 12), "201212121212", False),
    ("121212 1212", date(2012, 12, 12), "201212121212", False),
    ("19121212 1212", date(1912, 12, 12), "191212121212", False),
    ("  121212-1212\n", date(2012, 12, 12), "201212121212", False),
    ("\t19121212-1212 ", date(1912, 12, 12), "191212121212", False),
    ("811218-9876", date(1981, 12, 18), "198112189876", False),
    ("8112189876", date(1981, 12, 18), "198112189876", False),
    (LEAP_DAY, date(2000, 2, 29), LEAP_DAY.replace("-", ""), False),
    (LEAP_DAY[2:], date(2000, 2, 29), LEAP_DAY.replace("-", ""), False),
    (COORD, date(1970, 10, 3), "19" + COORD.replace("-", ""), True),
    ("19" + COORD, date(1970, 10, 3), "19" + COORD.replace("-", ""), True),
]


@pytest.mark.parametrize(("text", "born", "canonical", "coordination"), VALID_CASES)
def test_valid_numbers(text: str, born: date, canonical: str, coordination: bool) -> None:
    """Known-good numbers parse to the expected date, canonical form and kind."""
    number = parse_identity_number(text, today=TODAY)
    assert number.birth_date == born
    assert number.canonical() == canonical
    assert number.coordination is coordination
    assert number.serial == canonical[8:11]
    assert number.check == canonical[11]
    assert is_valid_identity_number(text, today=TODAY)


def test_example_numbers_have_correct_check_digits() -> None:
    """The hard-coded examples above really are Luhn-valid."""
    for text in ["19121212-1212", "811218-9876", "701063-2391"]:
        digits = text.replace("-", "")[-10:]
        assert reference_luhn(digits[:9]) == digits[9], text


def wrong_check(body: str) -> str:
    """Return a check digit that is not the correct one for ``body``."""
    return str((int(reference_luhn(body)) + 1) % 10)


@pytest.mark.parametrize(
    "text",
    [
        "19121212-1213",
        "121212-1213",
        "8112189875",
        "811218-9877",
        "701063-2390",
        "20000229-123" + wrong_check("000229123"),
    ],
)
def test_invalid_checksum(text: str) -> None:
    """A wrong check digit is reported as a checksum error."""
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(text, today=TODAY)
    assert excinfo.value.reason == "checksum"
    assert not is_valid_identity_number(text, today=TODAY)


@pytest.mark.parametrize(
    ("prefix", "body"),
    [
        ("20230230-123", "230230123"),  # 30 February
        ("20230229-123", "230229123"),  # not a leap year
        ("19000229-123", "000229123"),  # 1900 was not a leap year
        ("000229+123", "000229123"),  # "+" puts this in 1900
        ("20231301-123", "231301123"),  # month 13
        ("20230001-123", "230001123"),  # month 0
        ("20230100-123", "230100123"),  # day 0
        ("20230132-123", "230132123"),  # day 32
        ("20230160-123", "230160123"),  # coordination day 0
        ("20230192-123", "230192123"),  # coordination day 32
        ("20230231-123", "230231123"),  # 31 February, not a coordination number
        ("20230289-123", "230289123"),  # coordination 29 February in a non-leap year
        ("230230-123", "230230123"),
    ],
)
def test_invalid_date(prefix: str, body: str) -> None:
    """Checksum-valid numbers with impossible dates are reported as date errors."""
    text = with_check(prefix, body)
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(text, today=TODAY)
    assert excinfo.value.reason == "date"


def test_coordination_leap_day() -> None:
    """Day 89 in February of a leap year is a valid samordningsnummer for 29 February."""
    number = parse_identity_number(with_check("20000289-123", "000289123"), today=TODAY)
    assert number.birth_date == date(2000, 2, 29)
    assert number.coordination


@pytest.mark.parametrize(
    ("prefix", "body"),
    [
        ("20250616-123", "250616123"),  # tomorrow
        ("20990101-123", "990101123"),
        ("20250676-123", "250676123"),  # samordningsnummer for tomorrow
    ],
)
def test_future_date(prefix: str, body: str) -> None:
    """A birth date after ``today`` is reported as a future error."""
    text = with_check(prefix, body)
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(text, today=TODAY)
    assert excinfo.value.reason == "future"


def test_born_today_is_accepted() -> None:
    """Being born on ``today`` is not in the future."""
    number = parse_identity_number(with_check("20250615-123", "250615123"), today=TODAY)
    assert number.birth_date == TODAY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abcdef-ghij",
        "81121a-9876",
        "811218-987",
        "81121-9876",
        "811218--9876",
        "811218-98765",
        "1981121898761",
        "19811218+9876",  # "+" only belongs to the ten-digit form
        "811218_9876",
        "811218/9876",
        "811218 - 9876",
        "811218  9876",
        "81 1218-9876",
        "١٢٣",
        "٨١١٢١٨-٩٨٧٦",  # Arabic-Indic digits
        "８１１２１８-９８７６",  # fullwidth digits
        "811218\u20139876",  # en dash
        "-811218-9876",
        "+8112189876",
    ],
)
def test_format_garbage(text: str) -> None:
    """Anything not in an accepted layout is reported as a format error."""
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(text, today=TODAY)
    assert excinfo.value.reason == "format"
    assert not is_valid_identity_number(text, today=TODAY)


@pytest.mark.parametrize(
    ("prefix", "body", "today", "expected"),
    [
        # Most recent century not in the future.
        ("250615-123", "250615123", date(2025, 6, 15), date(2025, 6, 15)),
        ("250616-123", "250616123", date(2025, 6, 15), date(1925, 6, 16)),
        ("991231-123", "991231123", date(2025, 6, 15), date(1999, 12, 31)),
        ("000101-123", "000101123", date(2025, 6, 15), date(2000, 1, 1)),
        ("000101-123", "000101123", date(1999, 12, 31), date(1900, 1, 1)),
        ("991231-123", "991231123", date(2000, 1, 1), date(1999, 12, 31)),
        # "+" goes back one more century.
        ("250615+123", "250615123", date(2025, 6, 15), date(1925, 6, 15)),
        ("250616+123", "250616123", date(2025, 6, 15), date(1825, 6, 16)),
        ("121212+121", "121212121", date(2025, 6, 15), date(1912, 12, 12)),
        ("000229+123", "000229123", date(2101, 1, 1), date(2000, 2, 29)),
        # Coordination day is removed before choosing the century.
        ("250676-123", "250676123", date(2025, 6, 15), date(1925, 6, 16)),
        ("250675-123", "250675123", date(2025, 6, 15), date(2025, 6, 15)),
    ],
)
def test_century_relative_to_today(prefix: str, body: str, today: date, expected: date) -> None:
    """Ten-digit numbers get their century from ``today`` and the separator."""
    number = parse_identity_number(with_check(prefix, body), today=today)
    assert number.birth_date == expected


def test_leap_day_century_is_chosen_before_validation() -> None:
    """29 February of a not-yet-reached leap year falls back a century and can be invalid."""
    # On 2024-01-01, "000229" is 2000-02-29 but "240229" must be 1924-02-29 (a leap year).
    number = parse_identity_number(with_check("240229-123", "240229123"), today=date(2024, 1, 1))
    assert number.birth_date == date(1924, 2, 29)
    # On 2001-01-01 "000229+" lands in 1900, which has no 29 February.
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(with_check("000229+123", "000229123"), today=date(2001, 1, 1))
    assert excinfo.value.reason == "date"


def test_ten_and_twelve_digit_forms_are_equal() -> None:
    """The same person parses to equal values regardless of how the number was written."""
    forms = ["19811218-9876", "198112189876", "811218-9876", "8112189876", " 811218 9876 "]
    parsed = {parse_identity_number(form, today=TODAY) for form in forms}
    assert parsed == {IdentityNumber(date(1981, 12, 18), "987", "6", False)}


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1981, 12, 18), date(2025, 6, 15), 43),
        (date(1981, 12, 18), date(2025, 12, 17), 43),
        (date(1981, 12, 18), date(2025, 12, 18), 44),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2025, 6, 15), date(2025, 6, 15), 0),
    ],
)
def test_age_on(born: date, day: date, age: int) -> None:
    """Age is counted in completed years."""
    body = born.strftime("%y%m%d") + "123"
    number = IdentityNumber(born, "123", reference_luhn(body), False)
    assert number.age_on(day) == age


def test_age_on_before_birth_is_rejected() -> None:
    """Asking for an age before birth is a programming error."""
    number = parse_identity_number("811218-9876", today=TODAY)
    with pytest.raises(ValueError, match="before the birth date"):
        number.age_on(date(1981, 12, 17))


@pytest.mark.parametrize(
    ("serial", "check", "reason"),
    [("12", "3", "format"), ("1234", "3", "format"), ("12a", "3", "format"), ("987", "", "format")],
)
def test_identity_number_rejects_malformed_parts(serial: str, check: str, reason: str) -> None:
    """Hand-built instances must have a three-digit serial and a one-digit check."""
    with pytest.raises(IdentityNumberError) as excinfo:
        IdentityNumber(date(1981, 12, 18), serial, check, False)
    assert excinfo.value.reason == reason


def test_identity_number_rejects_wrong_check() -> None:
    """Hand-built instances must carry the right check digit."""
    with pytest.raises(IdentityNumberError) as excinfo:
        IdentityNumber(date(1981, 12, 18), "987", "5", False)
    assert excinfo.value.reason == "checksum"


@pytest.mark.parametrize(
    ("nine", "expected"),
    [("121212121", "2"), ("811218987", "6"), ("701063239", "1"), ("000000000", "0")],
)
def test_luhn_check_digit(nine: str, expected: str) -> None:
    """The check digit matches known numbers."""
    assert luhn_check_digit(nine) == expected
    assert reference_luhn(nine) == expected


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_luhn_check_digit_rejects_bad_input(bad: str) -> None:
    """Only exactly nine ASCII digits are accepted."""
    with pytest.raises(IdentityNumberError) as excinfo:
        luhn_check_digit(bad)
    assert excinfo.value.reason == "format"


def test_error_message_does_not_echo_input() -> None:
    """Error messages must not leak the (personal) number into logs."""
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number("811218-9877", today=TODAY)
    assert "811218" not in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_error_survives_pickling() -> None:
    """The reason is kept when the error crosses a process boundary."""
    error = IdentityNumberError("checksum")
    restored = pickle.loads(pickle.dumps(error))
    assert restored.reason == "checksum"
    assert str(restored) == str(error)


# parse_birth_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1981-12-18", date(1981, 12, 18)),
        ("19811218", date(1981, 12, 18)),
        (" 2000-02-29\n", date(2000, 2, 29)),
        ("1900-01-01", date(1900, 1, 1)),
        ("2025-06-15", TODAY),
    ],
)
def test_parse_birth_date_valid(text: str, expected: date) -> None:
    """Accepted layouts parse to the right date."""
    assert parse_birth_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-02-30", "date"),
        ("20230230", "date"),
        ("2023-02-29", "date"),
        ("1900-02-29", "date"),
        ("2023-13-01", "date"),
        ("2023-00-10", "date"),
        ("2023-01-00", "date"),
        ("1899-12-31", "date"),
        ("0001-01-01", "date"),
        ("2025-06-16", "future"),
        ("20990101", "future"),
        ("", "format"),
        ("1981-1218", "format"),
        ("198112-18", "format"),
        ("1981/12/18", "format"),
        ("18/12/1981", "format"),
        ("1981-12-8", "format"),
        ("811218", "format"),
        ("1981-W51-5", "format"),
        ("1981-352", "format"),
        ("1981-12-18T00:00", "format"),
        ("１９８１-１２-１８", "format"),
        ("abcd-ef-gh", "format"),
    ],
)
def test_parse_birth_date_invalid(text: str, reason: str) -> None:
    """Rejected birth dates carry the right reason."""
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_birth_date(text, today=TODAY)
    assert excinfo.value.reason == reason


# Property-based tests

FIRST_BIRTH_DATE = date(1900, 1, 1)
# Kept below 2100 so every birth date since 1900 is under 200 years old and thus expressible
# in the ten-digit form.
todays = st.dates(min_value=FIRST_BIRTH_DATE, max_value=date(2099, 12, 31))
serials = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def numbers(draw: st.DrawFn) -> tuple[date, date, str, bool]:
    """Draw ``today``, a birth date not after it, a serial and a coordination flag."""
    today = draw(todays)
    born = draw(st.dates(min_value=FIRST_BIRTH_DATE, max_value=today))
    return today, born, draw(serials), draw(st.booleans())


def build(born: date, serial: str, coordination: bool) -> tuple[str, str]:
    """Return the (twelve-digit, ten-digit) forms without separators and check digit."""
    day = born.day + (60 if coordination else 0)
    twelve = f"{born.year:04d}{born.month:02d}{day:02d}{serial}"
    return twelve, twelve[2:]


@given(numbers())
def test_roundtrip_twelve_digit(case: tuple[date, date, str, bool]) -> None:
    """Any past date and serial with the computed check digit parses back to itself."""
    today, born, serial, coordination = case
    twelve, ten = build(born, serial, coordination)
    check = luhn_check_digit(ten)
    assert check == reference_luhn(ten)
    expected = IdentityNumber(born, serial, check, coordination)
    for text in [twelve + check, f"{twelve[:8]}-{twelve[8:]}{check}"]:
        number = parse_identity_number(text, today=today)
        assert number == expected
        assert number.canonical() == twelve + check


@given(numbers())
def test_roundtrip_ten_digit(case: tuple[date, date, str, bool]) -> None:
    """The ten-digit form with the right separator recovers the same century."""
    today, born, serial, coordination = case
    twelve, ten = build(born, serial, coordination)
    check = luhn_check_digit(ten)
    # Independent statement of the rule: "+" once the hundredth birthday has been reached.
    centenarian = (born.year + 100, born.month, born.day) <= (today.year, today.month, today.day)
    sep = "+" if centenarian else "-"
    number = parse_identity_number(f"{ten[:6]}{sep}{ten[6:]}{check}", today=today)
    assert number == IdentityNumber(born, serial, check, coordination)
    assert number.canonical() == twelve + check
    if not centenarian:
        assert parse_identity_number(ten + check, today=today) == number


@given(numbers(), st.integers(min_value=1, max_value=9))
def test_flipped_check_digit_fails(case: tuple[date, date, str, bool], delta: int) -> None:
    """Every other check digit is rejected as a checksum error."""
    today, born, serial, coordination = case
    twelve, ten = build(born, serial, coordination)
    wrong = str((int(luhn_check_digit(ten)) + delta) % 10)
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(twelve + wrong, today=today)
    assert excinfo.value.reason == "checksum"


identity_like_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789-+ \t\n", max_size=16),
    st.from_regex(r"\A\s*[0-9]{6,8}[-+ ]?[0-9]{4}\s*\Z"),
)


@given(identity_like_text, st.dates())
def test_arbitrary_text_only_raises_identity_number_error(text: str, today: date) -> None:
    """No input, on any ``today``, escapes as anything but IdentityNumberError."""
    try:
        number = parse_identity_number(text, today=today)
    except IdentityNumberError as error:
        assert error.reason in {"format", "checksum", "date", "future"}
    else:
        assert number.birth_date <= today
        assert is_valid_identity_number(text, today=today)


@given(st.one_of(st.text(), st.from_regex(r"\A[0-9]{4}-?[0-9]{2}-?[0-9]{2}\Z")), st.dates())
def test_arbitrary_birth_date_text_only_raises_identity_number_error(
    text: str, today: date
) -> None:
    """parse_birth_date never raises anything but IdentityNumberError."""
    try:
        born = parse_birth_date(text, today=today)
    except IdentityNumberError as error:
        assert error.reason in {"format", "date", "future"}
    else:
        assert FIRST_BIRTH_DATE <= born <= today


def test_day_before_today_is_never_future() -> None:
    """Sanity check that yesterday's twelve-digit number is accepted."""
    yesterday = TODAY - timedelta(days=1)
    body = yesterday.strftime("%y%m%d") + "001"
    text = yesterday.strftime("%Y%m%d") + "001" + reference_luhn(body)
    assert parse_identity_number(text, today=TODAY).birth_date == yesterday
