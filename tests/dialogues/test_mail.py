"""Dialogue mail over real SMTP: confirmation with a calendar file, waiting list, promotion,
cancellation receipt, reminders through the clock seam, a new time, a cancelled dialogue, and
the registrant's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import appkeys, clock, jobs
from intake.dialogues import service, views
from intake.dialogues.models import (
    CANCELLED,
    CONFIRMED,
    WAITLISTED,
    WITHDRAWN,
    Dialogue,
    Registration,
)
from intake.extensions import db

from ..accounts.back_office import Clock, freeze
from ..conftest import SMTPServer
from ..staff_helpers import Installation
from .helpers import (
    calendar,
    cancel_path,
    change,
    deliver,
    errors,
    has_part,
    input_value,
    new_dialogue,
    only_to,
    outcome,
    part,
    queued,
    registration,
    registrations,
    sign_in,
    sign_up,
    stockholm,
    subject,
)

TITLE = "Trygghet, trafik; och droger"
DESCRIPTION = (
    "Polisen och kommunen berättar om läget i Älvsbyn och lyssnar på er.\n"
    "Kaffe från 17.30. Välkomna! " + "Lång rad som måste vikas enligt RFC 5545. " * 4
)


def dialogue_form(starts: datetime, **overrides: str) -> dict[str, Any]:
    """The organiser's form for a dialogue starting at `starts` (two hours long)."""
    local = starts.astimezone(clock.STOCKHOLM)
    return {
        "title": "Trygghet i centrum",
        "description": "Polisen och kommunen berättar och lyssnar.",
        "hosts": ["polisen", "kommunen"],
        "themes": ["trygghet"],
        "starts_at": local.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (local + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
        "format": "in_person",
        "place": "Folkets hus",
        "address": "Storgatan 1, Älvsbyn",
        "capacity": "2",
        "reminder_hours": "24",
        "accepts_questions": "y",
        **overrides,
    }


@pytest.mark.parametrize(
    ("starts", "local_hour", "offset_hours"),
    [
        (stockholm(2099, 1, 15, 18, 0), 18, 1),  # winter: CET
        (stockholm(2099, 7, 1, 18, 30), 18, 2),  # summer: CEST
        (stockholm(2099, 3, 29, 18, 0), 18, 2),  # the day clocks go forward
        (stockholm(2099, 10, 25, 18, 0), 18, 1),  # the day clocks go back
    ],
)
def test_confirmation_has_text_html_and_a_valid_calendar_file(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    starts: datetime,
    local_hour: int,
    offset_hours: int,
) -> None:
    # Given a dialogue with a title and description that need escaping and folding
    dialogue_id = new_dialogue(site.app, title=TITLE, description=DESCRIPTION, starts_at=starts)
    # When a resident signs up and the outbox delivers
    assert outcome(sign_up(resident, dialogue_id, "anna@example.com")) == "bekraftad"
    mail = only_to(deliver(site.app, smtp), "anna@example.com")
    # Then the mail has a text part, an HTML part and an .ics attachment
    assert subject(mail) == f"Du är anmäld: {TITLE}"
    text, html = part(mail, "text/plain"), part(mail, "text/html")
    assert "Tack för din anmälan. Du har en plats (1 person)." in text
    assert TITLE in text and "Folkets hus, Storgatan 1, Älvsbyn" in text
    assert '<html lang="sv">' in html and "Kan du inte komma? Avboka här" in html
    attachment = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert attachment.get_filename() == "medborgardialog.ics"
    # And the file follows RFC 5545: CRLF lines of at most 75 octets
    raw = part(mail, "text/calendar").encode()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    # And the icalendar library reads it: one event, its time in Europe/Stockholm
    cal = calendar(mail)
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Stockholm"
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == TITLE
    assert str(event["DESCRIPTION"]) == DESCRIPTION
    assert str(event["LOCATION"]) == "Folkets hus, Storgatan 1, Älvsbyn"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    anna = registration(site.app, dialogue_id, "anna@example.com")
    assert str(event["UID"]) == f"dialogue-{dialogue_id}-registration-{anna.id}@intake.alvsbyn"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == starts and end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)
    assert start.astimezone(clock.STOCKHOLM).hour == local_hour
    # And the VTIMEZONE itself, read on its own, gives the right offset for that day
    own_zone = zone.to_tz()
    local = start.astimezone(clock.STOCKHOLM).replace(tzinfo=None)
    assert local.replace(tzinfo=own_zone).utcoffset() == timedelta(hours=offset_hours)


