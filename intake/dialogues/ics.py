"""Calendar files (RFC 5545) for dialogues, with a VTIMEZONE for Europe/Stockholm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from intake import clock
from intake.dialogues.models import Dialogue
from intake.extensions import db

PRODID = "-//Alvsbyns kommun//intake medborgardialog//SV"
VTIMEZONE = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Stockholm",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets are folded (RFC 5545 §3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return [line]
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return [parts[0]] + [" " + part for part in parts[1:]]


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.STOCKHOLM).strftime("%Y%m%dT%H%M%S")


def calendar(dialogue: Dialogue, *, uid: str, meeting_link: str = "", sequence: int = 0) -> bytes:
    """A VCALENDAR with one VEVENT for the dialogue."""
    location = (
        ", ".join(part for part in (dialogue.place, dialogue.address) if part) or meeting_link
    )
    description = dialogue.description + (f"\n\n{meeting_link}" if meeting_link else "")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *VTIMEZONE,
        "BEGIN:VEVENT",
        f"UID:{uid}@intake.alvsbyn",
        f"DTSTAMP:{clock.now().strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART;TZID=Europe/Stockholm:{_local(dialogue.starts_at)}",
        f"DTEND;TZID=Europe/Stockholm:{_local(dialogue.ends_at)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{_escape(dialogue.title)}",
        f"DESCRIPTION:{_escape(description)}",
        f"LOCATION:{_escape(location)}",
        "STATUS:CANCELLED" if dialogue.status == "cancelled" else "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    folded = [part for line in lines for part in _fold(line)]
    return ("\r\n".join(folded) + "\r\n").encode()


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
