"""Growing delays after failed passwords, counted per typed e-mail address.

Every address is counted the same way, whether it has an account or not, so the delays do
not tell who has one. Rows are keyed by an HMAC of the normalised address under a key derived
from the application secret: the database never holds an address someone merely typed.
A row is forgotten FORGET_AFTER its last failure (the worker purges it).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa

from intake import database
from intake.accounts.models import SignInThrottle
from intake.extensions import db

FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 15 * 60
FORGET_AFTER = timedelta(hours=24)


def normalise(email: str) -> str:
    """The address as accounts store it: trimmed, lower case."""
    return email.strip().lower()


def key_for(email: str, *, key: bytes) -> str:
    """The keyed hash that stands for a typed address (nothing reversible is kept)."""
    return hmac.new(key, normalise(email).encode(), hashlib.sha256).hexdigest()


def delay_after(failures: int) -> int:
    """Seconds to wait after this many consecutive failures (of a password or a code)."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS))


def wait_seconds(key_hash: str, *, now: datetime) -> int:
    """How long this address must still wait before its password is checked (0: not at all)."""
    locked_until = db.session.scalar(
        sa.select(SignInThrottle.locked_until).where(
            SignInThrottle.key_hash == key_hash, SignInThrottle.expires_at > now
        )
    )
    if locked_until is None or locked_until <= now:
        return 0
    return int((locked_until - now).total_seconds()) + 1


def record_failure(key_hash: str, *, now: datetime) -> int:
    """Count a failure in the caller's transaction; returns the delay it brings, in seconds."""
    forget = now + FORGET_AFTER
    # One statement, so two failures at once for a new address cannot both insert.
    insert = database.upsert(SignInThrottle, db.session.get_bind().dialect.name).values(
        key_hash=key_hash, failures=1, locked_until=None, expires_at=forget
    )
    counted = sa.case(
        # A row past its time counts from the start again, purged or not.
        (SignInThrottle.expires_at <= now, 1),
        else_=SignInThrottle.failures + 1,
    )
    failures = db.session.scalar(
        insert.on_conflict_do_update(
            index_elements=["key_hash"], set_={"failures": counted, "expires_at": forget}
        ).returning(SignInThrottle.failures)
    )
    wait = delay_after(int(failures or 0))
    db.session.execute(
        sa.update(SignInThrottle)
        .where(SignInThrottle.key_hash == key_hash)
        .values(locked_until=now + timedelta(seconds=wait) if wait else None)
    )
    return wait


def clear(key_hash: str) -> None:
    """Forget the failures of an address (its password was right), in the caller's transaction."""
    db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.key_hash == key_hash))


def purge_expired(*, now: datetime) -> int:
    """Delete the rows past their time; return how many went. Commits."""
    result = db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.expires_at <= now))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
