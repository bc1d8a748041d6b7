"""Erasure (gallring) of personal data after a dialogue, N days after it ended, N from the
gallringsbeslut recorded for each class (intake.gallring): the registrants' details (name,
e-mail, phone, needs and the e-mail tag; the counts stay) and the askers' names and e-mails of
questions (the text, its theme and any published question and answer stay). Without a
decision for a class nothing of it is erased (NoDecision). Each audit row names the decision.

Each erasure has a `..._due` query listing, per dialogue, what a round would erase, and its
`erase_...` function erases exactly what that query returns: a dry run and the real run
cannot disagree. Neither lists any personal data, only the dialogue and a count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from intake import audit, clock, gallring
from intake.dialogues.models import CANCELLED, Dialogue, Question, Registration
from intake.extensions import db

ACTOR = "gallring"


@dataclass(frozen=True)
class Due:
    """One dialogue whose personal data a round erases: what it is and how many, never who."""

    dialogue_id: int
    title: str
    starts_at: datetime
    erase_from: datetime  # the end of the dialogue plus the erasure period
    cancelled: bool
    count: int  # registrations, or questions whose asker's name and e-mail go
    # Questions due but still sealed in one piece (before migration 0008): they wait until a
    # member of Medborgardialog opens them once (questions.reseal_whole).
    waiting: int = 0


def _cutoff(now: datetime, after_days: int) -> datetime:
    return now - timedelta(days=after_days)


def decision_for(information_class: str, *, now: datetime) -> gallring.RetentionDecision:
    """The decision valid today for a class; NoDecision if none is recorded."""
    return gallring.require(information_class, on=clock.local_date(now))


def registrants_due(*, now: datetime, after_days: int) -> list[Due]:
    """Dialogues that ended more than N days ago and still keep their registrants' details,
    with how many registrations each has (what `erase_registrants` would erase)."""
    registrations = (
        sa.select(sa.func.count(Registration.id))
        .where(Registration.dialogue_id == Dialogue.id)
        .correlate(Dialogue)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Dialogue, registrations)
        .where(
            Dialogue.ends_at < _cutoff(now, after_days),
            Dialogue.personal_data_erased_at.is_(None),
        )
        .order_by(Dialogue.id)
    ).all()
    return [_due(dialogue, after_days, count=count) for dialogue, count in rows]


def erase_registrants(*, now: datetime) -> list[Due]:
    """Erase registrants' details N days after a dialogue (N from the decision); counts stay.
    One audit row per dialogue, naming the decision. Commits; returns what was erased. Raises
    NoDecision, erasing nothing, without a decision for dialogue registrations."""
    decision = decision_for(gallring.DIALOGUE_REGISTRATIONS, now=now)
    erased = []
    for item in registrants_due(now=now, after_days=decision.retention_days):
        # Marking the dialogue first, only if still unmarked, takes its lock: a round running
        # at the same time (the worker and the command line) cannot erase and audit it twice.
        marked = db.session.execute(
            sa.update(Dialogue)
            .where(Dialogue.id == item.dialogue_id, Dialogue.personal_data_erased_at.is_(None))
            .values(personal_data_erased_at=now)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        db.session.execute(
            sa.update(Registration)
            .where(Registration.dialogue_id == item.dialogue_id)
            .values(protected=None, email_tag=None)
        )
        audit.record(
            "registrations_erased",
            actor_id=None,
            actor=ACTOR,
            target_type="dialogue",
            target_id=item.dialogue_id,
            decision=decision.describe(),
            decision_id=decision.id,
        )
        erased.append(item)
    db.session.commit()
    if erased:
        gallring.reclaim("registration")
    return erased


def contacts_due(*, now: datetime, after_days: int) -> list[Due]:
    """Dialogues that ended more than N days ago with questions that still keep the asker's
    contact details: how many a round would erase, and how many wait (sealed in one piece)."""
    # A question sealed in one piece has no separate contact part (questions.sealed_whole).
    erasable = sa.func.count(Question.sealed_contact)
    rows = db.session.execute(
        sa.select(Dialogue, erasable, sa.func.count(Question.id) - erasable)
        .join(Question, Question.dialogue_id == Dialogue.id)
        .where(Dialogue.ends_at < _cutoff(now, after_days), Question.contact_erased_at.is_(None))
        .group_by(Dialogue.id)
        .order_by(Dialogue.id)
    ).all()
    return [
        _due(dialogue, after_days, count=count, waiting=waiting)
        for dialogue, count, waiting in rows
    ]


def erase_contacts(*, now: datetime) -> list[Due]:
    """Erase askers' names and e-mails N days after the dialogue (N from the decision); the
    text, theme and any published question and answer stay. One audit row per dialogue, naming
    the decision. Commits; returns, per dialogue, how many were erased and how many wait.
    Raises NoDecision, erasing nothing, without a decision for the askers' contact details."""
    decision = decision_for(gallring.QUESTION_CONTACTS, now=now)
    done = []
    for item in contacts_due(now=now, after_days=decision.retention_days):
        result = db.session.execute(
            sa.update(Question)
            .where(
                Question.dialogue_id == item.dialogue_id,
                Question.contact_erased_at.is_(None),
                Question.sealed_contact.is_not(None),  # sealed whole: the text would go too
            )
            .values(sealed_contact=None, contact_erased_at=now)
        )
        erased: int = result.rowcount  # type: ignore[attr-defined]
        if erased:
            audit.record(
                "question_contacts_erased",
                actor_id=None,
                actor=ACTOR,
                target_type="dialogue",
                target_id=item.dialogue_id,
                questions=erased,
                decision=decision.describe(),
                decision_id=decision.id,
            )
        done.append(replace(item, count=erased))
    db.session.commit()
    if any(item.count for item in done):
        gallring.reclaim("dialogue_question")
    return done


def _due(dialogue: Dialogue, after_days: int, *, count: int, waiting: int = 0) -> Due:
    return Due(
        dialogue_id=dialogue.id,
        title=dialogue.title,
        starts_at=dialogue.starts_at,
        erase_from=dialogue.ends_at + timedelta(days=after_days),
        cancelled=dialogue.status == CANCELLED,
        count=count,
        waiting=waiting,
    )
