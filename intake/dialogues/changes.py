"""A registrant changes their party size or needs through the link in their mails (the same
signed token as the cancel link). A bigger party takes seats only from the seats free now: a
seat held for the waiting list (service module docstring) is not free, so a confirmed party
cannot grow past the people waiting for it. A smaller party frees seats, which go to the
waiting list in order, in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from intake import audit, clock
from intake.crypto import protected
from intake.dialogues import service
from intake.dialogues.models import CONFIRMED, PLANNED, WAITLISTED, Registration
from intake.extensions import db


class ChangeError(Exception):
    """A change that cannot be made; `reason` is "closed", "erased", "cancelled", "too_large"
    or "no_seats" (then `free` says how many seats can be had)."""

    def __init__(self, reason: str, free: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.free = reason, free


def change_registration(
    registration: Registration,
    *,
    party_size: int,
    needs: str,
    keys: Mapping[int, bytes],
    links: service.MailLinks,
) -> list[Registration]:
    """Set a new party size and needs under the dialogue's lock; ChangeError, nothing changed,
    when it cannot be. Audited (the sizes, not the needs). Commits; returns who was promoted."""
    registration_id, dialogue_id = registration.id, registration.dialogue_id
    db.session.rollback()
    dialogue = service.lock_dialogue(dialogue_id)
    found = db.session.get(Registration, registration_id, populate_existing=True)
    assert found is not None
    person = service.person_of(found, keys)
    reason = (
        "cancelled"
        if found.status not in (CONFIRMED, WAITLISTED)
        else "erased"
        if person is None
        else "closed"
        if not (dialogue.status == PLANNED and dialogue.starts_at > clock.now())
        else "too_large"
        if dialogue.capacity is not None and party_size > dialogue.capacity
        else ""
    )
    if not reason and found.status == CONFIRMED and party_size > found.party_size:
        free = service.public_seats(dialogue)
        if free is not None and party_size - found.party_size > free:
            db.session.rollback()
            raise ChangeError("no_seats", free=found.party_size + free)
    if reason:
        db.session.rollback()
        raise ChangeError(reason)
    assert person is not None
    before = found.party_size
    found.party_size = party_size
    found.protected = protected.protect(
        json.dumps(replace(person, needs=needs).__dict__).encode(),
        keys,
        aad=service.registration_aad(found.id),
    )
    promoted = service.promote(dialogue, keys=keys, links=links) if party_size < before else []
    # A smaller waiting party may now fit at the head of the line as well.
    if found.status == WAITLISTED and not promoted:
        promoted = service.promote(dialogue, keys=keys, links=links)
    audit.record(
        "registration_changed",
        actor_id=None,
        actor="registrant",
        target_type="dialogue",
        target_id=dialogue.id,
        registration=found.id,
        party_before=before,
        party_after=party_size,
    )
    db.session.commit()
    return promoted
