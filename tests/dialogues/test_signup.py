"""Signing up for a dialogue: validation, one registration per e-mail, the waiting list, when
sign-up is closed, and the self-service cancel link that promotes the next in line."""

from __future__ import annotations

import html
import time
from datetime import timedelta
from typing import Any

import itsdangerous
import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from intake import bootstrap, clock, emails, outbox
from intake.dialogues import service
from intake.dialogues.models import CANCELLED, CONFIRMED, DIGITAL, WAITLISTED, WITHDRAWN

from ..accounts.back_office import freeze
from ..conftest import SMTPServer
from ..staff_helpers import Installation
from .helpers import (
    cancel_path,
    deliver,
    errors,
    input_value,
    new_dialogue,
    only_to,
    outcome,
    part,
    queued,
    registration,
    registrations,
    sign_up,
    signup_form,
    subject,
)

SALT = "intake-dialogue-cancel"
INVALID_LINK = "Länken fungerar inte"


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"name": ""}, "name", "Skriv ditt namn."),
        ({"name": "   "}, "name", "Skriv ditt namn."),
        ({"email": ""}, "email", "Skriv din e-postadress."),
        ({"email": "anna.example.com"}, "email", "Skriv e-postadressen som namn@exempel.se."),
        ({"email": "anna@"}, "email", "Skriv e-postadressen som namn@exempel.se."),
        ({"party_size": ""}, "party_size", "Skriv hur många ni är."),
        ({"party_size": "0"}, "party_size", "Skriv ett antal mellan 1 och 10."),
        ({"party_size": "11"}, "party_size", "Skriv ett antal mellan 1 och 10."),
        ({"party_size": "tre"}, "party_size", "Skriv ett tal med siffror, till exempel 2."),
        ({"privacy": ""}, "privacy", "Bekräfta att du har läst hur uppgifterna behandlas."),
    ],
)
def test_invalid_signup_gets_swedish_errors_and_keeps_the_answers(
    site: Installation, resident: FlaskClient, answers: dict[str, str], field: str, message: str
) -> None:
    # Given a dialogue with seats
    dialogue_id = new_dialogue(site.app, capacity=20)
    typed = signup_form(
        "anna@example.com", name="Anna Ö'Andersson", phone="070-123 45 67", party_size="3"
    )
    typed.update(needs="Hörslinga, tack.", **answers)
    # When the form is sent with one answer wrong
    response = resident.post(f"/dialoger/{dialogue_id}/anmalan", data=typed)
    page = response.get_data(as_text=True)
    # Then the page comes back with that one Swedish error, in the summary and at the field
    assert response.status_code == 200
    assert errors(page) == [message]
    assert f'<a href="#{field}">{html.escape(message, quote=False)}</a>' in page
    assert "Det finns ett problem" in page
    assert "<title>Fel:" in page
    # And everything typed is still there
    for name in ("name", "email", "phone", "party_size"):
        shown = input_value(page, name)
        assert shown is not None and html.unescape(shown) == typed[name], name
    assert ">Hörslinga, tack.</textarea>" in page
    assert ("checked" in page.split('id="privacy"')[1][:40]) == (typed["privacy"] == "y")
    # And nobody was registered
    assert registrations(site.app, dialogue_id) == []


