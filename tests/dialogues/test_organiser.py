"""The organiser's toolkit (issue 13 §4): drafts, preview and publishing; walk-ins; promotion
by hand; messages to registrants; check-in "X av Y" and search; held dialogues; answers to
askers by mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import appkeys, clock
from intake.audit import AuditEvent
from intake.dialogues import attendance, questions
from intake.dialogues.models import CANCELLED, CONFIRMED, DRAFT, PLANNED, WAITLISTED, Dialogue
from intake.extensions import db

from ..conftest import SMTPServer
from ..staff_helpers import Installation
from .helpers import (
    deliver,
    errors,
    new_dialogue,
    only_to,
    part,
    queued,
    registration,
    registrations,
    sign_up,
    subject,
)

BASE = "/personal/dialoger"


def _events(site: Installation, action: str) -> list[AuditEvent]:
    with site.app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def _status(site: Installation, dialogue_id: int) -> str:
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        return dialogue.status


def _new_form(**overrides: str) -> dict[str, Any]:
    day = (clock.now() + timedelta(days=20)).astimezone(clock.STOCKHOLM).strftime("%Y-%m-%d")
    return {
        "title": "Trygghet i Vidsel",
        "hosts": ["polisen", "kommunen"],
        "starts_at-date": day,
        "starts_at-time": "18:00",
        "ends_at-date": day,
        "ends_at-time": "20:00",
        "format": "in_person",
        "place": "Vidsel bygdegård",
        "capacity": "3",
        "reminder_hours": "24",
        "accepts_questions": "y",
        **overrides,
    }


def test_a_new_dialogue_is_a_draft_until_published(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    # Given an organiser who creates a dialogue
    response = organiser.post(f"{BASE}/ny", data=_new_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    dialogue_id = int(response.location.rstrip("/").rsplit("/", 1)[-1])
    # Then it is a draft: on no public page, closed to sign-ups and questions
    assert _status(site, dialogue_id) == DRAFT
    assert resident.get(f"/dialoger/{dialogue_id}").status_code == 404
    assert "Trygghet i Vidsel" not in resident.get("/dialoger/").get_data(as_text=True)
    assert sign_up(resident, dialogue_id, "a@example.com").status_code == 404
    assert resident.post(f"/dialoger/{dialogue_id}/fraga", data={"text": "?"}).status_code == 404
    # And the organiser sees it marked as a draft, and previews the public page with a banner
    assert "(utkast)" in organiser.get(f"{BASE}/").get_data(as_text=True)
    preview = organiser.get(f"{BASE}/{dialogue_id}/forhandsvisning")
    assert preview.status_code == 200
    assert "Förhandsvisning" in preview.get_data(as_text=True)
    assert "Vidsel bygdegård" in preview.get_data(as_text=True)
    # But a resident cannot reach the preview
    assert resident.get(f"{BASE}/{dialogue_id}/forhandsvisning").status_code in (302, 401, 403)
    # When the organiser publishes it
    assert organiser.post(f"{BASE}/{dialogue_id}/publicera").status_code == 302
    # Then it is public, takes sign-ups, and the publishing is audited
    assert _status(site, dialogue_id) == PLANNED
    assert resident.get(f"/dialoger/{dialogue_id}").status_code == 200
    assert "Trygghet i Vidsel" in resident.get("/dialoger/").get_data(as_text=True)
    assert sign_up(resident, dialogue_id, "a@example.com").status_code == 303
    assert [e.target_id for e in _events(site, "dialogue_published")] == [str(dialogue_id)]
    # And publishing again changes nothing
    organiser.post(f"{BASE}/{dialogue_id}/publicera")
    assert len(_events(site, "dialogue_published")) == 1


def test_a_draft_cannot_be_held_cancelled_or_counted(
    site: Installation, organiser: FlaskClient
) -> None:
    # Given a draft whose time has passed
    dialogue_id = new_dialogue(site.app, status=DRAFT, starts_at=clock.now() - timedelta(days=3))
    # Then no held report is taken for it, so it never counts toward the promise
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        with pytest.raises(questions.NotEnded):
            questions.record_held(
                dialogue,
                held=True,
                attendees=9,
                summary="",
                themes_raised="",
                follow_up_actions="",
                by_id=1,
                by="x",
            )
        assert dialogue.report is None
    # And it cannot be "cancelled" into public view
    assert organiser.post(f"{BASE}/{dialogue_id}/stall-in").status_code == 400
    assert _status(site, dialogue_id) == DRAFT


def test_a_held_dialogue_shows_as_held_and_cannot_be_cancelled(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    # Given a published dialogue that ended an hour ago
    dialogue_id = new_dialogue(site.app, starts_at=clock.now() - timedelta(hours=3))
    # Then its page says it was held, and the organiser is not offered "Ställ in"
    assert "Genomförd" in resident.get(f"/dialoger/{dialogue_id}").get_data(as_text=True)
    page = organiser.get(f"{BASE}/{dialogue_id}").get_data(as_text=True)
    assert "Ställ in" not in page and "(genomförd)" in page
    # And a cancel posted anyway is refused
    organiser.post(f"{BASE}/{dialogue_id}/stall-in")
    assert _status(site, dialogue_id) == PLANNED
    assert not _events(site, "dialogue_cancelled")


@pytest.mark.parametrize(
    ("capacity", "taken", "party", "confirm", "added"),
    [
        (None, 0, "3", False, True),  # no limit
        (5, 2, "3", False, True),  # fits exactly
        (5, 3, "3", False, False),  # one too many: asks for confirmation
        (5, 3, "3", True, True),  # confirmed over capacity
        (5, 5, "1", True, True),
        (5, 0, "0", True, False),  # not a party
        (5, 0, "elva", True, False),
    ],
)
def test_a_walk_in_at_the_door(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    capacity: int | None,
    taken: int,
    party: str,
    confirm: bool,
    added: bool,
) -> None:
    # Given a dialogue with some seats taken
    dialogue_id = new_dialogue(site.app, capacity=capacity)
    if taken:
        sign_up(resident, dialogue_id, "a@example.com", party_size=str(taken))
    # When the organiser adds someone who came to the door (name left out)
    form = {"name": "", "party_size": party} | ({"over_capacity": "y"} if confirm else {})
    response = organiser.post(f"{BASE}/{dialogue_id}/pa-plats", data=form)
    walk_ins = [r for r in registrations(site.app, dialogue_id) if r.walk_in]
    if added:
        # Then they are confirmed and counted as arrived, without an address or a mail
        assert response.status_code == 302
        assert [(r.status, r.party_size, r.email_tag) for r in walk_ins] == [
            (CONFIRMED, int(party), None)
        ]
        assert walk_ins[0].checked_in_at is not None
        with site.app.app_context():
            assert attendance.checked_in_people(dialogue_id) == int(party)
        assert not queued(site.app, "dialogue_confirmed")[(taken and 1) or 0 :]
        assert len(_events(site, "walk_in_added")) == 1
        page = organiser.get(f"{BASE}/{dialogue_id}").get_data(as_text=True)
        assert f"Incheckade: {party} av {int(party) + taken}" in page
    else:
        # Or the page explains, keeping what was typed
        assert response.status_code == 200 and walk_ins == []
        assert errors(response.get_data(as_text=True))
        assert f'value="{party}"' in response.get_data(as_text=True)


def test_checkin_count_and_search(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    # Given three registrations, one checked in
    dialogue_id = new_dialogue(site.app, capacity=10)
    sign_up(resident, dialogue_id, "anna@example.com", name="Anna Berg", party_size="2")
    sign_up(resident, dialogue_id, "bo@example.com", name="Bo Ek")
    sign_up(resident, dialogue_id, "cia@example.com", name="Cia Lind")
    anna = registration(site.app, dialogue_id, "anna@example.com")
    organiser.post(f"{BASE}/{dialogue_id}/incheckning/{anna.id}")
    # Then the page counts people: 2 of 4 arrived
    page = organiser.get(f"{BASE}/{dialogue_id}").get_data(as_text=True)
    assert "Incheckade: 2 av 4" in page
    assert 'class="table-region" role="region"' in page
    # And a search (GET, no script) narrows the list by name, e-mail or phone
    for query, shown, hidden in [
        ("berg", ["Anna Berg"], ["Bo Ek", "Cia Lind"]),
        ("BO@", ["Bo Ek"], ["Anna Berg"]),
        ("ingen", [], ["Anna Berg", "Bo Ek", "Cia Lind"]),
        ("", ["Anna Berg", "Bo Ek", "Cia Lind"], []),
    ]:
        page = organiser.get(f"{BASE}/{dialogue_id}", query_string={"q": query}).get_data(
            as_text=True
        )
        assert all(name in page for name in shown), query
        assert not any(name in page for name in hidden), query
        assert "Incheckade: 2 av 4" in page


@pytest.mark.parametrize(
    ("chosen", "confirm", "promoted"),
    [
        ("c", False, True),  # a single person behind a party of 2: fits the one seat
        ("b", False, False),  # the party of 2 does not fit without confirmation
        ("b", True, True),
    ],
)
def test_promotion_by_hand(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    smtp: SMTPServer,
    chosen: str,
    confirm: bool,
    promoted: bool,
) -> None:
    # Given a 3-seat dialogue: 2 confirmed, then a party of 2 and a single person waiting,
    # and one seat held for the waiting list
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "a@example.com", party_size="2")
    sign_up(resident, dialogue_id, "x@example.com", party_size="1")
    sign_up(resident, dialogue_id, "b@example.com", party_size="2")
    sign_up(resident, dialogue_id, "c@example.com", party_size="1")
    x = registration(site.app, dialogue_id, "x@example.com")
    with site.app.app_context():
        from intake.dialogues import service, views

        with site.app.test_request_context():
            service.cancel(x, keys=appkeys.keys(), links=views.links())
    deliver(site.app, smtp)
    assert registration(site.app, dialogue_id, "b@example.com").status == WAITLISTED
    # When the organiser gives a seat to one of them by hand
    target = registration(site.app, dialogue_id, f"{chosen}@example.com")
    form = {"over_capacity": "y"} if confirm else {}
    response = organiser.post(f"{BASE}/{dialogue_id}/reservlista/{target.id}", data=form)
    assert response.status_code == 302
    status = registration(site.app, dialogue_id, f"{chosen}@example.com").status
    if promoted:
        # Then they have a seat, are told by the same mail as an automatic promotion, audited
        assert status == CONFIRMED
        mail = only_to(deliver(site.app, smtp), f"{chosen}@example.com")
        assert subject(mail).startswith("Du har fått en plats")
        assert len(_events(site, "registration_promoted")) == 1
    else:
        assert status == WAITLISTED
        assert deliver(site.app, smtp) == []
        assert not _events(site, "registration_promoted")


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("confirmed", ["a@example.com", "b@example.com"]),
        ("waiting", ["c@example.com"]),
        ("all", ["a@example.com", "b@example.com", "c@example.com"]),
    ],
)
def test_a_message_to_the_registrants(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    smtp: SMTPServer,
    audience: str,
    expected: list[str],
) -> None:
    # Given two confirmed, one waiting, one cancelled and a walk-in
    dialogue_id = new_dialogue(site.app, capacity=2)
    for email in ("a@example.com", "b@example.com", "c@example.com", "d@example.com"):
        sign_up(resident, dialogue_id, email)
    organiser.post(f"{BASE}/{dialogue_id}/pa-plats", data={"party_size": "1", "over_capacity": "y"})
    d = registration(site.app, dialogue_id, "d@example.com")
    with site.app.app_context(), site.app.test_request_context():
        from intake.dialogues import service, views

        service.cancel(d, keys=appkeys.keys(), links=views.links())
    deliver(site.app, smtp)
    form = {
        "audience": audience,
        "subject": "Ny lokal",
        "body": "Vi ses i <aulan>.\nVälkomna!",
    }
    # When the organiser previews the message
    page = organiser.post(f"{BASE}/{dialogue_id}/meddelande", data=form).get_data(as_text=True)
    # Then the preview counts the recipients and nothing is queued yet
    count = len(expected)
    assert errors(page) == [] and "Förhandsvisning" in page
    assert f"Meddelandet går till {count} person" in page
    assert queued(site.app, "dialogue_message") == []
    # When they send it
    response = organiser.post(f"{BASE}/{dialogue_id}/meddelande", data=form | {"action": "send"})
    assert response.status_code == 302
    # Then each recipient gets one mail of their own, the subject one header line
    mails = deliver(site.app, smtp)
    assert sorted(m["To"] for m in mails) == expected
    for mail in mails:
        assert subject(mail) == "Ny lokal"
        assert "Vi ses i <aulan>." in part(mail, "text/plain")
        assert "&lt;aulan&gt;" in part(mail, "text/html")
    # And the audit counts them, without the text
    (event,) = _events(site, "registrants_messaged")
    assert event.details["recipients"] == count
    assert "aulan" not in str(event.details) and "lokal" not in str(event.details)


def test_a_message_subject_stays_one_header_line(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a registrant, and a subject with a line break that got past the form
    dialogue_id = new_dialogue(site.app)
    sign_up(resident, dialogue_id, "a@example.com")
    deliver(site.app, smtp)
    with site.app.app_context(), site.app.test_request_context():
        from intake.dialogues import organising, views

        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        sent = organising.send_message(
            dialogue,
            audience="all",
            subject="Ny lokal\r\nBcc: evil@example.com",
            body="Hej",
            keys=appkeys.keys(),
            links=views.links(),
            by_id=1,
            by="olle",
        )
    assert sent == 1
    # Then the outbox's render chokepoint keeps it one header line: no Bcc header is added
    mail = only_to(deliver(site.app, smtp), "a@example.com")
    assert mail["Bcc"] is None
    assert subject(mail) == "Ny lokal Bcc: evil@example.com"


def test_a_message_needs_subject_and_body(site: Installation, organiser: FlaskClient) -> None:
    dialogue_id = new_dialogue(site.app)
    response = organiser.post(
        f"{BASE}/{dialogue_id}/meddelande",
        data={"audience": "all", "subject": " ", "body": "", "action": "send"},
    )
    assert response.status_code == 200
    assert errors(response.get_data(as_text=True)) == ["Skriv en ämnesrad.", "Skriv meddelandet."]
    assert queued(site.app, "dialogue_message") == []


@pytest.mark.parametrize("email", ["asker@example.com", ""])
def test_answering_an_asker(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    outsider: FlaskClient,
    smtp: SMTPServer,
    email: str,
) -> None:
    # Given a question, with or without an address to answer
    dialogue_id = new_dialogue(site.app)
    text = "HEMLIG-FRÅGA om belysningen"
    resident.post(f"/dialoger/{dialogue_id}/fraga", data={"text": text, "email": email})
    with site.app.app_context():
        from intake.dialogues.models import Question

        question_id = db.session.scalar(sa.select(Question.id))
    page = organiser.get(f"{BASE}/{dialogue_id}/fragor").get_data(as_text=True)
    url = f"{BASE}/{dialogue_id}/fragor/{question_id}/svara"
    # Then an organiser outside the inbox cannot answer
    assert outsider.post(url, data={"answer": "Svar"}).status_code == 404
    # When a member answers
    organiser.post(url, data={"answer": "Vi har bett om fler lampor."})
    mails = deliver(site.app, smtp)
    if email:
        # Then the asker gets the answer by mail, without the sealed question
        assert f'action="{url}"' in page
        mail = only_to(mails, email)
        assert "Vi har bett om fler lampor." in part(mail, "text/plain")
        assert "HEMLIG" not in part(mail, "text/plain") + part(mail, "text/html")
        assert len(_events(site, "question_answered")) == 1
        assert "Svar mejlat" in organiser.get(f"{BASE}/{dialogue_id}/fragor").get_data(as_text=True)
    else:
        # Or the page says that no address was left, and nothing is sent
        assert "lämnade ingen e-postadress" in page and f'action="{url}"' not in page
        assert mails == []
        assert not _events(site, "question_answered")


def test_cancelled_dialogue_still_refuses_cancel(
    site: Installation, organiser: FlaskClient
) -> None:
    dialogue_id = new_dialogue(site.app, status=CANCELLED)
    assert organiser.post(f"{BASE}/{dialogue_id}/stall-in").status_code == 400
