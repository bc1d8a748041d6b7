"""Check-in at the door. Only a confirmed (seated) registration can be marked as arrived:
someone on the waiting list has no seat, and a cancelled registration is no longer coming.
A cancellation takes the mark away again (`service.cancel`), so the page, the printed list,
the CSV and the count shown for the held report always agree."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from intake.dialogues import service
from intake.dialogues.models import CONFIRMED, WAITLISTED, Registration
from intake.extensions import db


class CheckInError(Exception):
    """A registration that cannot be checked in; `reason` is "waitlisted" or "cancelled"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_in(registration: Registration, *, now: datetime) -> None:
    """Mark a confirmed registration as arrived; CheckInError, with nothing changed, for any
    other. Under the dialogue's lock, so a cancellation cannot slip in between. Commits."""
    registration_id, dialogue_id = registration.id, registration.dialogue_id
    db.session.rollback()  # start clean: the lock below must be the transaction's first act
    service.lock_dialogue(dialogue_id)
    found = db.session.get(Registration, registration_id, populate_existing=True)
    assert found is not None
    if found.status != CONFIRMED:
        db.session.rollback()
        raise CheckInError("waitlisted" if found.status == WAITLISTED else "cancelled")
    if found.checked_in_at is None:
        found.checked_in_at = now
    db.session.commit()


def undo_check_in(registration: Registration) -> None:
    """Take a check-in back (a wrong press at the door); always allowed. Commits."""
    registration.checked_in_at = None
    db.session.commit()


def checked_in_people(dialogue_id: int) -> int:
    """People who arrived: the party sizes of the confirmed registrations checked in."""
    return (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Registration.party_size), 0)).where(
                Registration.dialogue_id == dialogue_id,
                Registration.status == CONFIRMED,
                Registration.checked_in_at.is_not(None),
            )
        )
        or 0
    )