def test_waiting_list_notice_tells_the_position(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a dialogue with one seat
    dialogue_id = new_dialogue(site.app, capacity=1)
    # When three residents sign up
    for email in ("anna@example.com", "bo@example.com", "cia@example.com"):
        sign_up(resident, dialogue_id, email)
    messages = deliver(site.app, smtp)
    # Then the second and third are told their place in the queue, without a calendar file
    for email, position in (("bo@example.com", 1), ("cia@example.com", 2)):
        mail = only_to(messages, email)
        assert subject(mail) == "Du står på reservlistan: Trygghet i centrum"
        notice = f"Du står som nummer {position} på reservlistan"
        assert notice in part(mail, "text/plain") and notice in part(mail, "text/html")
        assert not has_part(mail, "text/calendar")
        assert "/dialoger/avboka/" in part(mail, "text/plain")


def test_promotion_and_cancellation_receipt(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given Anna with the only seat and Bo waiting
    dialogue_id = new_dialogue(site.app, capacity=1)
    sign_up(resident, dialogue_id, "anna@example.com")
    sign_up(resident, dialogue_id, "bo@example.com")
    first = deliver(site.app, smtp)
    # When Anna cancels by the link in her mail
    resident.post(cancel_path(only_to(first, "anna@example.com")))
    messages = deliver(site.app, smtp)
    # Then Anna gets a receipt (text and HTML, no calendar file)
    receipt = only_to(messages, "anna@example.com")
    assert subject(receipt) == "Du är avbokad: Trygghet i centrum"
    assert "Du har avbokat din plats." in part(receipt, "text/plain")
    assert "Du har avbokat din plats." in part(receipt, "text/html")
    assert not has_part(receipt, "text/calendar")
    # And Bo gets his seat with a calendar file and his own cancel link
    promoted = only_to(messages, "bo@example.com")
    assert subject(promoted) == "Du har fått en plats: Trygghet i centrum"
    assert "En plats blev ledig" in part(promoted, "text/html")
    bo = registration(site.app, dialogue_id, "bo@example.com")
    [event] = calendar(promoted).walk("VEVENT")
    assert str(event["UID"]).startswith(f"dialogue-{dialogue_id}-registration-{bo.id}@")
    assert cancel_path(promoted) != cancel_path(only_to(first, "anna@example.com"))


def edit(organiser: FlaskClient, dialogue_id: int, form: dict[str, Any]) -> None:
    """The organiser saves the dialogue's form."""
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/andra", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.location.endswith(f"/personal/dialoger/{dialogue_id}")


def _run_jobs(site: Installation) -> None:
    with site.app.app_context():
        jobs.run_due()


def _setup_four(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, starts: datetime
) -> int:
    """Two seats: Anna and Bo confirmed, Cia and Dan waiting; Bo cancels, Cia moves up."""
    dialogue_id = new_dialogue(site.app, capacity=2, starts_at=starts)
    for email in ("anna@example.com", "bo@example.com", "cia@example.com", "dan@example.com"):
        sign_up(resident, dialogue_id, email)
    resident.post(cancel_path(only_to(deliver(site.app, smtp), "bo@example.com")))
    deliver(site.app, smtp)
    statuses = {
        email: registration(site.app, dialogue_id, f"{email}@example.com").status
        for email in ("anna", "bo", "cia", "dan")
    }
    assert statuses == {"anna": CONFIRMED, "bo": WITHDRAWN, "cia": CONFIRMED, "dan": WAITLISTED}
    return dialogue_id


def _reminded(site: Installation, frozen: Clock, smtp: SMTPServer, moment: datetime) -> list[str]:
    """Who gets a reminder when the jobs run at `moment`."""
    frozen.set(moment)
    _run_jobs(site)
    messages = deliver(site.app, smtp)
    reminders = [m for m in messages if subject(m).startswith("Påminnelse:")]
    return sorted(str(m["To"]) for m in reminders)


def test_reminder_goes_once_n_hours_before_and_never_to_the_cancelled(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dialogue on Thursday 18:00 with a 24-hour reminder, and four residents
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 9, 0))
    starts = stockholm(2031, 3, 13, 18, 0)
    _setup_four(site, resident, smtp, starts)
    # When the jobs run a minute before the reminder is due, nobody is reminded
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=24, minutes=1)) == []
    # When they run at the hour, the two confirmed are; not Bo (cancelled), not Dan (waiting)
    due = _reminded(site, frozen, smtp, starts - timedelta(hours=24))
    assert due == ["anna@example.com", "cia@example.com"]
    # When they run again, and again later, nobody is reminded twice
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=23)) == []
    assert _reminded(site, frozen, smtp, starts - timedelta(minutes=1)) == []
    # And after the start there are no reminders at all
    assert _reminded(site, frozen, smtp, starts + timedelta(minutes=1)) == []


