"""Questions in advance (sealed to the Medborgardialog inbox, published only with an answer) and
the held-dialogue report (only held=True counts, organisers are reminded when it is missing)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import bootstrap, clock, jobs
from intake.audit import AuditEvent
from intake.crypto import sealing
from intake.dialogues import erasure, questions
from intake.dialogues.models import CANCELLED, Dialogue, Question
from intake.extensions import db

from ..accounts.back_office import freeze
from ..conftest import SMTPServer
from ..gallring_helpers import decide
from ..staff_helpers import Installation
from ..test_canary import assert_absent, database_copy
from .helpers import (
    ORGANISER,
    deliver,
    errors,
    input_value,
    new_dialogue,
    part,
    queued,
    sign_in,
    stockholm,
    subject,
)


def canary(field: str) -> str:
    """A unique marker for one field."""
    return f"CANARY-{field}-{uuid.uuid4().hex}"


def ask(client: FlaskClient, dialogue_id: int, text: str, **fields: str) -> Any:
    """Send a question from the dialogue's page."""
    return client.post(f"/dialoger/{dialogue_id}/fraga", data={"text": text, **fields})


def question_ids(site: Installation, dialogue_id: int) -> list[str]:
    """The ids of a dialogue's questions, oldest first."""
    with site.app.app_context():
        return list(
            db.session.scalars(
                sa.select(Question.id)
                .where(Question.dialogue_id == dialogue_id)
                .order_by(Question.received_at, Question.id)
            )
        )


def publish(organiser: FlaskClient, dialogue_id: int, question_id: str, **form: str) -> Any:
    """Publish (or, with action=withdraw, withdraw) a question."""
    return organiser.post(f"/personal/dialoger/{dialogue_id}/fragor/{question_id}", data=form)


def public_page(client: FlaskClient, dialogue_id: int) -> str:
    """The dialogue's public page."""
    response = client.get(f"/dialoger/{dialogue_id}")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_a_question_is_sealed_and_only_members_read_it(
    site: Installation, resident: FlaskClient, organiser: FlaskClient, outsider: FlaskClient
) -> None:
    # Given a resident's question with a canary in every field
    dialogue_id = new_dialogue(site.app)
    secrets = [canary("text"), canary("name"), f"{canary('email').lower()}@example.com"]
    response = ask(
        resident, dialogue_id, secrets[0], theme="trafik", name=secrets[1], email=secrets[2]
    )
    # Then the resident is thanked, and the question is stored sealed: no canary in the database
    assert response.status_code == 303 and response.location.endswith("/fraga-skickad")
    assert "Tack för din fråga" in resident.get(response.location).get_data(as_text=True)
    assert_absent(secrets, database_copy(site.app))
    with site.app.app_context():
        question = db.session.scalar(sa.select(Question))
        assert question is not None
        assert question.theme == "trafik" and question.published_at is None
        inbox = site.inbox("Medborgardialog")
        assert question.inbox_id == inbox.id
    # And an organiser in the Medborgardialog inbox reads it, grouped under its theme
    page = organiser.get(f"/personal/dialoger/{dialogue_id}/fragor").get_data(as_text=True)
    assert all(secret in page for secret in secrets)
    assert "Trafik (1)" in page
    # But an organiser outside the inbox is told so, and reads nothing
    response = outsider.get(f"/personal/dialoger/{dialogue_id}/fragor")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Det finns 1 fråga. Den är krypterad" in page and "du är inte medlem i den" in page
    assert_absent(secrets, {"outsider's page": page.encode()})
    # And nothing of it is on the public page
    assert_absent(secrets, {"public page": public_page(resident, dialogue_id).encode()})


