"""Questions sent before a dialogue (sealed to the Medborgardialog inbox) and the report
an organiser files afterwards (only held=True counts toward the promise)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import sqlalchemy as sa

from intake import audit, clock
from intake.crypto import sealing
from intake.dialogues.models import PLANNED, Dialogue, HeldReport, Question
from intake.dialogues.service import SignupError
from intake.extensions import db
from intake.reports.models import Inbox

QUESTION_INBOX = "medborgardialog"


def question_context(question_id: str, dialogue_id: int, inbox_id: int) -> bytes:
    """What a sealed question is bound to."""
    return f"intake:dialogue-question:v1:{question_id}:{dialogue_id}:inbox:{inbox_id}".encode()


def submit_question(
    dialogue: Dialogue, *, text: str, theme: str, name: str, email: str
) -> Question:
    """A resident's question, sealed to the Medborgardialog inbox; commits."""
    inbox = db.session.scalar(sa.select(Inbox).where(Inbox.slug == QUESTION_INBOX))
    if inbox is None:
        raise SignupError("no_inbox")
    question = Question(
        id=str(uuid.uuid4()),
        dialogue_id=dialogue.id,
        inbox_id=inbox.id,
        theme=theme,
        received_at=clock.now().replace(second=0, microsecond=0),
    )
    plaintext = json.dumps(
        {"text": text, "name": name, "email": email}, ensure_ascii=False
    ).encode()
    question.sealed = sealing.seal(
        plaintext, inbox.public_key, context=question_context(question.id, dialogue.id, inbox.id)
    )
    db.session.add(question)
    db.session.commit()
    return question


def open_question(question: Question, private_key: bytes) -> dict[str, str]:
    """A question's text and contact, for a member of the Medborgardialog inbox."""
    plaintext = sealing.open_sealed(
        question.sealed,
        private_key,
        context=question_context(question.id, question.dialogue_id, question.inbox_id),
    )
    data: dict[str, str] = json.loads(plaintext)
    return data


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
) -> HeldReport:
    """The held-dialogue report (created or replaced); commits."""
    report = dialogue.report or HeldReport(dialogue_id=dialogue.id)
    report.held, report.attendees, report.summary = held, attendees, summary
    report.themes_raised, report.follow_up_actions = themes_raised, follow_up_actions
    report.recorded_by_id, report.recorded_at = by_id, clock.now()
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