@pytest.mark.parametrize("hours", [1, 48, 336])
def test_reminder_hours_are_per_dialogue(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    hours: int,
) -> None:
    frozen = freeze(monkeypatch, stockholm(2031, 3, 1, 9, 0))
    starts = stockholm(2031, 3, 20, 18, 0)
    dialogue_id = new_dialogue(site.app, starts_at=starts, reminder_hours=hours)
    sign_up(resident, dialogue_id, "anna@example.com")
    deliver(site.app, smtp)
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=hours, seconds=1)) == []
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=hours)) == ["anna@example.com"]


def test_a_new_time_tells_everyone_and_plans_the_reminder_again(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given four residents, and the reminder sent for Thursday 18:00
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 9, 0))
    starts = stockholm(2031, 3, 13, 18, 0)
    dialogue_id = _setup_four(site, resident, smtp, starts)
    first_uid = {
        m["To"]: str(calendar(m).walk("VEVENT")[0]["UID"])
        for m in smtp.mailbox.messages
        if has_part(m, "text/calendar")
    }
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=20)) == [
        "anna@example.com",
        "cia@example.com",
    ]
    # When the organiser moves the dialogue two days later
    organiser = sign_in(site)
    later = starts + timedelta(days=2)
    edit(organiser, dialogue_id, dialogue_form(later))
    # Then everyone still signed up is told the new time; Bo, who cancelled, is not
    messages = deliver(site.app, smtp)
    told = sorted(m["To"] for m in messages if subject(m).startswith("Ny tid:"))
    assert told == ["anna@example.com", "cia@example.com", "dan@example.com"]
    assert len(messages) == 3
    # And the confirmed get the same calendar event at the new time, with a higher SEQUENCE
    for email in ("anna@example.com", "cia@example.com"):
        mail = only_to(messages, email)
        assert "lördag 15 mars 2031 kl. 18:00" in part(mail, "text/plain")
        [event] = calendar(mail).walk("VEVENT")
        assert str(event["UID"]) == first_uid[email]
        assert event.decoded("DTSTART") == later
        assert int(event["SEQUENCE"]) > 0
    assert not has_part(only_to(messages, "dan@example.com"), "text/calendar")
    # And no reminder goes for the old time, but one goes again 24 hours before the new time
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=1)) == []
    assert _reminded(site, frozen, smtp, later - timedelta(hours=25)) == []
    assert _reminded(site, frozen, smtp, later - timedelta(hours=24)) == [
        "anna@example.com",
        "cia@example.com",
    ]


