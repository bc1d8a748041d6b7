"""Recording activities and reasons, and starting a new promise. Who may record what:
partners (the police) for police commitments, municipal staff for the municipality's, both
for shared ones, admins for all. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from intake import audit, clock
from intake.accounts.models import ADMIN, CASEWORKER, ORGANISER, PARTNER, User
from intake.extensions import db
from intake.followup import progress
from intake.followup.models import (
    BOTH,
    COUNTING_RULES,
    FROM_DIALOGUES,
    MUNICIPALITY,
    ONCE,
    POLICE,
    Activity,
    ActivityTotal,
    Commitment,
    MonthOf,
    Promise,
    YearNote,
)

PARTIES_BY_ROLE = {
    ADMIN: {POLICE, MUNICIPALITY, BOTH},
    PARTNER: {POLICE, BOTH},
    ORGANISER: {MUNICIPALITY, BOTH},
    CASEWORKER: {MUNICIPALITY, BOTH},
}


class NotAllowed(Exception):
    """The user may not record for this commitment."""


class OutsidePromise(Exception):
    """The date lies outside the days the commitment's promise was in force."""

    def __init__(self, window: progress.Window) -> None:
        super().__init__(window)
        self.window = window


def accepts_activities(commitment: Commitment) -> bool:
    """Whether activities are recorded by hand (held dialogues count by themselves)."""
    return commitment.source != FROM_DIALOGUES


def _check_date(commitment: Commitment, day: date) -> None:
    # An activity outside its promise's window would be stored but never counted.
    window = progress.windows(list(db.session.scalars(sa.select(Promise))))[commitment.promise_id]
    if day < window.start or (window.end is not None and day > window.end):
        raise OutsidePromise(window)


def may_record(user: User, commitment: Commitment) -> bool:
    """Whether the user may record and edit activities of the commitment."""
    return commitment.party in PARTIES_BY_ROLE.get(user.role, set())


def _check(user: User, commitment: Commitment) -> None:
    if not may_record(user, commitment):
        raise NotAllowed()


@dataclass(frozen=True)
class ActivityInput:
    """What is recorded about an activity."""

    occurred_on: date
    count: int
    place: str
    note: str


def add_activity(commitment: Commitment, data: ActivityInput, *, user: User) -> Activity:
    """Record an activity; commits. NotAllowed for dialogues, OutsidePromise for a date outside
    the promise's window."""
    _check(user, commitment)
    if not accepts_activities(commitment):
        raise NotAllowed()
    _check_date(commitment, data.occurred_on)
    activity = Activity(
        commitment_id=commitment.id,
        occurred_on=data.occurred_on,
        count=data.count,
        place=data.place,
        note=data.note,
        recorded_by_id=user.id,
        recorded_at=clock.now(),
    )
    db.session.add(activity)
    db.session.flush()
    audit.record(
        "activity_added",
        actor_id=user.id,
        actor=user.email,
        target_type="activity",
        target_id=activity.id,
        commitment=commitment.id,
    )
    db.session.commit()
    return activity


def update_activity(activity: Activity, data: ActivityInput, *, user: User) -> None:
    """Change an activity; commits."""
    commitment = db.session.get(Commitment, activity.commitment_id)
    assert commitment is not None
    _check(user, commitment)
    _check_date(commitment, data.occurred_on)
    activity.occurred_on, activity.count = data.occurred_on, data.count
    activity.place, activity.note = data.place, data.note
    audit.record(
        "activity_changed",
        actor_id=user.id,
        actor=user.email,
        target_type="activity",
        target_id=activity.id,
    )
    db.session.commit()


def delete_activity(activity: Activity, *, user: User) -> None:
    """Remove an activity; commits."""
    commitment = db.session.get(Commitment, activity.commitment_id)
    assert commitment is not None
    _check(user, commitment)
    audit.record(
        "activity_deleted",
        actor_id=user.id,
        actor=user.email,
        target_type="activity",
        target_id=activity.id,
        commitment=commitment.id,
    )
    db.session.delete(activity)
    db.session.commit()


