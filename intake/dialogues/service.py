"""Dialogue operations: sign-up with capacity and a waiting list, cancellation with promotion
in the same transaction, rescheduling and reminders. Questions and held reports are in
`questions`, erasure after the dialogue in `erasure`.

Seat counting is serialised per dialogue by first bumping the dialogue's `seat_version`: the
UPDATE takes the row lock on PostgreSQL and the write lock on SQLite before anything is
counted, so two sign-ups can never both see the last seat. Seats shown to the public are a
hint; this is the check.

Freed seats (the rule, as in pretix): a seat freed by a cancellation, a smaller party or more
seats is held for the waiting list while anyone is waiting. It goes to the first in line; when
the first party is larger than the seats free (a party of 2, one seat free) nobody behind it
jumps the line and the seat stays held until enough are free — a newcomer joins the waiting
list too, and the public page says the seat is held, not free. Only an organiser can give a
held seat to someone further down the list, by hand (`promote_chosen`). With nobody waiting a
freed seat is free for anyone. The cancellation receipt says which of these happened
(`Freed`). Every promotion, automatic or by hand, goes through `_seat`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake import audit, clock, outbox
from intake.crypto import protected
from intake.dialogues.models import (
    CANCELLED,
    CONFIRMED,
    DRAFT,
    PLANNED,
    WAITLISTED,
    WITHDRAWN,
    Dialogue,
    Registration,
)
from intake.extensions import db

CANCEL_TOKEN_DAYS = 365


class CancelledDialogueError(Exception):
    """A cancelled dialogue keeps its time: its registrants are not told of changes again."""


class HeldDialogueError(Exception):
    """A dialogue that has been held (it has ended) cannot be cancelled any more."""


class SignupError(Exception):
    """A sign-up that cannot be taken; `reason` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Person:
    """What a registrant tells us (protected at rest)."""

    name: str
    email: str
    phone: str = ""
    needs: str = ""


@dataclass(frozen=True)
class SignupResult:
    """The outcome of a sign-up."""

    registration: Registration
    position: int | None  # place in the waiting list, None when confirmed


def registration_aad(registration_id: int) -> bytes:
    """What a registration's protected details are bound to."""
    return f"intake:registration:v1:{registration_id}".encode()


def email_tag(email: str, *, secret: bytes) -> str:
    """A keyed hash of a normalised e-mail, for the one-per-dialogue constraint."""
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def person_of(registration: Registration, keys: Mapping[int, bytes]) -> Person | None:
    """The registrant's details, or None once erased."""
    if registration.protected is None:
        return None
    data = json.loads(
        protected.unprotect(registration.protected, keys, aad=registration_aad(registration.id))
    )
    return Person(**data)


def lock_dialogue(dialogue_id: int) -> Dialogue:
    """Serialise seat counting for this dialogue (see the module docstring); a fresh copy."""
    db.session.execute(
        sa.update(Dialogue)
        .where(Dialogue.id == dialogue_id)
        .values(seat_version=Dialogue.seat_version + 1)
    )
    dialogue = db.session.get(Dialogue, dialogue_id, populate_existing=True)
    assert dialogue is not None
    return dialogue


def seats_taken(dialogue_id: int) -> int:
    """People confirmed for a dialogue."""
    return (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Registration.party_size), 0)).where(
                Registration.dialogue_id == dialogue_id, Registration.status == CONFIRMED
            )
        )
        or 0
    )


def seats_left(dialogue: Dialogue) -> int | None:
    """Free seats (a hint for the public page); None when there is no limit."""
    if dialogue.capacity is None:
        return None
    return max(dialogue.capacity - seats_taken(dialogue.id), 0)


def public_seats(dialogue: Dialogue) -> int | None:
    """Seats a newcomer can take now (None: no limit): none while anyone is waiting, since
    freed seats are held for the waiting list (module docstring)."""
    free = seats_left(dialogue)
    if free is None or free == 0:
        return free
    return 0 if anyone_waiting(dialogue.id) else free


