"""Server-side staff sessions holding the user's unlocked private key, wrapped.

The Flask cookie carries a random session token and a random session key. The database keeps
a hash of the token and the user's private key encrypted under the session key. A copy of the
database cannot use the row without the cookie; the cookie is useless once the row is gone
(logout, idle timeout, absolute timeout).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from intake import clock
from intake.accounts.models import StaffSession, User
from intake.crypto import CryptoError, aead, custody
from intake.extensions import db

TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Timeouts:
    """How long a session lives without use, and at most."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class ActiveSession:
    """A signed-in session for this request."""

    row: StaffSession
    user: User
    key: bytes
    # Whether this request moved the idle clock on (then the cookie is signed afresh too).
    touched: bool = False

    @property
    def second_factor_done(self) -> bool:
        """Whether the TOTP or backup code step is done."""
        return self.row.second_factor_at is not None

    def private_key(self) -> bytes:
        """The user's private key, unwrapped for this request only."""
        return custody.unwrap_from_session(
            self.row.wrapped_key, self.key, session_id=self.row.id, user_id=self.user.id
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, private_key: bytes, *, timeouts: Timeouts) -> dict[str, str]:
    """Open a session for a user whose password was right; returns the cookie value."""
    token, key = secrets.token_urlsafe(32), aead.new_key()
    now = clock.now()
    row = StaffSession(
        token_hash=_hash(token),
        user_id=user.id,
        wrapped_key=b"",
        created_at=now,
        last_seen_at=now,
        expires_at=now + timeouts.absolute,
    )
    db.session.add(row)
    db.session.flush()
    row.wrapped_key = custody.wrap_for_session(private_key, key, session_id=row.id, user_id=user.id)
    return {"t": token, "k": base64.urlsafe_b64encode(key).decode()}


def resume(cookie: Any, *, timeouts: Timeouts) -> ActiveSession | None:
    """The session the cookie names, if it is alive; an expired one is deleted."""
    try:
        token, key = str(cookie["t"]), base64.urlsafe_b64decode(cookie["k"])
    except (KeyError, TypeError, ValueError):
        return None
    found = db.session.execute(
        sa.select(StaffSession, User)  # one round trip for both, on every staff request
        .outerjoin(User, User.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    now = clock.now()
    if (
        user is None
        or not user.active
        or now >= row.expires_at
        or now - row.last_seen_at > timeouts.idle
    ):
        db.session.delete(row)
        db.session.commit()
        return None
    touched = now - row.last_seen_at > TOUCH_EVERY
    active = ActiveSession(row=row, user=user, key=key, touched=touched)
    try:
        active.private_key()
    except CryptoError:
        return None
    if touched:
        row.last_seen_at = now
        db.session.commit()
    return active


def end(cookie: Any) -> None:
    """Delete the session the cookie names (logout)."""
    try:
        token = str(cookie["t"])
    except (KeyError, TypeError):
        return
    db.session.execute(sa.delete(StaffSession).where(StaffSession.token_hash == _hash(token)))
    db.session.commit()


def end_all_for(user_id: int) -> None:
    """Delete every session of a user (reset, deactivation), in the caller's transaction."""
    db.session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user_id))


def end_others(user_id: int, keep_id: int, *, idle: timedelta) -> int:
    """Delete every session of a user but one (password change), in the caller's transaction;
    return how many of them were still signed in."""
    now = clock.now()
    ended = db.session.execute(
        sa.delete(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.id != keep_id)
        .returning(StaffSession.last_seen_at, StaffSession.expires_at)
    ).all()
    # Timed-out rows the purge job has not reached yet go too, but were nobody's sign-in: the
    # user is told only about sessions resume() would still have let in.
    return sum(1 for seen, expires in ended if now < expires and now - seen <= idle)


def purge_expired(*, idle: timedelta) -> int:
    """Delete expired and idle sessions; return how many went."""
    now = clock.now()
    result = db.session.execute(
        sa.delete(StaffSession).where(
            sa.or_(StaffSession.expires_at <= now, StaffSession.last_seen_at < now - idle)
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