def test_questions_are_grouped_by_theme(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    dialogue_id = new_dialogue(site.app)
    for text, theme in [("Fråga A", "trafik"), ("Fråga B", ""), ("Fråga C", "trafik")]:
        assert ask(resident, dialogue_id, text, theme=theme).status_code == 303
    page = organiser.get(f"/personal/dialoger/{dialogue_id}/fragor").get_data(as_text=True)
    headings = re.findall(r"<h2>([^<]+)</h2>", page)
    assert headings == ["Utan tema (1)", "Trafik (2)"]


def test_publishing_with_an_answer_and_withdrawing(
    site: Installation, resident: FlaskClient, organiser: FlaskClient, outsider: FlaskClient
) -> None:
    # Given two questions, one from a named resident
    dialogue_id = new_dialogue(site.app)
    ask(resident, dialogue_id, "Varför är det mörkt i parken, Kalle Svensson här?", name="Kalle")
    ask(resident, dialogue_id, "Blir det fler poliser?")
    first, second = question_ids(site, dialogue_id)
    # When the organiser publishes the first, in their own wording, with an answer
    response = publish(
        organiser,
        dialogue_id,
        first,
        published_question="Varför är det mörkt i parken?",
        published_answer="Kommunen byter belysningen i april.",
    )
    assert response.status_code == 302
    # Then the public page shows that question and answer, and nothing else of the questions
    page = public_page(resident, dialogue_id)
    assert "Frågor och svar" in page
    assert "Varför är det mörkt i parken?" in page
    assert "Kommunen byter belysningen i april." in page
    assert "Kalle" not in page and "Blir det fler poliser?" not in page
    # And an organiser outside the inbox cannot publish or withdraw anything
    for form in ({"published_question": "x", "published_answer": "y"}, {"action": "withdraw"}):
        assert publish(outsider, dialogue_id, second, **form).status_code == 404
        assert publish(outsider, dialogue_id, first, **form).status_code == 404
    # When the organiser withdraws it
    assert publish(organiser, dialogue_id, first, action="withdraw").status_code == 302
    # Then it is gone from the public page
    page = public_page(resident, dialogue_id)
    assert "Frågor och svar" not in page and "belysningen" not in page


@pytest.mark.parametrize(
    "form",
    [
        {"published_question": "Blir det fler poliser?", "published_answer": ""},
        {"published_question": "Blir det fler poliser?", "published_answer": "   "},
        {"published_question": "", "published_answer": "Ja."},
    ],
)
def test_nothing_is_published_without_question_and_answer(
    site: Installation, resident: FlaskClient, organiser: FlaskClient, form: dict[str, str]
) -> None:
    dialogue_id = new_dialogue(site.app)
    ask(resident, dialogue_id, "Blir det fler poliser?")
    [question_id] = question_ids(site, dialogue_id)
    response = publish(organiser, dialogue_id, question_id, **form)
    assert response.status_code == 302
    page = organiser.get(response.location).get_data(as_text=True)
    assert "Skriv både frågan och svaret för att publicera." in page
    assert "Frågor och svar" not in public_page(resident, dialogue_id)


def test_a_question_cannot_be_published_under_another_dialogue(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    mine, other = new_dialogue(site.app), new_dialogue(site.app, title="Trafik")
    ask(resident, mine, "Blir det fler poliser?")
    [question_id] = question_ids(site, mine)
    form = {"published_question": "Blir det fler poliser?", "published_answer": "Ja."}
    assert publish(organiser, other, question_id, **form).status_code == 404
    assert publish(organiser, mine, "no-such-question", **form).status_code == 404
    assert "Frågor och svar" not in public_page(resident, other)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"text": ""}, "Skriv din fråga."),
        ({"text": "   "}, "Skriv din fråga."),
        ({"text": "x" * 2001}, "Texten får vara högst 2000 tecken."),
        ({"text": "Hej", "email": "inte-en-adress"}, "Skriv e-postadressen som namn@exempel.se."),
    ],
)
def test_an_invalid_question_comes_back_with_the_answers(
    site: Installation, resident: FlaskClient, form: dict[str, str], message: str
) -> None:
    dialogue_id = new_dialogue(site.app)
    response = resident.post(f"/dialoger/{dialogue_id}/fraga", data={"name": "Kalle", **form})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert errors(page) == [message]
    assert input_value(page, "question-name") == "Kalle"
    assert question_ids(site, dialogue_id) == []