def test_an_edit_that_keeps_the_time_tells_nobody(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    organiser: FlaskClient,
) -> None:
    # Given a dialogue at a whole minute with a registrant
    starts = (clock.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    dialogue_id = new_dialogue(site.app, capacity=2, starts_at=starts)
    sign_up(resident, dialogue_id, "anna@example.com")
    deliver(site.app, smtp)
    # When the organiser changes only the description
    edit(organiser, dialogue_id, dialogue_form(starts, description="Nu med fika."))
    # Then no mail goes out
    assert deliver(site.app, smtp) == []


def test_a_cancelled_dialogue_tells_every_registrant(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given Anna and Cia confirmed, Bo cancelled, Dan waiting
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 9, 0))
    starts = stockholm(2031, 3, 13, 18, 0)
    dialogue_id = _setup_four(site, resident, smtp, starts)
    # When the organiser cancels the dialogue
    organiser = sign_in(site)
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/stall-in")
    assert response.location.endswith(f"/personal/dialoger/{dialogue_id}")
    # And a second press is refused
    assert organiser.post(f"/personal/dialoger/{dialogue_id}/stall-in").status_code == 400
    # Then the three still signed up are told, and Bo is not
    messages = deliver(site.app, smtp)
    assert sorted(m["To"] for m in messages) == [
        "anna@example.com",
        "cia@example.com",
        "dan@example.com",
    ]
    for mail in messages:
        assert subject(mail) == "Inställd: Trygghet i centrum"
        assert "Tyvärr är dialogen inställd." in part(mail, "text/plain")
        assert "Tyvärr är dialogen inställd." in part(mail, "text/html")
    # And nobody is reminded of it
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=2)) == []
    # And when Anna then cancels her seat, Dan is not promoted to a dialogue that is off
    anna_link = next(
        cancel_path(m)
        for m in smtp.mailbox.messages
        if m["To"] == "anna@example.com" and has_part(m, "text/calendar")
    )
    resident.post(anna_link)
    assert registration(site.app, dialogue_id, "dan@example.com").status == WAITLISTED
    assert [subject(m) for m in deliver(site.app, smtp)] == ["Du är avbokad: Trygghet i centrum"]


CANCELLED_KEEPS_ITS_TIME = (
    "Dialogen är inställd, så tiden kan inte ändras. Ska den hållas en annan gång, skapa en ny "
    "dialog."
)


ORIGINAL_TEXT = "Polisen och kommunen berättar och lyssnar."  # as new_dialogue writes it


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.STOCKHOLM).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("start_moved", "end_moved", "description", "saved"),
    [
        pytest.param(timedelta(days=2), timedelta(days=2), "", False, id="a new day"),
        pytest.param(timedelta(hours=-1), timedelta(0), "", False, id="an earlier start"),
        pytest.param(timedelta(0), timedelta(hours=1), "", False, id="a later end"),
        pytest.param(
            timedelta(days=2), timedelta(days=2), "Nu med fika.", False, id="time and text"
        ),
        pytest.param(timedelta(0), timedelta(0), "Nu med fika.", True, id="the text only"),
    ],
)
def test_a_cancelled_dialogue_keeps_its_time_and_tells_nobody(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    start_moved: timedelta,
    end_moved: timedelta,
    description: str,
    saved: bool,
) -> None:
    # Given Anna and Cia confirmed and reminded, Bo cancelled, Dan waiting
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 9, 0))
    starts = stockholm(2031, 3, 13, 18, 0)
    ends = starts + timedelta(hours=2)
    dialogue_id = _setup_four(site, resident, smtp, starts)
    assert _reminded(site, frozen, smtp, starts - timedelta(hours=20)) == [
        "anna@example.com",
        "cia@example.com",
    ]
    # And the dialogue cancelled, everyone told so
    organiser = sign_in(site)
    organiser.post(f"/personal/dialoger/{dialogue_id}/stall-in")
    assert len(deliver(site.app, smtp)) == 3
    before = [(r.id, r.status, r.reminded_at) for r in registrations(site.app, dialogue_id)]
    outbox_before = len(queued(site.app))
    # When the organiser edits it
    form = dialogue_form(starts + start_moved, description=description or ORIGINAL_TEXT)
    form["ends_at"] = _local(ends + end_moved)
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/andra", data=form)
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        kept = (dialogue.starts_at, dialogue.ends_at, dialogue.status, dialogue.description)
    if saved:
        # Then an edit that keeps the time is saved
        assert response.status_code == 302
        assert kept == (starts, ends, CANCELLED, description)
    else:
        # Then a new time is refused with a message on the start, and the answers come back
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert errors(page) == [CANCELLED_KEEPS_ITS_TIME]
        assert '<a href="#starts_at">' in page
        # (each moment is a date input and a time input)
        for name in ("starts_at", "ends_at"):
            typed = f"{input_value(page, name)} {input_value(page, name + '-time')}"
            assert typed == form[name]
        # And nothing of the edit is saved
        assert kept == (starts, ends, CANCELLED, ORIGINAL_TEXT)
    # And nobody is mailed, and the reminders stay as they were
    assert len(queued(site.app)) == outbox_before
    assert deliver(site.app, smtp) == []
    after = [(r.id, r.status, r.reminded_at) for r in registrations(site.app, dialogue_id)]
    assert after == before
    # And no reminder goes at the old or the new time
    for moment in (starts, starts + start_moved):
        assert _reminded(site, frozen, smtp, moment - timedelta(hours=1)) == []