@pytest.mark.parametrize("again", ["ANNA@example.com", " anna@EXAMPLE.com ", "anna@example.com"])
def test_a_known_address_gets_the_same_page_as_a_new_one_and_a_truthful_mail(
    site: Installation, resident: FlaskClient, again: str
) -> None:
    """Issue 10 §5: the page never tells whether an address is signed up; the mail does."""
    # Given a resident who has signed up
    dialogue_id = new_dialogue(site.app, capacity=20)
    assert outcome(sign_up(resident, dialogue_id, "anna@example.com")) == "bekraftad"
    # When the same address, in other letters, signs up again, and a new address does too
    known = sign_up(resident, dialogue_id, again, name="Anna igen")
    unknown = sign_up(resident, dialogue_id, "bertil@example.com")
    # Then both get the same answer
    assert outcome(known) == outcome(unknown) == "bekraftad"
    assert resident.get(known.location).get_data() == resident.get(unknown.location).get_data()
    # And there is still one registration for the address, whose owner is told the truth
    assert len(registrations(site.app, dialogue_id)) == 2
    assert [m.template for m in queued(site.app)] == [
        "dialogue_confirmed",
        "dialogue_already_registered",
        "dialogue_confirmed",
    ]
    told = queued(site.app, "dialogue_already_registered")[0]
    with site.app.app_context():
        # (addresses are stored normalised: intake.emails)
        assert told.recipient == emails.normalise(again)
    assert "position" not in told.context  # confirmed, not waiting


def test_the_same_email_may_sign_up_for_two_dialogues(
    site: Installation, resident: FlaskClient
) -> None:
    first, second = new_dialogue(site.app), new_dialogue(site.app, title="Trafik vid skolan")
    assert outcome(sign_up(resident, first, "anna@example.com")) == "bekraftad"
    assert outcome(sign_up(resident, second, "anna@example.com")) == "bekraftad"


@pytest.mark.parametrize(
    ("taken", "party", "told"),
    [
        ([3], 2, "bekraftad"),  # 5 of 5 seats: fits exactly
        ([4], 2, "reserv-1"),  # one seat left for a party of two: the waiting list
        ([5], 1, "reserv-1"),  # full
        ([2, 2], 1, "bekraftad"),
        ([], 5, "bekraftad"),  # the whole room
    ],
)
def test_a_party_larger_than_the_seats_left_is_waitlisted(
    site: Installation, resident: FlaskClient, taken: list[int], party: int, told: str
) -> None:
    # Given a dialogue with 5 seats, some taken
    dialogue_id = new_dialogue(site.app, capacity=5)
    for n, size in enumerate(taken):
        early = sign_up(resident, dialogue_id, f"tidig{n}@example.com", party_size=str(size))
        assert outcome(early) == "bekraftad"
    # When a party signs up
    response = sign_up(resident, dialogue_id, "sist@example.com", party_size=str(party))
    # Then they are told whether they have seats or their place in the queue
    assert outcome(response) == told
    page = resident.get(response.location).get_data(as_text=True)
    if told == "bekraftad":
        assert "Du är anmäld" in page
    else:
        assert "Du står på reservlistan" in page and "Du är nummer 1 i kön." in page
    with site.app.app_context():
        assert service.seats_taken(dialogue_id) == sum(taken) + (party if told[0] == "b" else 0)


@pytest.mark.parametrize(
    ("capacity", "party", "message"),
    [
        (5, "6", "Dialogen har bara 5 platser. Anmäl färre personer."),
        (5, "10", "Dialogen har bara 5 platser. Anmäl färre personer."),
        (1, "2", "Dialogen har bara 1 plats. Anmäl färre personer."),
    ],
)
def test_a_party_larger_than_the_room_is_refused(
    site: Installation, resident: FlaskClient, capacity: int, party: str, message: str
) -> None:
    # Given a dialogue with one seat taken
    dialogue_id = new_dialogue(site.app, capacity=capacity)
    assert outcome(sign_up(resident, dialogue_id, "tidig@example.com")) == "bekraftad"
    # When a party bigger than the whole room signs up
    response = sign_up(resident, dialogue_id, "stor@example.com", party_size=party)
    # Then they are told, rather than put in a queue they could never leave (nor let others)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert errors(page) == [message]
    assert input_value(page, "party_size") == party
    assert len(registrations(site.app, dialogue_id)) == 1


