"""Calendar files (RFC 5545) for dialogues, written by the `icalendar` library.

The library folds long lines (75 octets, never inside a UTF-8 character), escapes commas,
semicolons, backslashes and newlines, and builds the VTIMEZONE for Europe/Stockholm from the
system's zoneinfo, so none of that is hand-written here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import icalendar

from intake import clock
from intake.dialogues.models import Dialogue
from intake.extensions import db

PRODID = "-//Alvsbyns kommun//intake medborgardialog//SV"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(clock.STOCKHOLM)


def calendar(dialogue: Dialogue, *, uid: str, meeting_link: str = "", sequence: int = 0) -> bytes:
    """A VCALENDAR with one VEVENT for the dialogue."""
    location = (
        ", ".join(part for part in (dialogue.place, dialogue.address) if part) or meeting_link
    )
    description = dialogue.description + (f"\n\n{meeting_link}" if meeting_link else "")
    event = icalendar.Event()
    event.add("uid", f"{uid}@intake.alvsbyn")
    event.add("dtstamp", clock.now())
    event.add("dtstart", _local(dialogue.starts_at))
    event.add("dtend", _local(dialogue.ends_at))
    event.add("sequence", sequence)
    event.add("summary", dialogue.title)
    event.add("description", description)
    event.add("location", location)
    event.add("status", "CANCELLED" if dialogue.status == "cancelled" else "CONFIRMED")
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    # Only the rules around the event: a VTIMEZONE for 1970–2038 would be hundreds of lines.
    starts = _local(dialogue.starts_at).date()
    cal.add_missing_timezones(
        first_date=date(starts.year - 1, 1, 1), last_date=starts + timedelta(days=730)
    )
    return bytes(cal.to_ical())


def attachment(context: dict[str, Any]) -> tuple[str, str, bytes]:
    """The outbox attachment builder for kind 'ics'."""
    dialogue = db.session.get(Dialogue, context["dialogue_id"])
    assert dialogue is not None
    data = calendar(
        dialogue,
        uid=str(context["uid"]),
        meeting_link=str(context.get("meeting_link", "")),
        # Later versions of the event (a new time) must carry a higher SEQUENCE.
        sequence=int(dialogue.updated_at.timestamp() - dialogue.created_at.timestamp()),
    )
    return "medborgardialog.ics", "text/calendar; charset=utf-8; method=PUBLISH", data