def held(dialogue: Dialogue, *, now: datetime) -> bool:
    """Published, not cancelled, and over: the dialogue has been held."""
    return dialogue.status == PLANNED and dialogue.ends_at <= now


def public(dialogue: Dialogue) -> bool:
    """Whether residents may see it: every dialogue but a draft."""
    return dialogue.status != DRAFT


def _waiting_batches(dialogue_id: int, size: int = 50) -> Iterator[Registration]:
    """The waiting list in order, read a page at a time (keyset): promotion stops at the first
    party that does not fit, so it must not load the whole list to seat one person."""
    after: tuple[datetime, int] | None = None
    while True:
        query = _waiting_query(dialogue_id).limit(size)
        if after is not None:
            query = query.where(
                sa.or_(
                    Registration.created_at > after[0],
                    sa.and_(Registration.created_at == after[0], Registration.id > after[1]),
                )
            )
        page = list(db.session.scalars(query))
        yield from page
        if len(page) < size:
            return
        after = (page[-1].created_at, page[-1].id)


def _waiting_query(dialogue_id: int) -> sa.Select[Registration]:
    return (
        sa.select(Registration)
        .where(Registration.dialogue_id == dialogue_id, Registration.status == WAITLISTED)
        .order_by(Registration.created_at, Registration.id)
    )


def anyone_waiting(dialogue_id: int) -> bool:
    """Whether the dialogue has a waiting list: one indexed probe, whatever its length."""
    return (
        db.session.scalar(
            sa.select(Registration.id)
            .where(Registration.dialogue_id == dialogue_id, Registration.status == WAITLISTED)
            .limit(1)
        )
        is not None
    )


def waitlist_position(registration: Registration) -> int | None:
    """1-based place in the waiting list: one COUNT on the (dialogue, status, created_at, id)
    index instead of loading the list."""
    if registration.status != WAITLISTED:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.dialogue_id == registration.dialogue_id,
            Registration.status == WAITLISTED,
            sa.or_(
                Registration.created_at < registration.created_at,
                sa.and_(
                    Registration.created_at == registration.created_at,
                    Registration.id < registration.id,
                ),
            ),
        )
    )
    return (ahead or 0) + 1


def signup_open(dialogue: Dialogue, *, now: datetime) -> bool:
    """Whether sign-up is open now."""
    return (
        dialogue.status == PLANNED
        and dialogue.starts_at > now
        and (dialogue.signup_opens_at is None or dialogue.signup_opens_at <= now)
        and (dialogue.signup_closes_at is None or now < dialogue.signup_closes_at)
    )


def register(
    dialogue: Dialogue,
    person: Person,
    *,
    party_size: int,
    locale: str,
    keys: Mapping[int, bytes],
    tag_secret: bytes,
    links: MailLinks,
) -> SignupResult:
    """Sign up: confirmed while seats last, else the waiting list. One transaction; commits."""
    dialogue_id = dialogue.id
    db.session.rollback()  # start clean: the lock below must be the transaction's first act
    dialogue = lock_dialogue(dialogue_id)
    now = clock.now()
    if not signup_open(dialogue, now=now):
        db.session.rollback()
        raise SignupError("closed")
    if dialogue.capacity is not None and party_size > dialogue.capacity:
        # It could never be seated, and would hold up everyone queueing behind it.
        db.session.rollback()
        raise SignupError("too_large")
    tag = email_tag(person.email, secret=tag_secret)
    fits = dialogue.capacity is None or (
        not anyone_waiting(dialogue.id)
        and seats_taken(dialogue.id) + party_size <= dialogue.capacity
    )
    existing = db.session.scalar(
        sa.select(Registration).where(
            Registration.dialogue_id == dialogue.id, Registration.email_tag == tag
        )
    )
    if existing is not None:
        # The page answers as for a new address (nobody learns who is signed up); the mail,
        # which only the address's owner reads, tells the truth (issue 10 §5).
        _mail(
            existing,
            person,
            "dialogue_already_registered",
            dialogue,
            links,
            position=waitlist_position(existing),
        )
        db.session.commit()
        # The place a new address would get: behind everyone waiting (one indexed COUNT).
        waiting = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registration)
            .where(Registration.dialogue_id == dialogue.id, Registration.status == WAITLISTED)
        )
        return SignupResult(registration=existing, position=None if fits else (waiting or 0) + 1)
    registration = Registration(
        dialogue_id=dialogue.id,
        email_tag=tag,
        party_size=party_size,
        status=CONFIRMED if fits else WAITLISTED,
        locale=locale,
        created_at=now,
    )
    db.session.add(registration)
    db.session.flush()
    registration.protected = protected.protect(
        json.dumps(person.__dict__).encode(), keys, aad=registration_aad(registration.id)
    )
    position = None if fits else waitlist_position(registration)
    if fits:
        _mail(registration, person, "dialogue_confirmed", dialogue, links, with_ics=True)
    else:
        _mail(registration, person, "dialogue_waitlisted", dialogue, links, position=position)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same e-mail in a race: still one registration
        db.session.rollback()
        return register(
            dialogue,
            person,
            party_size=party_size,
            locale=locale,
            keys=keys,
            tag_secret=tag_secret,
            links=links,
        )
    return SignupResult(registration=registration, position=position)


