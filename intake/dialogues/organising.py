"""What an organiser does around a dialogue besides editing it: publish a draft, add a walk-in
at the door, and send a message to the registrants. Manual promotion from the waiting list is
`service.promote_chosen` (the same chokepoint as automatic promotion); answers to askers are
in `questions.answer_asker`.

A message to many registrants is one outbox row per recipient, each addressed from the
registration's protected details (as every registrant mail): there is no list of addresses
anywhere else. The audit row counts the recipients and never holds the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from intake import audit, clock, outbox
from intake.crypto import protected
from intake.dialogues import service
from intake.dialogues.models import CONFIRMED, DRAFT, PLANNED, WAITLISTED, Dialogue, Registration
from intake.extensions import db

# Who a message goes to: the confirmed, the waiting, or both.
AUDIENCES = {
    "confirmed": (CONFIRMED,),
    "waiting": (WAITLISTED,),
    "all": (CONFIRMED, WAITLISTED),
}


class NotDraftError(Exception):
    """Only a draft can be published."""


class NotOpenError(Exception):
    """The dialogue is a draft or cancelled: nobody can come to it."""


def publish(dialogue: Dialogue, *, by_id: int, by: str) -> None:
    """Make a draft public (its page, sign-up and questions open as set); commits."""
    if dialogue.status != DRAFT:
        raise NotDraftError(dialogue.id)
    now = clock.now()
    dialogue.status, dialogue.published_at, dialogue.updated_at = PLANNED, now, now
    audit.record(
        "dialogue_published",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
    )
    db.session.commit()


@dataclass(frozen=True)
class WalkIn:
    """Someone who came to the door without signing up."""

    name: str
    party_size: int


def add_walk_in(
    dialogue: Dialogue,
    walk_in: WalkIn,
    *,
    over_capacity: bool,
    keys: Mapping[int, bytes],
    by_id: int,
    by: str,
) -> Registration:
    """Add a walk-in, confirmed and checked in at once. Under the dialogue's lock; beyond the
    free seats only with `over_capacity` (service.OverCapacityError otherwise, nothing saved).
    Commits."""
    dialogue_id = dialogue.id
    db.session.rollback()
    dialogue = service.lock_dialogue(dialogue_id)
    if dialogue.status != PLANNED:
        db.session.rollback()
        raise NotOpenError(dialogue_id)
    free = service.seats_left(dialogue)
    beyond = free is not None and walk_in.party_size > free
    if beyond and not over_capacity:
        db.session.rollback()
        raise service.OverCapacityError(free or 0)
    now = clock.now()
    registration = Registration(
        dialogue_id=dialogue.id,
        email_tag=None,
        party_size=walk_in.party_size,
        status=CONFIRMED,
        locale="sv",
        created_at=now,
        checked_in_at=now,
        walk_in=True,
    )
    db.session.add(registration)
    db.session.flush()
    if walk_in.name:
        person = service.Person(name=walk_in.name, email="")
        registration.protected = protected.protect(
            json.dumps(person.__dict__).encode(),
            keys,
            aad=service.registration_aad(registration.id),
        )
    audit.record(
        "walk_in_added",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
        registration=registration.id,
        party_size=walk_in.party_size,
        over_capacity=beyond,
    )
    db.session.commit()
    return registration


def recipients(dialogue: Dialogue, audience: str) -> list[Registration]:
    """The registrations a message to `audience` reaches: those with an address left."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.dialogue_id == dialogue.id,
                Registration.status.in_(AUDIENCES[audience]),
                Registration.walk_in.is_(False),
                Registration.protected.is_not(None),
            )
            .order_by(Registration.created_at, Registration.id)
        )
    )


def send_message(
    dialogue: Dialogue,
    *,
    audience: str,
    subject: str,
    body: str,
    keys: Mapping[int, bytes],
    links: service.MailLinks,
    by_id: int,
    by: str,
) -> int:
    """Queue one mail per registrant in `audience` (plain text; the outbox makes the subject
    one header line); audit the count, not the text. Commits; returns the count."""
    count = 0
    for registration in recipients(dialogue, audience):
        person = service.person_of(registration, keys)
        if person is None or not person.email:
            continue
        outbox.enqueue(
            "dialogue_message",
            person.email,
            {
                "title": dialogue.title,
                "subject": subject,
                "body": body,
                "dialogue_url": f"{links.base_url}/dialoger/{dialogue.id}",
                "cancel_url": links.cancel_url(registration),
            },
            locale=registration.locale,
        )
        count += 1
    audit.record(
        "registrants_messaged",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
        audience=audience,
        recipients=count,
    )
    db.session.commit()
    return count
