"""Keyword-default factories for the follow-up tests: activities, dialogues and held reports,
on an installation whose setup loaded the seed promise.

The seed's commitments by position (intake/followup/seed.py):
1 dialogues (both, at least 2 a year, counted from held reports), 2 digital orosanmälan
(municipality, once), 3 drugs around schools (both, ongoing), 4 police dogs (police, at
least 2), 5 drug survey (municipality, once per year), 6 traffic controls (police, at least 10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from intake import clock
from intake.accounts.models import User
from intake.dialogues.models import PLANNED, Dialogue, HeldReport
from intake.extensions import db
from intake.followup import progress
from intake.followup.models import Activity, Commitment, Promise

DIALOGUES, OROSANMALAN, DRUGS, DOGS, SURVEY, TRAFFIC = 1, 2, 3, 4, 5, 6
SEED_ADMIN = "admin@alvsbyn.invalid"


def utc(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def commitment_id(position: int, *, promise_id: int | None = None) -> int:
    """The id of the commitment at a position (of the newest promise unless given)."""
    query = sa.select(Commitment.id).where(Commitment.position == position)
    if promise_id is not None:
        query = query.where(Commitment.promise_id == promise_id)
    found = db.session.scalars(query.order_by(Commitment.promise_id.desc())).first()
    assert found is not None
    return int(found)


def commitment(position: int, *, promise_id: int | None = None) -> Commitment:
    """The commitment at a position (of the newest promise unless given)."""
    found = db.session.get(Commitment, commitment_id(position, promise_id=promise_id))
    assert found is not None
    return found


def seed_promise() -> Promise:
    """The promise setup loaded."""
    found = db.session.scalars(sa.select(Promise).order_by(Promise.id)).first()
    assert found is not None
    return found


def seed_admin() -> User:
    """The admin setup created."""
    found = db.session.scalar(sa.select(User).where(User.email == SEED_ADMIN))
    assert found is not None
    return found


def add_activity(
    position_or_id: int,
    occurred_on: date,
    *,
    count: int = 1,
    place: str = "",
    note: str = "",
    by_id: bool = False,
) -> int:
    """An activity stored directly (no permission or date checks); commits; returns its id."""
    target = position_or_id if by_id else commitment_id(position_or_id)
    activity = Activity(
        commitment_id=target,
        occurred_on=occurred_on,
        count=count,
        place=place,
        note=note,
        recorded_at=clock.now(),
    )
    db.session.add(activity)
    db.session.commit()
    return activity.id


def add_dialogue(
    starts_at: datetime,
    *,
    held: bool | None = True,
    status: str = PLANNED,
    title: str = "Medborgardialog i Älvsbyn",
    hosts: tuple[str, ...] = ("polisen", "kommunen"),
) -> int:
    """A dialogue starting at an aware moment, with a held report unless held is None; hosted
    by both parties unless told (the seed's dialogue commitment counts only those)."""
    moment = clock.now()
    dialogue = Dialogue(
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        status=status,
        hosts=list(hosts),
        created_at=moment,
        updated_at=moment,
    )
    db.session.add(dialogue)
    db.session.flush()
    if held is not None:
        db.session.add(HeldReport(dialogue_id=dialogue.id, held=held, recorded_at=moment))
    db.session.commit()
    return dialogue.id


def ledger(today: date) -> progress.Ledger:
    """A fresh ledger (expire first, so it sees every commit)."""
    db.session.expire_all()
    return progress.Ledger(today=today)


def row(
    today: date, position: int, year: int, *, promise_id: int | None = None
) -> progress.Progress:
    """One commitment's progress in a year."""
    found = ledger(today).progress(commitment(position, promise_id=promise_id), year)
    assert found is not None
    return found