def test_nobody_jumps_the_queue(site: Installation, resident: FlaskClient) -> None:
    # Given a dialogue with 3 seats: a party of 2 confirmed, a party of 2 waiting for 1 seat
    dialogue_id = new_dialogue(site.app, capacity=3)
    assert outcome(sign_up(resident, dialogue_id, "a@example.com", party_size="2")) == "bekraftad"
    assert outcome(sign_up(resident, dialogue_id, "b@example.com", party_size="2")) == "reserv-1"
    # When a single person signs up, although one seat is free
    response = sign_up(resident, dialogue_id, "c@example.com", party_size="1")
    # Then they queue behind the party that came first
    assert outcome(response) == "reserv-2"


@pytest.mark.parametrize(
    "closed",
    ["before_opening", "after_closing", "after_start", "during", "cancelled"],
)
def test_signup_is_closed(site: Installation, resident: FlaskClient, closed: str) -> None:
    # Given a dialogue whose sign-up is not open for one reason
    now = clock.now()
    moments: dict[str, dict[str, Any]] = {
        "before_opening": {"signup_opens_at": now + timedelta(hours=1)},
        "after_closing": {"signup_closes_at": now - timedelta(minutes=1)},
        "after_start": {
            "starts_at": now - timedelta(hours=3),
            "ends_at": now - timedelta(hours=1),
        },
        "during": {"starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(hours=1)},
        "cancelled": {"status": CANCELLED},
    }
    dialogue_id = new_dialogue(site.app, capacity=20, **moments[closed])
    # When a resident looks at it, and sends the form anyway (an old tab)
    page = resident.get(f"/dialoger/{dialogue_id}").get_data(as_text=True)
    response = sign_up(resident, dialogue_id, "sen@example.com")
    # Then the page offers no sign-up, the form is refused, and nobody is registered
    assert "Anmäl mig" not in page
    assert response.status_code == 200
    assert "Anmälan är stängd för den här dialogen." in response.get_data(as_text=True)
    assert registrations(site.app, dialogue_id) == []


def test_signup_opens_and_closes_on_time(
    site: Installation, resident: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dialogue whose sign-up opens at 12:00 and closes at 13:00
    frozen = freeze(monkeypatch, clock.now().replace(microsecond=0))
    opens = frozen.moment + timedelta(hours=1)
    dialogue_id = new_dialogue(
        site.app, signup_opens_at=opens, signup_closes_at=opens + timedelta(hours=1)
    )
    # Then it is closed one second before, open at the minute, and closed at closing time
    frozen.set(opens - timedelta(seconds=1))
    assert sign_up(resident, dialogue_id, "tidig@example.com").status_code == 200
    frozen.set(opens)
    assert outcome(sign_up(resident, dialogue_id, "punktlig@example.com")) == "bekraftad"
    frozen.set(opens + timedelta(hours=1))
    assert sign_up(resident, dialogue_id, "sen@example.com").status_code == 200
    assert len(registrations(site.app, dialogue_id)) == 1


def test_cancelling_promotes_the_first_in_line_and_mails_them(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one seat taken by Anna, and Bo then Cia on the waiting list
    frozen = freeze(monkeypatch, clock.now())
    dialogue_id = new_dialogue(site.app, capacity=1)
    for email in ("anna@example.com", "bo@example.com", "cia@example.com"):
        sign_up(resident, dialogue_id, email)
        frozen.advance(seconds=1)
    link = cancel_path(only_to(deliver(site.app, smtp), "anna@example.com"))
    # When Anna opens the link in her confirmation mail
    page = resident.get(link)
    # Then she is asked to confirm, and nothing has happened yet
    assert page.status_code == 200 and "Avboka din plats" in page.get_data(as_text=True)
    assert registration(site.app, dialogue_id, "anna@example.com").status == CONFIRMED
    # When she presses Avboka
    frozen.advance(minutes=5)
    done = resident.post(link)
    # Then she is cancelled and Bo, first in line, has her seat, in the same moment
    assert done.status_code == 200 and "Du är avbokad" in done.get_data(as_text=True)
    anna = registration(site.app, dialogue_id, "anna@example.com")
    bo = registration(site.app, dialogue_id, "bo@example.com")
    assert (anna.status, bo.status) == (WITHDRAWN, CONFIRMED)
    assert anna.cancelled_at == bo.promoted_at == frozen.moment
    # And Cia moves up to first in the queue
    cia = registration(site.app, dialogue_id, "cia@example.com")
    assert cia.status == WAITLISTED
    with site.app.app_context():
        assert service.waitlist_position(cia) == 1
        assert service.seats_taken(dialogue_id) == 1
    # And Bo gets a mail with his place and a calendar file, Anna a receipt, Cia nothing
    messages = deliver(site.app, smtp)
    promoted = only_to(messages, "bo@example.com")
    assert subject(promoted) == "Du har fått en plats: Trygghet i centrum"
    assert "En plats blev ledig och du är nu anmäld." in part(promoted, "text/plain")
    assert "BEGIN:VEVENT" in part(promoted, "text/calendar")
    assert subject(only_to(messages, "anna@example.com")).startswith("Du är avbokad")
    assert [m["To"] for m in messages if m["To"] == "cia@example.com"] == []
    # And the link, used again, cancels nothing more
    again = resident.post(link)
    assert "Anmälan är redan avbokad." in resident.get(link).get_data(as_text=True)
    assert again.status_code == 200
    assert registration(site.app, dialogue_id, "bo@example.com").status == CONFIRMED
    assert deliver(site.app, smtp) == []


def test_cancel_and_promotion_are_one_transaction(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a full dialogue with one person waiting
    dialogue_id = new_dialogue(site.app, capacity=1)
    sign_up(resident, dialogue_id, "anna@example.com")
    sign_up(resident, dialogue_id, "bo@example.com")
    link = cancel_path(only_to(deliver(site.app, smtp), "anna@example.com"))
    # When the promotion fails halfway (its mail cannot be queued)
    real_enqueue = outbox.enqueue

    def failing(template: str, *args: Any, **kwargs: Any) -> Any:
        if template == "dialogue_promoted":
            raise RuntimeError("the database went away")
        return real_enqueue(template, *args, **kwargs)

    monkeypatch.setattr(outbox, "enqueue", failing)
    with pytest.raises(RuntimeError):
        resident.post(link)
    # Then the cancellation did not happen either: nobody lost or gained a seat
    assert registration(site.app, dialogue_id, "anna@example.com").status == CONFIRMED
    assert registration(site.app, dialogue_id, "bo@example.com").status == WAITLISTED
    # And once the fault is gone, the same link works
    monkeypatch.setattr(outbox, "enqueue", real_enqueue)
    assert resident.post(link).status_code == 200
    assert registration(site.app, dialogue_id, "bo@example.com").status == CONFIRMED


def test_cancelling_after_the_start_promotes_nobody(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a full dialogue with one person waiting, which has begun
    frozen = freeze(monkeypatch, clock.now())
    dialogue_id = new_dialogue(site.app, capacity=1)
    sign_up(resident, dialogue_id, "anna@example.com")
    sign_up(resident, dialogue_id, "bo@example.com")
    link = cancel_path(only_to(deliver(site.app, smtp), "anna@example.com"))
    frozen.advance(days=14, minutes=5)
    # When Anna cancels during the dialogue
    resident.post(link)
    # Then her seat does not go to Bo: a mail saying "you have a seat" would come too late
    assert registration(site.app, dialogue_id, "anna@example.com").status == WITHDRAWN
    assert registration(site.app, dialogue_id, "bo@example.com").status == WAITLISTED
    assert [m["To"] for m in deliver(site.app, smtp)] == ["anna@example.com"]


def test_cancelling_a_waiting_place_promotes_nobody(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    dialogue_id = new_dialogue(site.app, capacity=1)
    for email in ("anna@example.com", "bo@example.com", "cia@example.com"):
        sign_up(resident, dialogue_id, email)
    link = cancel_path(only_to(deliver(site.app, smtp), "bo@example.com"))
    resident.post(link)
    statuses = [r.status for r in registrations(site.app, dialogue_id)]
    assert statuses == [CONFIRMED, WITHDRAWN, WAITLISTED]
    assert [m["To"] for m in deliver(site.app, smtp)] == ["bo@example.com"]


def _token(secret: str, registration_id: int) -> str:
    return str(URLSafeTimedSerializer(secret, salt=SALT).dumps(registration_id))


def _old_token(secret: str, registration_id: int, *, days: float) -> str:
    signer = itsdangerous.timed.TimestampSigner
    original = signer.get_timestamp
    try:
        signer.get_timestamp = lambda self: int(time.time() - days * 86400)  # type: ignore[method-assign]
        return _token(secret, registration_id)
    finally:
        signer.get_timestamp = original  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "forgery",
    ["other_secret", "other_salt", "expired", "tampered", "unknown_id", "not_a_number", "garbage"],
)
def test_a_forged_or_expired_cancel_link_does_not_work(
    site: Installation, resident: FlaskClient, forgery: str
) -> None:
    # Given a confirmed registration
    dialogue_id = new_dialogue(site.app, capacity=5)
    sign_up(resident, dialogue_id, "anna@example.com")
    anna = registration(site.app, dialogue_id, "anna@example.com")
    secret = str(site.app.config["SECRET_KEY"])
    good = _token(secret, anna.id)
    tokens = {
        "other_secret": _token("not-the-secret-key", anna.id),
        "other_salt": str(URLSafeTimedSerializer(secret, salt="other").dumps(anna.id)),
        "expired": _old_token(secret, anna.id, days=366),
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "unknown_id": _token(secret, anna.id + 1000),
        "not_a_number": str(URLSafeTimedSerializer(secret, salt=SALT).dumps("1")),
        "garbage": "x" * 40,
    }
    # When someone opens, or posts to, a link that is not the one we sent
    for response in (
        resident.get(f"/dialoger/avboka/{tokens[forgery]}"),
        resident.post(f"/dialoger/avboka/{tokens[forgery]}"),
    ):
        # Then they get the page that says the link does not work, and nothing is cancelled
        assert response.status_code == 404
        assert INVALID_LINK in response.get_data(as_text=True)
    assert registration(site.app, dialogue_id, "anna@example.com").status == CONFIRMED


def test_a_cancel_link_works_for_a_year(site: Installation, resident: FlaskClient) -> None:
    dialogue_id = new_dialogue(site.app, capacity=5)
    sign_up(resident, dialogue_id, "anna@example.com")
    anna = registration(site.app, dialogue_id, "anna@example.com")
    token = _old_token(str(site.app.config["SECRET_KEY"]), anna.id, days=364)
    assert "Avboka din plats" in resident.get(f"/dialoger/avboka/{token}").get_data(as_text=True)


def test_opening_the_cancel_link_never_cancels(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a confirmed registration and its link
    dialogue_id = new_dialogue(site.app, capacity=5)
    sign_up(resident, dialogue_id, "anna@example.com")
    link = cancel_path(only_to(deliver(site.app, smtp), "anna@example.com"))
    # When the link is opened many times (a mail scanner, a prefetching browser) and HEAD-ed
    for _ in range(3):
        page = resident.get(link).get_data(as_text=True)
        assert '<form method="post">' in page
    resident.head(link)
    # Then the registration stands and no receipt was sent
    assert registration(site.app, dialogue_id, "anna@example.com").status == CONFIRMED
    assert deliver(site.app, smtp) == []


def test_cancel_without_the_form_token_is_refused(make_app: Any) -> None:
    # Given the service with CSRF protection on, and a resident who signed up on the page
    app = make_app()
    with app.app_context():
        bootstrap.run_setup()
    client = app.test_client()
    dialogue_id = new_dialogue(app, capacity=5)
    page = client.get(f"/dialoger/{dialogue_id}").get_data(as_text=True)
    form = signup_form("anna@example.com", csrf_token=input_value(page, "csrf_token") or "")
    assert outcome(client.post(f"/dialoger/{dialogue_id}/anmalan", data=form)) == "bekraftad"
    anna = registration(app, dialogue_id, "anna@example.com")
    link = f"/dialoger/avboka/{_token(str(app.config['SECRET_KEY']), anna.id)}"
    # When a page elsewhere posts to the link without the form's token
    response = client.post(link)
    # Then nothing is cancelled
    assert response.status_code == 400
    assert registration(app, dialogue_id, "anna@example.com").status == CONFIRMED
    # But the confirmation page's own form does cancel
    page = client.get(link).get_data(as_text=True)
    token = input_value(page, "csrf_token")
    assert token
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    assert registration(app, dialogue_id, "anna@example.com").status == WITHDRAWN


def test_the_meeting_link_only_reaches_confirmed_registrants(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a digital dialogue with one seat and a secret meeting link
    meeting = "https://meet.example.com/hemligt-rum-4711"
    dialogue_id = new_dialogue(
        site.app, capacity=1, format=DIGITAL, place="", address="", meeting_link=meeting
    )
    # When Anna gets the seat and Bo the waiting list
    first = sign_up(resident, dialogue_id, "anna@example.com")
    second = sign_up(resident, dialogue_id, "bo@example.com")
    # Then no public page shows the link
    for path in (
        "/dialoger/",
        f"/dialoger/{dialogue_id}",
        first.location,
        second.location,
    ):
        page = resident.get(path).get_data(as_text=True)
        assert meeting not in page and "hemligt-rum" not in page, path
    # And only Anna's mail carries it: in text, HTML and the calendar file
    messages = deliver(site.app, smtp)
    anna, bo = only_to(messages, "anna@example.com"), only_to(messages, "bo@example.com")
    assert meeting in part(anna, "text/plain")
    assert meeting in part(anna, "text/html")
    assert "hemligt-rum-4711" in part(anna, "text/calendar").replace("\r\n ", "")
    assert "hemligt-rum" not in bo.as_string()
    # And Bo gets it when he is promoted, and the cancel page never shows it
    link = cancel_path(anna)
    assert "hemligt-rum" not in resident.get(link).get_data(as_text=True)
    resident.post(link)
    messages = deliver(site.app, smtp)
    assert meeting in part(only_to(messages, "bo@example.com"), "text/plain")
    assert "hemligt-rum" not in only_to(messages, "anna@example.com").as_string()


@pytest.mark.parametrize(("capacity", "promoted"), [("3", 2), ("", 3), ("1", 0)])
def test_more_seats_go_to_the_waiting_list_first(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    organiser: FlaskClient,
    capacity: str,
    promoted: int,
) -> None:
    # Given one seat taken and three people waiting
    starts = (clock.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    dialogue_id = new_dialogue(site.app, capacity=1, starts_at=starts)
    waiting = ["bo@example.com", "cia@example.com", "dan@example.com"]
    for email in ["anna@example.com", *waiting]:
        sign_up(resident, dialogue_id, email)
    deliver(site.app, smtp)
    # When the organiser gives the dialogue more seats (or no limit)
    local = starts.astimezone(clock.STOCKHOLM)
    form = {
        "title": "Trygghet i centrum",
        "hosts": ["polisen"],
        "starts_at": local.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (local + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
        "format": "in_person",
        "place": "Folkets hus",
        "capacity": capacity,
        "reminder_hours": "24",
    }
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/andra", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    # Then the first in line get the new seats, and are told so
    statuses = [registration(site.app, dialogue_id, e).status for e in waiting]
    assert statuses == [CONFIRMED] * promoted + [WAITLISTED] * (3 - promoted)
    mails = deliver(site.app, smtp)
    assert sorted(m["To"] for m in mails) == waiting[:promoted]
    assert all(subject(m).startswith("Du har fått en plats") for m in mails)
    # And a newcomer does not jump the queue of those still waiting
    told = outcome(sign_up(resident, dialogue_id, "eva@example.com"))
    assert told == ("bekraftad" if promoted == 3 else f"reserv-{3 - promoted + 1}")