def save_note(
    commitment: Commitment, year: int, reason: str, next_planned_on: date | None, *, user: User
) -> None:
    """Why the commitment is behind in a year, and the next planned date; commits."""
    _check(user, commitment)
    note = db.session.scalar(
        sa.select(YearNote).where(YearNote.commitment_id == commitment.id, YearNote.year == year)
    )
    if note is None:
        note = YearNote(commitment_id=commitment.id, year=year)
        db.session.add(note)
    note.reason, note.next_planned_on, note.updated_at = reason, next_planned_on, clock.now()
    audit.record(
        "reason_saved",
        actor_id=user.id,
        actor=user.email,
        target_type="commitment",
        target_id=commitment.id,
        year=year,
    )
    db.session.commit()


def start_new_promise(
    previous: Promise,
    *,
    title: str,
    valid_from: date,
    valid_to: date | None,
    until_replaced: bool,
    signed_on: date | None,
    user: User,
) -> Promise:
    """The next promise, its commitments copied from the previous; the old one closes the day
    before. History stays: old activities keep counting for the old promise's window. Commits."""
    if valid_from <= previous.valid_from:
        raise ValueError("the new promise must start after the previous one")
    promise = Promise(
        title=title,
        municipality=previous.municipality,
        police_area=previous.police_area,
        introduction=previous.introduction,
        valid_from=valid_from,
        valid_to=valid_to,
        until_replaced=until_replaced,
        signed_on=signed_on,
        signatories=list(previous.signatories),
        created_at=clock.now(),
    )
    for old in previous.commitments:
        promise.commitments.append(
            Commitment(
                position=old.position,
                text=old.text,
                area=old.area,
                party=old.party,
                target_type=old.target_type,
                target=old.target,
                counts_what=old.counts_what,
                source=old.source,
                counting_rule=old.counting_rule,
                # A "done once" starts not done; it can point to when it was done before.
                copied_from_id=old.id,
            )
        )
    db.session.add(promise)
    previous.closed_on = min(filter(None, [previous.closed_on, _day_before(valid_from)]))
    db.session.flush()
    audit.record(
        "promise_created",
        actor_id=user.id,
        actor=user.email,
        target_type="promise",
        target_id=promise.id,
        previous=previous.id,
    )
    db.session.commit()
    return promise


class NothingEarlier(Exception):
    """The commitment was not done under an earlier promise."""


def mark_done_earlier(commitment: Commitment, *, user: User, today: date) -> date:
    """Mark a "done once" commitment done by pointing to the day it was last done under the
    earlier promise it was copied from; commits and returns that day. NothingEarlier when
    there is no such day."""
    _check(user, commitment)
    earlier = progress.Ledger(today=today).earlier.get(commitment.id)
    if commitment.target_type != ONCE or earlier is None:
        raise NothingEarlier()
    commitment.done_earlier_on = earlier[0]
    audit.record(
        "commitment_done_earlier",
        actor_id=user.id,
        actor=user.email,
        target_type="commitment",
        target_id=commitment.id,
        done_on=earlier[0].isoformat(),
    )
    db.session.commit()
    return earlier[0]


def set_counting_rule(commitment: Commitment, rule: str, *, user: User) -> None:
    """Which held dialogues a dialogue commitment counts (admins); commits."""
    if user.role != ADMIN or commitment.source != FROM_DIALOGUES or rule not in COUNTING_RULES:
        raise NotAllowed()
    commitment.counting_rule = rule
    audit.record(
        "counting_rule_changed",
        actor_id=user.id,
        actor=user.email,
        target_type="commitment",
        target_id=commitment.id,
        rule=rule,
    )
    db.session.commit()


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def recount_totals() -> None:
    """Rebuild every monthly activity total from the activities; commits. For after a bulk
    statement on `activity`, which the totals' mapper events do not see."""
    month = MonthOf(Activity.occurred_on)
    db.session.execute(sa.delete(ActivityTotal))
    db.session.execute(
        sa.insert(ActivityTotal).from_select(
            ["commitment_id", "month", "total"],
            sa.select(Activity.commitment_id, month, sa.func.sum(Activity.count)).group_by(
                Activity.commitment_id, month
            ),
        )
    )
    db.session.commit()
