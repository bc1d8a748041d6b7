"""Questions sent before a dialogue (sealed to the Medborgardialog inbox) and the report
an organiser files afterwards (only held=True counts toward the promise).

A question's text and its asker's name and e-mail are sealed apart. The contact details are
only there so that the organisers can answer, so they are erased on the registrations'
schedule (the gallringsbeslut after the dialogue, `intake.dialogues.erasure`); the text, its
theme and any published question and answer stay. The service cannot open sealed data, so
questions sent before the split (migration 0008) are sealed again in two parts the first time
a member of the inbox opens the questions page (`reseal_whole`); until then their erasure
waits, and says so.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import sqlalchemy as sa

from intake import audit, clock, outbox
from intake.crypto import sealing
from intake.dialogues.models import DRAFT, PLANNED, Dialogue, HeldReport, Question
from intake.dialogues.service import SignupError
from intake.extensions import db
from intake.reports.models import Inbox

QUESTION_INBOX = "medborgardialog"


def question_context(question_id: str, dialogue_id: int, inbox_id: int) -> bytes:
    """What a sealed question is bound to."""
    return f"intake:dialogue-question:v1:{question_id}:{dialogue_id}:inbox:{inbox_id}".encode()


def contact_context(question_id: str, dialogue_id: int, inbox_id: int) -> bytes:
    """What the asker's sealed contact details are bound to."""
    return f"intake:dialogue-contact:v1:{question_id}:{dialogue_id}:inbox:{inbox_id}".encode()


def _seal(question: Question, public_key: bytes, *, text: str, name: str, email: str) -> None:
    """Seal the text and the contact details apart. The text keeps the shape and binding it
    always had, with the contact fields blank, so code from before 0008 can still read it."""
    ids = (question.id, question.dialogue_id, question.inbox_id)
    text_part = {"text": text, "name": "", "email": ""}
    contact = {"name": name, "email": email}
    question.sealed = sealing.seal(
        json.dumps(text_part, ensure_ascii=False).encode(),
        public_key,
        context=question_context(*ids),
    )
    question.sealed_contact = sealing.seal(
        json.dumps(contact, ensure_ascii=False).encode(), public_key, context=contact_context(*ids)
    )


def sealed_whole(question: Question) -> bool:
    """Whether a question is still sealed in one piece (sent before migration 0008)."""
    return question.sealed_contact is None and question.contact_erased_at is None


def _question_inbox() -> Inbox:
    inbox: Inbox | None = db.session.scalar(sa.select(Inbox).where(Inbox.slug == QUESTION_INBOX))
    if inbox is None:
        raise SignupError("no_inbox")
    return inbox


def submit_question(
    dialogue: Dialogue, *, text: str, theme: str, name: str, email: str
) -> Question:
    """A resident's question, sealed to the Medborgardialog inbox; commits."""
    inbox = _question_inbox()
    question = Question(
        id=str(uuid.uuid4()),
        dialogue_id=dialogue.id,
        inbox_id=inbox.id,
        theme=theme,
        received_at=clock.now().replace(second=0, microsecond=0),
    )
    _seal(question, inbox.public_key, text=text, name=name, email=email)
    db.session.add(question)
    db.session.commit()
    return question


def open_question(question: Question, private_key: bytes) -> dict[str, str]:
    """A question's text, name and e-mail (both "" once erased), for a member of the
    Medborgardialog inbox."""
    ids = (question.id, question.dialogue_id, question.inbox_id)
    data: dict[str, str] = json.loads(
        sealing.open_sealed(question.sealed, private_key, context=question_context(*ids))
    )
    if question.sealed_contact is not None:
        data.update(
            json.loads(
                sealing.open_sealed(
                    question.sealed_contact, private_key, context=contact_context(*ids)
                )
            )
        )
    return {key: data.get(key, "") for key in ("text", "name", "email")}


def reseal_whole(private_key: bytes, *, by_id: int, by: str) -> int:
    """Seal every question still sealed in one piece again as text and contact apart, so that
    its contact details can be erased; by a member whose key is unlocked. In the caller's
    transaction; returns how many."""
    inbox = _question_inbox()
    whole = list(
        db.session.scalars(
            sa.select(Question).where(
                Question.inbox_id == inbox.id,
                Question.sealed_contact.is_(None),
                Question.contact_erased_at.is_(None),
            )
        )
    )
    for question in whole:
        _seal(question, inbox.public_key, **open_question(question, private_key))
    if whole:
        audit.record(
            "questions_resealed",
            actor_id=by_id,
            actor=by,
            target_type="inbox",
            target_id=inbox.id,
            questions=len(whole),
        )
    return len(whole)


class NotEnded(Exception):
    """A held report for a dialogue that has not ended yet."""

    def __init__(self, ends_at: datetime) -> None:
        super().__init__(ends_at)
        self.ends_at = ends_at


def report_open(dialogue: Dialogue, *, now: datetime) -> bool:
    """Whether the dialogue has ended, so that what happened there can be reported."""
    return now >= dialogue.ends_at


def record_held(
    dialogue: Dialogue,
    *,
    held: bool,
    attendees: int,
    summary: str,
    themes_raised: str,
    follow_up_actions: str,
    by_id: int,
    by: str,
    now: datetime | None = None,
) -> HeldReport:
    """The held-dialogue report (created or replaced); commits. NotEnded (nothing saved)
    before the dialogue's end: a dialogue that has not been held cannot count as held."""
    now = now or clock.now()
    if dialogue.status == DRAFT:  # never published: it cannot have been held
        raise NotEnded(dialogue.ends_at)
    if not report_open(dialogue, now=now):
        raise NotEnded(dialogue.ends_at)
    report = dialogue.report or HeldReport(dialogue_id=dialogue.id)
    report.held, report.attendees, report.summary = held, attendees, summary
    report.themes_raised, report.follow_up_actions = themes_raised, follow_up_actions
    report.recorded_by_id, report.recorded_at = by_id, now
    db.session.add(report)
    audit.record(
        "dialogue_report_recorded",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
        held=held,
    )
    db.session.commit()
    return report


def ended_without_report(*, now: datetime) -> list[Dialogue]:
    """Dialogues that have ended (not cancelled) and still lack a held report."""
    return list(
        db.session.scalars(
            sa.select(Dialogue)
            .outerjoin(HeldReport, HeldReport.dialogue_id == Dialogue.id)
            .where(Dialogue.status == PLANNED, Dialogue.ends_at < now, HeldReport.id.is_(None))
            .order_by(Dialogue.starts_at)
        )
    )


class NoAddress(Exception):
    """The asker left no e-mail address (or it has been erased): there is nobody to answer."""


def answer_asker(
    question: Question,
    private_key: bytes,
    *,
    answer: str,
    dialogue_url: str,
    by_id: int,
    by: str,
) -> None:
    """Mail an answer to the asker through the outbox, by a member of the inbox (whose key
    opens the asker's sealed address). The mail carries the answer, never the sealed question.
    NoAddress when there is none. Audited without the text; commits."""
    email = open_question(question, private_key)["email"]
    if not email or question.contact_erased_at is not None:
        raise NoAddress(question.id)
    dialogue = db.session.get(Dialogue, question.dialogue_id)
    assert dialogue is not None
    outbox.enqueue(
        "dialogue_answer",
        email,
        {"title": dialogue.title, "answer": answer, "dialogue_url": dialogue_url},
    )
    question.answered_at = clock.now()
    audit.record(
        "question_answered",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
        question=question.id,
    )
    db.session.commit()
