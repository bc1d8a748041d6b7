"""Shared pieces of the dialogue tests: dialogues made through the model with keyword defaults,
sign-ups over the test client, registrations looked up by e-mail, and the mail that reached the
loopback SMTP server (text, HTML, the .ics file, the self-service cancel link)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import icalendar
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import clock, outbox
from intake.dialogues import service, views
from intake.dialogues.models import IN_PERSON, Dialogue, Registration
from intake.extensions import db
from intake.outbox import OutboxMessage

from ..conftest import SMTPServer
from ..staff_helpers import Installation

BASE_URL = "http://intake.example"
ORGANISER = "olle.organisator@example.com"
OUTSIDER = "stina.organisator@example.com"  # an organiser who is not in Medborgardialog
CANCEL_LINK = re.compile(re.escape(BASE_URL) + r"(/dialoger/avboka/[\w.\-]+)")


def sign_in(site: Installation, email: str = ORGANISER, *, member: bool = True) -> FlaskClient:
    """A new organiser (in the Medborgardialog inbox if `member`), signed in on a new client.

    Call it after freezing the clock: a staff session started at another time has expired.
    """
    site.add_user(email, "organiser", inboxes=("Medborgardialog",) if member else ())
    client = site.app.test_client()
    response = site.login(client, email)
    assert response.status_code == 302 and "/logga-in" not in response.location
    return client


def stockholm(year: int, month: int, day: int, hour: int = 18, minute: int = 0) -> datetime:
    """A Stockholm wall-clock moment as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=clock.STOCKHOLM).astimezone(UTC)


def new_dialogue(app: Flask, **overrides: Any) -> int:
    """A planned dialogue two weeks from now (Folkets hus, no seat limit); returns its id."""
    with app.app_context():
        now = clock.now()
        starts = overrides.pop("starts_at", now + timedelta(days=14))
        fields: dict[str, Any] = {
            "title": "Trygghet i centrum",
            "description": "Polisen och kommunen berättar och lyssnar.",
            "themes": ["trygghet"],
            "hosts": ["polisen", "kommunen"],
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "format": IN_PERSON,
            "place": "Folkets hus",
            "address": "Storgatan 1, Älvsbyn",
            "capacity": None,
            "reminder_hours": 24,
            "created_at": now,
            "updated_at": now,
            **overrides,
        }
        dialogue = Dialogue(**fields)
        db.session.add(dialogue)
        db.session.commit()
        return int(dialogue.id)


def change(app: Flask, dialogue_id: int, **values: Any) -> None:
    """Set columns of a dialogue directly (what an organiser or the calendar did)."""
    with app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        for name, value in values.items():
            setattr(dialogue, name, value)
        db.session.commit()


def signup_form(email: str, **fields: str) -> dict[str, str]:
    """A complete sign-up form; fields override or (with "") blank its answers."""
    return {"name": "Anna Andersson", "email": email, "party_size": "1", "privacy": "y", **fields}


def sign_up(client: FlaskClient, dialogue_id: int, email: str, **fields: str) -> Any:
    """Post the sign-up form."""
    return client.post(f"/dialoger/{dialogue_id}/anmalan", data=signup_form(email, **fields))


def outcome(response: Any) -> str:
    """'bekraftad' or 'reserv-N', from the redirect after a sign-up."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return str(response.location.rsplit("/", 1)[-1])


def registration(app: Flask, dialogue_id: int, email: str) -> Registration:
    """The registration of an e-mail address (found by its keyed tag), detached."""
    with app.app_context():
        tag = service.email_tag(email, secret=views.tag_secret())
        found = db.session.scalar(
            sa.select(Registration).where(
                Registration.dialogue_id == dialogue_id, Registration.email_tag == tag
            )
        )
        assert found is not None, email
        db.session.expunge(found)
        return found


def registrations(app: Flask, dialogue_id: int) -> list[Registration]:
    """Every registration of a dialogue in sign-up order, detached."""
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(Registration)
                .where(Registration.dialogue_id == dialogue_id)
                .order_by(Registration.created_at, Registration.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def queued(app: Flask, template: str | None = None) -> list[OutboxMessage]:
    """Outbox rows (optionally of one template) in the order they were written, detached."""
    with app.app_context():
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if template is not None:
            query = query.where(OutboxMessage.template == template)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def deliver(app: Flask, smtp: SMTPServer) -> list[Message]:
    """Run the outbox once; the messages that arrived at the SMTP server because of it."""
    before = len(smtp.mailbox.messages)
    with app.app_context():
        sent = outbox.deliver_due()
        assert outbox.pending_count() == 0
    return smtp.mailbox.wait_for(before + sent)[before:]


def addressed_to(messages: list[Message], email: str) -> list[Message]:
    """The messages sent to one address."""
    return [m for m in messages if m["To"] == email]


def only_to(messages: list[Message], email: str) -> Message:
    """The one message sent to an address."""
    found = addressed_to(messages, email)
    assert len(found) == 1, [(m["To"], subject(m)) for m in messages]
    return found[0]


def subject(message: Message) -> str:
    """The decoded subject."""
    return str(make_header(decode_header(message["Subject"])))


def part(message: Message, content_type: str) -> str:
    """The decoded body of the first part of a type (text/plain, text/html, text/calendar)."""
    for piece in message.walk():
        if piece.get_content_type() == content_type:
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(piece.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part in {subject(message)!r}")


def has_part(message: Message, content_type: str) -> bool:
    """Whether the message has a part of this type."""
    return any(piece.get_content_type() == content_type for piece in message.walk())


def calendar(message: Message) -> icalendar.Calendar:
    """The attached .ics, parsed by the icalendar library."""
    return icalendar.Calendar.from_ical(part(message, "text/calendar"))


def cancel_path(message: Message) -> str:
    """The self-service cancel link's path, from the text part."""
    found = CANCEL_LINK.search(part(message, "text/plain"))
    assert found is not None, part(message, "text/plain")
    return found.group(1)


def errors(html: str) -> list[str]:
    """The inline error texts on a page."""
    return [
        re.sub(r"<[^>]+>", "", error).replace("Fel:", "").strip()
        for error in re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S)
    ]


def input_value(html: str, field_id: str) -> str | None:
    """The value an <input> with this id (or, for the id-less CSRF token, name) shows."""
    found = re.search(rf'<input[^>]*\b(?:id|name)="{re.escape(field_id)}"[^>]*>', html, re.S)
    if found is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return value.group(1) if value else None