def test_the_form_of_a_cancelled_dialogue_says_its_time_is_kept(
    site: Installation, organiser: FlaskClient
) -> None:
    planned = new_dialogue(site.app)
    cancelled = new_dialogue(site.app, status=CANCELLED)
    page = organiser.get(f"/personal/dialoger/{cancelled}/andra").get_data(as_text=True)
    assert CANCELLED_KEEPS_ITS_TIME in page and "får alla anmälda ett mejl" not in page
    page = organiser.get(f"/personal/dialoger/{planned}/andra").get_data(as_text=True)
    assert CANCELLED_KEEPS_ITS_TIME not in page and "får alla anmälda ett mejl" in page


def test_the_service_refuses_a_new_time_for_a_cancelled_dialogue(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a cancelled dialogue whose registrant has had her reminder
    starts = (clock.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    dialogue_id = new_dialogue(site.app, starts_at=starts)
    sign_up(resident, dialogue_id, "anna@example.com")
    deliver(site.app, smtp)
    reminded = clock.now().replace(microsecond=0)
    anna = registration(site.app, dialogue_id, "anna@example.com")
    with site.app.app_context():
        db.session.execute(
            sa.update(Registration).where(Registration.id == anna.id).values(reminded_at=reminded)
        )
        db.session.commit()
    change(site.app, dialogue_id, status=CANCELLED)
    outbox_before = len(queued(site.app))
    # When the service is asked to move it
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        later = starts + timedelta(days=1)
        with pytest.raises(service.CancelledDialogueError):
            service.reschedule(
                dialogue,
                later,
                later + timedelta(hours=2),
                keys=appkeys.keys(),
                links=views.links(),
            )
        db.session.commit()
    # Then it keeps its time, nobody is told, and the reminder is not planned again
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None and dialogue.starts_at == starts
    assert len(queued(site.app)) == outbox_before
    assert registration(site.app, dialogue_id, "anna@example.com").reminded_at == reminded


def test_mail_is_in_the_language_the_registrant_used(
    site: Installation, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a resident reading in English and one in Swedish
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 9, 0))
    starts = stockholm(2031, 3, 13, 18, 0)
    dialogue_id = new_dialogue(site.app, capacity=1, starts_at=starts)
    english, swedish = site.app.test_client(), site.app.test_client()
    assert english.get("/sprak/en?next=/dialoger/").status_code == 302
    # When both sign up
    assert outcome(sign_up(english, dialogue_id, "emma@example.com")) == "bekraftad"
    assert outcome(sign_up(swedish, dialogue_id, "sven@example.com")) == "reserv-1"
    # Then the registration and every mail to Emma are in English, Sven's in Swedish
    assert registration(site.app, dialogue_id, "emma@example.com").locale == "en"
    assert registration(site.app, dialogue_id, "sven@example.com").locale == "sv"
    edit(sign_in(site), dialogue_id, dialogue_form(starts + timedelta(hours=1), capacity="1"))
    frozen.set(starts - timedelta(hours=2))
    _run_jobs(site)
    locales = [(row.template, row.locale) for row in queued(site.app)]
    assert locales == [
        ("dialogue_confirmed", "en"),
        ("dialogue_waitlisted", "sv"),
        ("dialogue_changed", "en"),
        ("dialogue_changed", "sv"),
        ("dialogue_reminder", "en"),
    ]
    messages = deliver(site.app, smtp)
    for mail in messages:
        lang = re.search(r'<html lang="(\w+)"', part(mail, "text/html"))
        assert lang is not None
        assert lang.group(1) == ("en" if mail["To"] == "emma@example.com" else "sv")


def test_nothing_is_sent_inside_the_request(site: Installation, resident: FlaskClient) -> None:
    # The outbox row is written with the registration; SMTP is the worker's business.
    dialogue_id = new_dialogue(site.app)
    sign_up(resident, dialogue_id, "anna@example.com")
    [row] = queued(site.app)
    assert row.sent_at is None and row.template == "dialogue_confirmed"
    assert row.created_at <= datetime.now(UTC)