@pytest.mark.parametrize("closed", ["not_accepted", "started", "cancelled"])
def test_questions_are_closed(site: Installation, resident: FlaskClient, closed: str) -> None:
    now = clock.now()
    dialogue_id = new_dialogue(
        site.app,
        **{
            "not_accepted": {"accepts_questions": False},
            "started": {"starts_at": now - timedelta(minutes=1)},
            "cancelled": {"status": CANCELLED},
        }[closed],
    )
    assert "Skicka en fråga i förväg" not in public_page(resident, dialogue_id)
    assert ask(resident, dialogue_id, "Hej?").status_code == 404
    assert question_ids(site, dialogue_id) == []


def test_the_dialogue_page_has_no_duplicate_ids(site: Installation, resident: FlaskClient) -> None:
    # The sign-up and question forms share the page: each label must name its own field.
    dialogue_id = new_dialogue(site.app, capacity=10)
    page = public_page(resident, dialogue_id)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert "Anmäl mig" in page and "Skicka frågan" in page
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    for target in re.findall(r'<label for="([^"]+)"', page):
        assert target in ids, target


def inbox_key(site: Installation) -> bytes:
    """The Medborgardialog inbox's private key, from its recovery code."""
    with site.app.app_context():
        inbox = site.inbox("Medborgardialog")
        return bootstrap.unlock_with_recovery_code(inbox, site.recovery_codes["Medborgardialog"])


def opened(site: Installation, dialogue_id: int) -> list[dict[str, str]]:
    """A dialogue's questions as a member reads them, oldest first."""
    key = inbox_key(site)
    with site.app.app_context():
        rows = db.session.scalars(
            sa.select(Question)
            .where(Question.dialogue_id == dialogue_id)
            .order_by(Question.received_at, Question.id)
        )
        return [questions.open_question(row, key) for row in rows]


def everything_sealed(site: Installation) -> bytes:
    """Every sealed question part in the database, opened with the inbox's key."""
    key = inbox_key(site)
    with site.app.app_context():
        chunks = []
        for row in db.session.scalars(sa.select(Question)):
            ids = (row.id, row.dialogue_id, row.inbox_id)
            chunks.append(
                sealing.open_sealed(row.sealed, key, context=questions.question_context(*ids))
            )
            if row.sealed_contact is not None:
                context = questions.contact_context(*ids)
                chunks.append(sealing.open_sealed(row.sealed_contact, key, context=context))
        return b"\n".join(chunks)


def audited(site: Installation, action: str) -> list[tuple[str | None, dict[str, Any]]]:
    """The audit rows of one action: target and details."""
    with site.app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return [(row.target_id, dict(row.details)) for row in rows]


