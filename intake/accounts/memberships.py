"""Memberships: a staff member's share of an inbox, its secret sealed to their public key.

Granting seals the inbox secret to the member; unlocking opens it with the private key the
member's session holds; revoking deletes the sealed copy. Audited; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from intake import audit, clock
from intake.accounts.models import Membership, User
from intake.crypto import CryptoError, custody
from intake.extensions import db
from intake.reports.models import Inbox


class AccessError(Exception):
    """The user cannot unlock this inbox."""


def inbox_secret(user: User, private_key: bytes, inbox_id: int) -> custody.InboxSecret:
    """Unlock an inbox with the user's membership; AccessError if not a member."""
    sealed = db.session.scalar(
        sa.select(Membership.sealed_secret).where(
            Membership.user_id == user.id, Membership.inbox_id == inbox_id
        )
    )
    if sealed is None:
        raise AccessError()
    return open_membership(user, private_key, inbox_id, sealed)


def open_membership(
    user: User, private_key: bytes, inbox_id: int, sealed: bytes
) -> custody.InboxSecret:
    """Unlock an inbox with the user's sealed membership secret; AccessError if it won't open."""
    try:
        return custody.open_membership(sealed, private_key, inbox_id=inbox_id, user_id=user.id)
    except CryptoError as error:
        raise AccessError() from error


@dataclass(frozen=True)
class MyInbox:
    """One of the user's inboxes as read for a request: its id and sealed secret as plain values
    (they outlive a commit), and the inbox itself for the page."""

    inbox_id: int
    sealed_secret: bytes
    inbox: Inbox


def my_inboxes(user: User) -> list[MyInbox]:
    """The user's inboxes by name, each with the secret sealed to the user: one statement for
    what a staff page asks of memberships (the list, the navigation, the key of a report)."""
    rows = db.session.execute(
        sa.select(Inbox, Membership.sealed_secret)
        .join(Membership, Membership.inbox_id == Inbox.id)
        .where(Membership.user_id == user.id)
        .order_by(Inbox.name, Inbox.id)
    )
    return [MyInbox(inbox.id, sealed, inbox) for inbox, sealed in rows]


def member_inbox_ids(user: User) -> list[int]:
    """The inboxes the user is a member of."""
    return list(
        db.session.scalars(sa.select(Membership.inbox_id).where(Membership.user_id == user.id))
    )


def grant(member: User, inbox_id: int, secret: custody.InboxSecret, *, by: User) -> Membership:
    """Make `member` a member of the inbox: seal its secret to their public key."""
    assert member.public_key is not None
    existing: Membership | None = db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == member.id, Membership.inbox_id == inbox_id
        )
    )
    sealed = custody.seal_to_member(secret, member.public_key, inbox_id=inbox_id, user_id=member.id)
    if existing is not None:
        existing.sealed_secret = sealed
        existing.granted_at, existing.granted_by_id = clock.now(), by.id
        membership = existing
    else:
        membership = Membership(
            user_id=member.id,
            inbox_id=inbox_id,
            sealed_secret=sealed,
            granted_at=clock.now(),
            granted_by_id=by.id,
        )
        db.session.add(membership)
    audit.record(
        "membership_granted",
        actor_id=by.id,
        actor=by.email,
        target_type="inbox",
        target_id=inbox_id,
        member=member.email,
    )
    return membership


def revoke(member: User, inbox_id: int, *, by: User) -> None:
    """End a membership (the member's sealed copy is deleted)."""
    db.session.execute(
        sa.delete(Membership).where(
            Membership.user_id == member.id, Membership.inbox_id == inbox_id
        )
    )
    audit.record(
        "membership_revoked",
        actor_id=by.id,
        actor=by.email,
        target_type="inbox",
        target_id=inbox_id,
        member=member.email,
    )
