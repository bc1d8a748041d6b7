"""Questions in advance (sealed to the Medborgardialog inbox, published only with an answer) and
the held-dialogue report (only held=True counts, organisers are reminded when it is missing)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import clock, jobs
from intake.dialogues import questions
from intake.dialogues.models import CANCELLED, Question
from intake.extensions import db

from ..accounts.back_office import freeze
from ..conftest import SMTPServer
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
    assert "Det finns 1 frågor." in page and "du är inte medlem i den" in page
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
    assert "1 avslutade dialoger saknar rapport." in overview


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
    assert "1 avslutade medborgardialoger saknar rapport." in text
    assert "/personal/dialoger/" in text and "Trafik" not in text
    # And not twice the same day, but again the next working day
    assert run_at(15) == []
    assert run_at(8, day=12) == ["admin@alvsbyn.invalid", ORGANISER]
    # And once the report is filed, nobody is reminded
    organiser = sign_in(site, "ny.organisator@example.com")
    file_report(organiser, dialogue_id)
    assert run_at(8, day=13) == []
    assert queued(site.app, "dialogue_report_missing")