def test_the_askers_contact_details_are_erased_after_the_dialogue(
    site: Installation, resident: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide(site.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    # Given a dialogue that ends on 10 March 20:00 and a later one
    frozen = freeze(monkeypatch, stockholm(2031, 3, 1, 10, 0))
    dialogue_id = new_dialogue(site.app, starts_at=stockholm(2031, 3, 10, 18, 0))
    later_id = new_dialogue(site.app, title="Senare", starts_at=stockholm(2031, 4, 20, 18, 0))
    # And three questions to it: named with an e-mail, anonymous, named only; one to the later
    text = [canary("text") for _ in range(3)]
    name, email = canary("name"), f"{canary('email').lower()}@example.com"
    ask(resident, dialogue_id, text[0], theme="trafik", name=name, email=email)
    frozen.advance(minutes=1)
    ask(resident, dialogue_id, text[1])
    frozen.advance(minutes=1)
    ask(resident, dialogue_id, text[2], name="Kalle")
    ask(resident, later_id, "Blir det fler poliser?", name="Lisa", email="lisa@example.com")
    # And the first published with an answer
    organiser = sign_in(site)
    first = question_ids(site, dialogue_id)[0]
    published = {"published_question": "Varför är det mörkt?", "published_answer": "Nya lampor."}
    assert publish(organiser, dialogue_id, first, **published).status_code == 302
    asked = [
        {"text": text[0], "name": name, "email": email},
        {"text": text[1], "name": "", "email": ""},
        {"text": text[2], "name": "Kalle", "email": ""},
    ]
    assert opened(site, dialogue_id) == asked

    def erase_at(moment: Any) -> None:
        frozen.set(moment)
        with site.app.app_context():
            jobs.run_due()

    # When the jobs run just under 30 days after, nothing is erased
    erase_at(stockholm(2031, 4, 9, 21, 0))
    assert opened(site, dialogue_id) == asked
    assert audited(site, "question_contacts_erased") == []
    # When they run the next day, after 30 days
    erase_at(stockholm(2031, 4, 10, 21, 0))
    # Then every question of that dialogue keeps its text, and has lost its asker's details
    assert opened(site, dialogue_id) == [{"text": t, "name": "", "email": ""} for t in text]
    with site.app.app_context():
        rows = db.session.scalars(sa.select(Question).where(Question.dialogue_id == dialogue_id))
        assert {(r.sealed_contact, r.contact_erased_at) for r in rows} == {(None, frozen.moment)}
    # And they are gone from the database, even to someone holding the inbox's key
    plain = everything_sealed(site)
    assert_absent([name, email, "Kalle"], {"sealed, opened": plain})
    assert all(t.encode() in plain for t in text)
    # And the published question and answer stay on the public page
    page = public_page(resident, dialogue_id)
    assert "Varför är det mörkt?" in page and "Nya lampor." in page
    # And the organiser reads the questions, not who asked, and is told why
    organiser = sign_in(site, "ny.organisator@example.com")
    page = organiser.get(f"/personal/dialoger/{dialogue_id}/fragor").get_data(as_text=True)
    assert all(t in page for t in text)
    assert name not in page and email not in page and "Kalle" not in page
    assert page.count("namn och e-post raderade 10 april 2031 kl. 21:00") == 3
    # And the later dialogue's asker is untouched
    assert opened(site, later_id) == [
        {"text": "Blir det fler poliser?", "name": "Lisa", "email": "lisa@example.com"}
    ]
    # And the erasure is audited once per dialogue, with the count and no content
    [(target, details)] = audited(site, "question_contacts_erased")
    assert (target, details["questions"]) == (str(dialogue_id), 3)
    # naming the gallringsbeslut it erased under, and nothing else
    assert details["decision"] == "SN 2026/40, Socialnämnden, 2000-01-01"
    assert details.keys() == {"questions", "decision", "decision_id"}
    # And it is done once: a later run changes nothing
    erase_at(stockholm(2031, 4, 20, 21, 0))
    assert len(audited(site, "question_contacts_erased")) == 1
    with site.app.app_context():
        rows = db.session.scalars(sa.select(Question).where(Question.dialogue_id == dialogue_id))
        assert {r.contact_erased_at for r in rows} == {stockholm(2031, 4, 10, 21, 0)}


@pytest.mark.parametrize(("days", "erased"), [(29, 0), (30, 0), (31, 1)])
def test_question_contacts_wait_the_configured_days(
    site: Installation,
    resident: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    days: int,
    erased: int,
) -> None:
    decide(site.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    frozen = freeze(monkeypatch, stockholm(2031, 3, 1, 10, 0))
    starts = stockholm(2031, 3, 10, 18, 0)
    dialogue_id = new_dialogue(site.app, starts_at=starts)
    ask(resident, dialogue_id, "Blir det fler poliser?", name="Kalle", email="kalle@example.com")
    frozen.set(starts + timedelta(hours=2) + timedelta(days=days, hours=-1))
    with site.app.app_context():
        result = erasure.erase_contacts(now=clock.now())
        assert erasure.contacts_due(now=clock.now(), after_days=30) == []
    assert [(item.dialogue_id, item.count, item.waiting) for item in result] == (
        [(dialogue_id, 1, 0)] if erased else []
    )
    kept = {"name": "Kalle", "email": "kalle@example.com"}
    assert opened(site, dialogue_id) == [
        {"text": "Blir det fler poliser?", **({"name": "", "email": ""} if erased else kept)}
    ]


def sealed_whole(site: Installation, dialogue_id: int, *, text: str, name: str, email: str) -> str:
    """A question as it was stored before migration 0008: all of it in one sealed blob."""
    with site.app.app_context():
        inbox = site.inbox("Medborgardialog")
        question = Question(
            id=str(uuid.uuid4()),
            dialogue_id=dialogue_id,
            inbox_id=inbox.id,
            theme="",
            received_at=clock.now(),
        )
        whole = json.dumps({"text": text, "name": name, "email": email}).encode()
        context = questions.question_context(question.id, dialogue_id, inbox.id)
        question.sealed = sealing.seal(whole, inbox.public_key, context=context)
        db.session.add(question)
        db.session.commit()
        return question.id


def test_a_question_sealed_whole_is_split_when_a_member_opens_it_then_erased(
    site: Installation, outsider: FlaskClient, organiser: FlaskClient
) -> None:
    decide(site.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    # Given a question from before the split, of a dialogue that ended 40 days ago
    ended = new_dialogue(site.app, starts_at=clock.now() - timedelta(days=40))
    question_id = sealed_whole(
        site, ended, text="Varför är det mörkt?", name="Kalle", email="kalle@example.com"
    )
    whole = {"text": "Varför är det mörkt?", "name": "Kalle", "email": "kalle@example.com"}
    # When the erasure runs, it cannot take the contact without the text: it waits, and says so
    with site.app.app_context():
        result = erasure.erase_contacts(now=clock.now())
    assert [(item.dialogue_id, item.count, item.waiting) for item in result] == [(ended, 0, 1)]
    assert opened(site, ended) == [whole]
    # And an organiser outside the inbox, who cannot open it, changes nothing
    outsider.get(f"/personal/dialoger/{ended}/fragor")
    with site.app.app_context():
        row = db.session.get(Question, question_id)
        assert row is not None and questions.sealed_whole(row)
    # When a member opens any dialogue's questions page
    elsewhere = new_dialogue(site.app)
    assert organiser.get(f"/personal/dialoger/{elsewhere}/fragor").status_code == 200
    # Then the question is sealed again in two parts, reads the same, and that is audited
    with site.app.app_context():
        row = db.session.get(Question, question_id)
        assert row is not None and not questions.sealed_whole(row)
    assert opened(site, ended) == [whole]
    assert [details for _target, details in audited(site, "questions_resealed")] == [
        {"questions": 1}
    ]
    # And the next erasure takes the contact details and keeps the text
    with site.app.app_context():
        result = erasure.erase_contacts(now=clock.now())
    assert [(item.dialogue_id, item.count, item.waiting) for item in result] == [(ended, 1, 0)]
    assert opened(site, ended) == [{"text": "Varför är det mörkt?", "name": "", "email": ""}]
    assert_absent(["Kalle", "kalle@example.com"], {"sealed, opened": everything_sealed(site)})


def test_a_split_question_still_reads_as_before(site: Installation, resident: FlaskClient) -> None:
    # The text part keeps the old shape and binding (contact fields blank), so a rollback to
    # the code before migration 0008 still reads every question, without the contact.
    dialogue_id = new_dialogue(site.app)
    ask(resident, dialogue_id, "Blir det fler poliser?", name="Kalle", email="kalle@example.com")
    key = inbox_key(site)
    with site.app.app_context():
        row = db.session.scalar(sa.select(Question))
        assert row is not None
        context = questions.question_context(row.id, row.dialogue_id, row.inbox_id)
        old_reading = json.loads(sealing.open_sealed(row.sealed, key, context=context))
    assert old_reading == {"text": "Blir det fler poliser?", "name": "", "email": ""}


def report_form(**overrides: str) -> dict[str, str]:
    """The held-dialogue report form."""
    return {
        "held": "ja",
        "attendees": "25",
        "summary": "Ett fyrtiotal frågor om trafiken vid skolan.",
        "themes_raised": "Trafik, belysning.",
        "follow_up_actions": "INTERNT: kommunen ser över belysningen.",
        **overrides,
    }


def file_report(organiser: FlaskClient, dialogue_id: int, **overrides: str) -> None:
    """The organiser files the held-dialogue report."""
    response = organiser.post(
        f"/personal/dialoger/{dialogue_id}/rapport", data=report_form(**overrides)
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_only_held_dialogues_appear_as_past_with_their_summary(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    # Given five dialogues: held, not held, no report, cancelled, and upcoming
    ago = clock.now() - timedelta(days=10)
    held = new_dialogue(site.app, title="Hölls i mars", starts_at=ago)
    not_held = new_dialogue(site.app, title="Hölls inte", starts_at=ago)
    missing = new_dialogue(site.app, title="Utan rapport", starts_at=ago)
    new_dialogue(site.app, title="Inställd dialog", starts_at=ago, status=CANCELLED)
    new_dialogue(site.app, title="Kommer snart")
    # When the organiser files reports for the first two
    file_report(organiser, held, summary="SAMMANFATTNING-HÖLLS")
    file_report(organiser, not_held, held="nej", summary="SAMMANFATTNING-HÖLLS-INTE")
    # Then /dialoger lists only the held one as past, and the upcoming one as upcoming
    index = resident.get("/dialoger/").get_data(as_text=True)
    upcoming_part, past_part = index.split("Tidigare dialoger")
    assert "Kommer snart" in upcoming_part
    assert f'href="/dialoger/{held}"' in past_part and "Hölls i mars" in past_part
    for title in ("Hölls inte", "Utan rapport", "Inställd dialog"):
        assert title not in index
    # And the held dialogue's page shows its summary and attendance, never the internal notes
    page = public_page(resident, held)
    assert "SAMMANFATTNING-HÖLLS" in page and "Antal deltagare: 25" in page
    assert "INTERNT" not in page and "Trafik, belysning." not in page
    # And the not-held report is never public
    assert "SAMMANFATTNING-HÖLLS-INTE" not in public_page(resident, not_held)
    # And the organiser's list says which reports are in
    with site.app.app_context():
        assert [d.id for d in questions.ended_without_report(now=clock.now())] == [missing]
    overview = organiser.get("/personal/dialoger/").get_data(as_text=True)
    assert "1 avslutad dialog saknar rapport." in overview


def test_a_report_can_be_corrected(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    dialogue_id = new_dialogue(site.app, starts_at=clock.now() - timedelta(days=3))
    file_report(organiser, dialogue_id, held="nej")
    assert "Tidigare dialoger" in resident.get("/dialoger/").get_data(as_text=True)
    assert f'href="/dialoger/{dialogue_id}"' not in resident.get("/dialoger/").get_data(
        as_text=True
    )
    form = organiser.get(f"/personal/dialoger/{dialogue_id}/rapport").get_data(as_text=True)
    assert re.search(r'value="nej" checked', form)
    file_report(organiser, dialogue_id, held="ja", attendees="40")
    assert f'href="/dialoger/{dialogue_id}"' in resident.get("/dialoger/").get_data(as_text=True)
    assert "Antal deltagare: 40" in public_page(resident, dialogue_id)


@pytest.mark.parametrize(
    ("overrides", "anchor", "message"),
    [
        ({"held": ""}, "held-0", "Välj om dialogen hölls."),
        ({"held": "kanske"}, "held-0", None),
        ({"attendees": ""}, "attendees", "Skriv antal deltagare."),
        ({"attendees": "många"}, "attendees", "Skriv ett tal med siffror, till exempel 2."),
        ({"attendees": "-1"}, "attendees", "Skriv ett tal från 0."),
    ],
)
def test_an_invalid_report_is_explained(
    site: Installation,
    organiser: FlaskClient,
    overrides: dict[str, str],
    anchor: str,
    message: str | None,
) -> None:
    dialogue_id = new_dialogue(site.app, starts_at=clock.now() - timedelta(days=3))
    response = organiser.post(
        f"/personal/dialoger/{dialogue_id}/rapport", data=report_form(**overrides)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    found = errors(page)
    assert len(found) == 1 and (message is None or found == [message])
    # The error summary links to an element that exists
    assert f'<a href="#{anchor}">' in page and f'id="{anchor}"' in page
    with site.app.app_context():
        assert questions.ended_without_report(now=clock.now())


def test_organisers_are_reminded_of_missing_reports(
    site: Installation, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dialogue that ended on Monday evening without a report, and staff of all kinds
    frozen = freeze(monkeypatch, stockholm(2031, 3, 10, 21, 0))
    dialogue_id = new_dialogue(site.app, starts_at=stockholm(2031, 3, 10, 18, 0))
    new_dialogue(site.app, title="Nästa", starts_at=stockholm(2031, 4, 10, 18, 0))
    site.add_user(ORGANISER, "organiser")
    site.add_user("kerstin@example.com", "caseworker", inboxes=("Barn och unga",))
    site.add_user("polis@example.com", "partner")

    def run_at(hour: int, day: int = 11) -> list[str]:
        frozen.set(stockholm(2031, 3, day, hour, 0))
        with site.app.app_context():
            jobs.run_due()
        return sorted(
            str(m["To"])
            for m in deliver(site.app, smtp)
            if subject(m) == "Medborgardialoger saknar rapport"
        )

    # When the jobs run that night, nobody is woken; next morning every organiser and admin is
    assert run_at(6) == []
    assert run_at(8) == ["admin@alvsbyn.invalid", ORGANISER]
    # Then the mail counts the missing reports and links to the organiser's list
    mail = smtp.mailbox.messages[-1]
    text = part(mail, "text/plain")
    assert "1 avslutad medborgardialog saknar rapport." in text
    assert "/personal/dialoger/" in text and "Trafik" not in text
    # And not twice the same day, but again the next working day
    assert run_at(15) == []
    assert run_at(8, day=12) == ["admin@alvsbyn.invalid", ORGANISER]
    # And once the report is filed, nobody is reminded
    organiser = sign_in(site, "ny.organisator@example.com")
    file_report(organiser, dialogue_id)
    assert run_at(8, day=13) == []
    assert queued(site.app, "dialogue_report_missing")


# --- A held report only after the end; no dialogue time in the past (issue 11) -----------------


@pytest.mark.parametrize(
    ("starts_in", "accepted"),
    [
        (timedelta(days=3), False),  # not started
        (-timedelta(hours=1), False),  # under way: two hours long, one to go
        (-timedelta(hours=2), True),  # ended this very minute
        (-timedelta(days=3), True),
    ],
)
def test_a_held_report_is_refused_before_the_dialogue_ends(
    site: Installation, organiser: FlaskClient, starts_in: timedelta, accepted: bool
) -> None:
    # Given a two-hour dialogue starting at some moment relative to now
    dialogue_id = new_dialogue(site.app, starts_at=clock.now() + starts_in)
    # When the organiser opens and sends the report form
    form = organiser.get(f"/personal/dialoger/{dialogue_id}/rapport").get_data(as_text=True)
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/rapport", data=report_form())
    page = response.get_data(as_text=True)
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        stored = dialogue.report
    if accepted:
        assert response.status_code == 302 and stored is not None and stored.held
        return
    # Then before the end the page says when a report can be filed, and a report sent
    # anyway is refused with the answers kept: nothing is stored, nothing counts
    assert 'name="held"' not in form and "Rapporten kan lämnas när dialogen har slutat" in form
    assert response.status_code == 200 and stored is None
    assert len(errors(page)) == 1
    assert errors(page)[0].startswith("Rapporten kan lämnas först när dialogen har slutat")
    assert "Trafik, belysning." in page


def test_the_service_refuses_a_held_report_before_the_end(site: Installation) -> None:
    dialogue_id = new_dialogue(site.app, starts_at=clock.now() + timedelta(hours=1))
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        report = {
            "held": True,
            "attendees": 5,
            "summary": "",
            "themes_raised": "",
            "follow_up_actions": "",
            "by_id": 1,
            "by": "organiser@example.com",
        }
        # Before its end (passed in), refused, and nothing is stored
        with pytest.raises(questions.NotEnded):
            questions.record_held(dialogue, **report, now=dialogue.ends_at - timedelta(seconds=1))
        db.session.rollback()
        assert db.session.get(Dialogue, dialogue_id).report is None  # type: ignore[union-attr]
        # At its end, accepted
        saved = questions.record_held(dialogue, **report, now=dialogue.ends_at)
        assert saved.held and saved.recorded_at == dialogue.ends_at


def _dialogue_form(starts: str, ends: str) -> dict[str, Any]:
    return {
        "title": "Trygghet i centrum",
        "hosts": ["polisen", "kommunen"],
        "themes": ["trygghet"],
        "starts_at": starts,
        "ends_at": ends,
        "format": "in_person",
        "place": "Folkets hus",
        "reminder_hours": "24",
    }


def _local(moment: Any) -> str:
    return str(moment.astimezone(clock.STOCKHOLM).strftime("%Y-%m-%d %H:%M"))


@pytest.mark.parametrize(
    ("starts_in", "refused"),
    [(-timedelta(days=1), True), (-timedelta(minutes=1), True), (timedelta(hours=1), False)],
)
def test_a_new_dialogue_cannot_start_in_the_past(
    site: Installation, organiser: FlaskClient, starts_in: timedelta, refused: bool
) -> None:
    starts = clock.now() + starts_in
    response = organiser.post(
        "/personal/dialoger/ny",
        data=_dialogue_form(_local(starts), _local(starts + timedelta(hours=2))),
    )
    if not refused:
        assert response.status_code == 302
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert errors(page) == ["Tiden har redan varit. Välj en tid som inte har passerat."]
    assert 'value="Folkets hus"' in page  # what was typed stays
    with site.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dialogue)) == 0


def test_a_dialogue_cannot_be_moved_into_the_past(
    site: Installation, organiser: FlaskClient, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a dialogue in two weeks with a registrant
    dialogue_id = new_dialogue(site.app)
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        kept = (dialogue.starts_at, dialogue.ends_at)
    # When the organiser moves it to yesterday
    yesterday = clock.now() - timedelta(days=1)
    form = _dialogue_form(_local(yesterday), _local(yesterday + timedelta(hours=2)))
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/andra", data=form)
    # Then it is refused and the time is unchanged (so no one is mailed a time already gone)
    assert response.status_code == 200
    assert errors(response.get_data(as_text=True)) == [
        "Tiden har redan varit. Välj en tid som inte har passerat."
    ]
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None and (dialogue.starts_at, dialogue.ends_at) == kept
    # And a past dialogue keeps its time when only its text is corrected
    three_days_ago = (clock.now() - timedelta(days=3)).replace(second=0, microsecond=0)
    past_id = new_dialogue(site.app, starts_at=three_days_ago)
    with site.app.app_context():
        past = db.session.get(Dialogue, past_id)
        assert past is not None
        times = (_local(past.starts_at), _local(past.ends_at))
    corrected = organiser.post(
        f"/personal/dialoger/{past_id}/andra",
        data={**_dialogue_form(*times), "title": "Trygghet i centrum (rättad)"},
    )
    assert corrected.status_code == 302
