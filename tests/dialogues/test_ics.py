"""The .ics file, written by icalendar: folding, escaping and Europe/Stockholm round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import icalendar
import pytest

from intake import clock
from intake.dialogues import ics

SWEDISH_200 = ("Trygghetsvandring på Öjagatan – är äldre människor oroliga? " * 4)[:200]


def dialogue(**changes: object) -> SimpleNamespace:
    """A dialogue as ics.calendar reads it (no database needed)."""
    fields: dict[str, object] = {
        "title": "Trygghet i centrum",
        "description": "Vi pratar om trygghet.",
        "place": "Folkets hus",
        "address": "Storgatan 1, Älvsbyn",
        "starts_at": datetime(2026, 3, 10, 17, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 10, 19, 0, tzinfo=UTC),
        "status": "planned",
    }
    return SimpleNamespace(**{**fields, **changes})


def parsed(raw: bytes) -> icalendar.Event:
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    return event


def assert_rfc5545_lines(raw: bytes) -> None:
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # folding never splits a UTF-8 character


@pytest.mark.parametrize(
    "title",
    [
        "Trygghet, skola; och fritid",
        "Rad ett\nRad två",
        'Snedstreck \\ och citat "så här"',
        "Komma,semikolon;kolon:och\r\nCRLF",
        SWEDISH_200,
        "å" * 200,  # two octets a letter: folds must fall between characters
    ],
)
def test_titles_fold_and_escape_and_read_back(title: str) -> None:
    raw = ics.calendar(dialogue(title=title), uid="d-1")
    assert_rfc5545_lines(raw)
    expected = title.replace("\r\n", "\n")
    assert str(parsed(raw)["SUMMARY"]) == expected


def test_escaping_is_on_the_wire() -> None:
    raw = ics.calendar(dialogue(title="A, B; C\nD"), uid="d-1").decode()
    assert "SUMMARY:A\\, B\\; C\\nD\r\n" in raw
    assert "LOCATION:Folkets hus\\, Storgatan 1\\, Älvsbyn\r\n" in raw


def test_a_200_character_swedish_title_is_folded() -> None:
    assert len(SWEDISH_200) == 200
    raw = ics.calendar(dialogue(title=SWEDISH_200, description="x" * 500), uid="d-1")
    assert_rfc5545_lines(raw)
    assert b"\r\n " in raw  # continuation lines start with one space
    event = parsed(raw)
    assert str(event["SUMMARY"]) == SWEDISH_200 and str(event["DESCRIPTION"]) == "x" * 500


@pytest.mark.parametrize(
    ("starts_at", "local_hour", "offset_hours"),
    [
        (datetime(2026, 1, 15, 17, 0, tzinfo=UTC), 18, 1),  # winter: CET
        (datetime(2026, 7, 15, 16, 0, tzinfo=UTC), 18, 2),  # summer: CEST
        (datetime(2026, 3, 29, 16, 0, tzinfo=UTC), 18, 2),  # the day summer time starts
        (datetime(2026, 10, 25, 17, 0, tzinfo=UTC), 18, 1),  # the day it ends
    ],
)
def test_times_are_stockholm_with_a_vtimezone_that_agrees(
    starts_at: datetime, local_hour: int, offset_hours: int
) -> None:
    raw = ics.calendar(
        dialogue(starts_at=starts_at, ends_at=starts_at + timedelta(hours=2)), uid="d-1"
    )
    cal = icalendar.Calendar.from_ical(raw)
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Stockholm"
    event = parsed(raw)
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    start = event.decoded("DTSTART")
    assert start == starts_at and start.astimezone(clock.STOCKHOLM).hour == local_hour
    # The file's own VTIMEZONE, without the system's zoneinfo, gives the same offset
    local = starts_at.astimezone(clock.STOCKHOLM).replace(tzinfo=None)
    assert local.replace(tzinfo=zone.to_tz()).utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("status", "shown"), [("planned", "CONFIRMED"), ("cancelled", "CANCELLED")]
)
def test_status_uid_and_sequence(status: str, shown: str) -> None:
    event = parsed(ics.calendar(dialogue(status=status), uid="d-7", sequence=3))
    assert str(event["STATUS"]) == shown
    assert str(event["UID"]) == "d-7@intake.alvsbyn"
    assert int(event["SEQUENCE"]) == 3