@dataclass(frozen=True)
class MailLinks:
    """How mails link back: the base URL and a signer for self-service cancel tokens."""

    base_url: str
    secret_key: str

    def serializer(self) -> URLSafeTimedSerializer:
        """The token signer."""
        return URLSafeTimedSerializer(self.secret_key, salt="intake-dialogue-cancel")

    def cancel_url(self, registration: Registration) -> str:
        """A signed, expiring self-service link."""
        token = self.serializer().dumps(registration.id)
        return f"{self.base_url}/dialoger/avboka/{token}"

    def change_url(self, registration: Registration) -> str:
        """The same signed token, for changing the party size or needs."""
        token = self.serializer().dumps(registration.id)
        return f"{self.base_url}/dialoger/andra-anmalan/{token}"

    def registration_id(self, token: str) -> int | None:
        """The registration a token names, or None if forged or expired."""
        try:
            value = self.serializer().loads(token, max_age=CANCEL_TOKEN_DAYS * 86400)
        except BadSignature:
            return None
        return value if isinstance(value, int) else None


def _mail(
    registration: Registration,
    person: Person,
    template: str,
    dialogue: Dialogue,
    links: MailLinks,
    *,
    with_ics: bool = False,
    position: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    context: dict[str, Any] = {
        "title": dialogue.title,
        "starts_at": dialogue.starts_at.isoformat(),
        "ends_at": dialogue.ends_at.isoformat(),
        "place": dialogue.place,
        "address": dialogue.address,
        "format": dialogue.format,
        "dialogue_url": f"{links.base_url}/dialoger/{dialogue.id}",
        "cancel_url": links.cancel_url(registration),
        "change_url": links.change_url(registration),
        "party_size": registration.party_size,
    }
    if registration.status == CONFIRMED and dialogue.meeting_link:
        context["meeting_link"] = dialogue.meeting_link
    if position is not None:
        context["position"] = position
    if with_ics:
        context["attachments"] = ["ics"]
        context["dialogue_id"] = dialogue.id
        context["uid"] = f"dialogue-{dialogue.id}-registration-{registration.id}"
    context.update(extra or {})
    if not person.email:  # a walk-in left no address
        return
    outbox.enqueue(template, person.email, context, locale=registration.locale)


def _seat(
    waiting: Registration, dialogue: Dialogue, *, keys: Mapping[int, bytes], links: MailLinks
) -> None:
    """The one place a waiting registration gets its seat (automatic or by hand) and is told."""
    waiting.status, waiting.promoted_at = CONFIRMED, clock.now()
    person = person_of(waiting, keys)
    if person is not None:
        _mail(waiting, person, "dialogue_promoted", dialogue, links, with_ics=True)


def promote(
    dialogue: Dialogue, *, keys: Mapping[int, bytes], links: MailLinks
) -> list[Registration]:
    """Move people from the waiting list while their party fits (in the caller's lock)."""
    promoted = []
    taken = seats_taken(dialogue.id)
    for waiting in _waiting_batches(dialogue.id):
        if dialogue.capacity is not None and taken + waiting.party_size > dialogue.capacity:
            break  # first come, first served: nobody jumps the queue
        _seat(waiting, dialogue, keys=keys, links=links)
        taken += waiting.party_size
        promoted.append(waiting)
    return promoted


class NotWaitingError(Exception):
    """The registration chosen is no longer on the waiting list."""


class OverCapacityError(Exception):
    """Not enough free seats; `free` says how many there are."""

    def __init__(self, free: int) -> None:
        super().__init__(free)
        self.free = free


def promote_chosen(
    registration: Registration,
    *,
    over_capacity: bool,
    keys: Mapping[int, bytes],
    links: MailLinks,
    by_id: int,
    by: str,
) -> None:
    """The organiser gives a seat to one waiting registration of their choice (through `_seat`,
    like every promotion). Beyond the free seats only with `over_capacity` (OverCapacityError,
    nothing changed, otherwise); NotWaitingError if it is no longer waiting. Commits."""
    dialogue_id, registration_id = registration.dialogue_id, registration.id
    db.session.rollback()
    dialogue = lock_dialogue(dialogue_id)
    found = db.session.get(Registration, registration_id, populate_existing=True)
    assert found is not None
    if found.status != WAITLISTED:
        db.session.rollback()
        raise NotWaitingError(registration_id)
    free = seats_left(dialogue)
    if free is not None and found.party_size > free and not over_capacity:
        db.session.rollback()
        raise OverCapacityError(free)
    _seat(found, dialogue, keys=keys, links=links)
    audit.record(
        "registration_promoted",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
        registration=found.id,
        over_capacity=free is not None and found.party_size > free,
    )
    db.session.commit()


def refill(
    dialogue: Dialogue, *, keys: Mapping[int, bytes], links: MailLinks
) -> list[Registration]:
    """After an edit (more seats, or no limit): free seats go to the waiting list first, in
    order, under the dialogue's lock; in the caller's transaction."""
    db.session.execute(
        sa.update(Dialogue)
        .where(Dialogue.id == dialogue.id)
        .values(seat_version=Dialogue.seat_version + 1)
    )
    return promote(dialogue, keys=keys, links=links) if _fillable(dialogue) else []


def _fillable(dialogue: Dialogue) -> bool:
    """Whether a freed seat should go to the waiting list: not once it is off or under way."""
    return dialogue.status == PLANNED and dialogue.starts_at > clock.now()


# What became of the seats a cancellation freed (the receipt and the page say which):
ALREADY = "already"  # the registration was cancelled before; nothing happened
LEFT_WAITLIST = "left_waitlist"  # it was waiting: no seat was freed
PASSED_ON = "passed_on"  # the seats went to the next on the waiting list
HELD = "held"  # held for the waiting list, whose first party needs more seats
OPEN = "open"  # nobody waiting: anyone can sign up for them
NOT_REFILLED = "not_refilled"  # the dialogue is off or under way: nobody gets them


@dataclass(frozen=True)
class Cancellation:
    """The outcome of a cancellation: who was promoted and what became of the freed seats."""

    promoted: list[Registration]
    freed: str


def _freed(was: str, dialogue: Dialogue, promoted: list[Registration]) -> str:
    if was == WAITLISTED:
        return LEFT_WAITLIST
    if not _fillable(dialogue):
        return NOT_REFILLED
    if anyone_waiting(dialogue.id):
        return HELD if not promoted else PASSED_ON
    return PASSED_ON if promoted else OPEN


def cancel(
    registration: Registration, *, keys: Mapping[int, bytes], links: MailLinks
) -> Cancellation:
    """Cancel a registration, promote the next in line in the same transaction, and send a
    receipt that says what became of the seat; commits."""
    dialogue_id, registration_id = registration.dialogue_id, registration.id
    db.session.rollback()
    dialogue = lock_dialogue(dialogue_id)
    found = db.session.get(Registration, registration_id, populate_existing=True)
    assert found is not None
    registration = found
    if registration.status == WITHDRAWN:
        db.session.rollback()
        return Cancellation(promoted=[], freed=ALREADY)
    was = registration.status
    registration.status, registration.cancelled_at = WITHDRAWN, clock.now()
    # Only a confirmed registration carries a check-in (intake.dialogues.attendance).
    registration.checked_in_at = None
    promoted = promote(dialogue, keys=keys, links=links) if _fillable(dialogue) else []
    freed = _freed(was, dialogue, promoted)
    person = person_of(registration, keys)
    if person is not None:
        _mail(
            registration,
            person,
            "dialogue_cancelled_receipt",
            dialogue,
            links,
            extra={"freed": freed, "change_url": ""},
        )
    db.session.commit()
    return Cancellation(promoted=promoted, freed=freed)


def notify_all(
    dialogue: Dialogue, template: str, *, keys: Mapping[int, bytes], links: MailLinks
) -> int:
    """Tell every active registrant (time changed, or cancelled); in the caller's transaction."""
    count = 0
    for registration in db.session.scalars(
        sa.select(Registration).where(
            Registration.dialogue_id == dialogue.id,
            Registration.status.in_([CONFIRMED, WAITLISTED]),
        )
    ):
        person = person_of(registration, keys)
        if person is not None:
            _mail(
                registration,
                person,
                template,
                dialogue,
                links,
                with_ics=template == "dialogue_changed" and registration.status == CONFIRMED,
            )
            count += 1
    return count


def reschedule(
    dialogue: Dialogue,
    starts_at: datetime,
    ends_at: datetime,
    *,
    keys: Mapping[int, bytes],
    links: MailLinks,
) -> None:
    """A new time: reminders are planned again and everyone is told (caller commits).

    A cancelled dialogue is refused (CancelledDialogueError, nothing changed): its registrants
    were told it is off, and a "new time" mail would say the opposite.
    """
    if dialogue.status == CANCELLED:
        raise CancelledDialogueError(dialogue.id)
    dialogue.starts_at, dialogue.ends_at = starts_at, ends_at
    db.session.execute(
        sa.update(Registration)
        .where(Registration.dialogue_id == dialogue.id)
        .values(reminded_at=None)
    )
    notify_all(dialogue, "dialogue_changed", keys=keys, links=links)


def cancel_dialogue(
    dialogue: Dialogue, *, keys: Mapping[int, bytes], links: MailLinks, by_id: int, by: str
) -> None:
    """The organiser cancels the dialogue: everyone is told; commits. HeldDialogueError
    (nothing changed) once it has been held: what happened cannot be called off."""
    if held(dialogue, now=clock.now()):
        raise HeldDialogueError(dialogue.id)
    dialogue.status = CANCELLED
    dialogue.updated_at = clock.now()
    notify_all(dialogue, "dialogue_cancelled", keys=keys, links=links)
    audit.record(
        "dialogue_cancelled",
        actor_id=by_id,
        actor=by,
        target_type="dialogue",
        target_id=dialogue.id,
    )
    db.session.commit()


def send_reminders(*, now: datetime, keys: Mapping[int, bytes], links: MailLinks) -> int:
    """Reminders N hours before, once, never to cancelled registrations; commits."""
    sent = 0
    upcoming = db.session.scalars(
        sa.select(Dialogue).where(
            Dialogue.status == PLANNED,
            Dialogue.starts_at > now,
            Dialogue.starts_at <= now + timedelta(days=30),
        )
    )
    for dialogue in upcoming:
        if now < dialogue.starts_at - timedelta(hours=dialogue.reminder_hours):
            continue
        for registration in db.session.scalars(
            sa.select(Registration).where(
                Registration.dialogue_id == dialogue.id,
                Registration.status == CONFIRMED,
                Registration.reminded_at.is_(None),
            )
        ):
            person = person_of(registration, keys)
            if person is not None:
                _mail(registration, person, "dialogue_reminder", dialogue, links)
                registration.reminded_at = now
                sent += 1
    db.session.commit()
    return sent
