"""Drafts: a resident's answers between steps, never in plain text anywhere.

The answers are encrypted (AES-256-GCM) under a random key that lives only in the resident's
session cookie, next to a random draft token. The database keeps the ciphertext under a hash
of the token, with an expiry; the cookie alone holds no answers, and the database alone cannot
open a draft. Expired drafts are deleted by the worker, and ignored until then.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from intake import clock
from intake.crypto import CryptoError, aead
from intake.extensions import db
from intake.reports.models import Draft


@dataclass
class DraftState:
    """What the resident has answered so far, and which steps are done."""

    answers: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    # After sending: the receipt to show (reference, time, the follow-up code once).
    receipt: dict[str, Any] | None = None
    # The ciphertext this state was read from: what `claim` expects to find still unchanged.
    sealed: bytes | None = field(default=None, compare=False, repr=False)
    # E-legitimation (intake.reports.eid): the sign-in in flight (state, nonce, PKCE verifier)
    # and, after it, the verified identity. Encrypted with the rest, never in the cookie.
    eid_pending: dict[str, str] | None = None
    verified: dict[str, str] | None = None
    # Set by the server when it saved answers that passed whole-draft validation: the schema
    # version and a digest of those answers (intake.reports.journey.checked).
    checked: list[Any] | None = None


@dataclass(frozen=True)
class DraftHandle:
    """What the cookie holds: the draft's token and its key, both random."""

    token: str
    key: bytes

    def to_cookie(self) -> dict[str, str]:
        """A JSON-safe form for the session."""
        return {"t": self.token, "k": base64.urlsafe_b64encode(self.key).decode()}

    @classmethod
    def from_cookie(cls, value: Any) -> DraftHandle | None:
        """Parse the session value; None if it is not a handle."""
        try:
            return cls(token=str(value["t"]), key=base64.urlsafe_b64decode(value["k"]))
        except (KeyError, TypeError, ValueError):
            return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aad(token_hash: str) -> bytes:
    return f"intake:draft:v1:{token_hash}".encode()


def new_handle() -> DraftHandle:
    """A new random draft handle."""
    return DraftHandle(token=secrets.token_urlsafe(24), key=aead.new_key())


_drafts = Draft.__table__.c
# Built once (every step and the final submit use them): only values are bound per call.
_LOAD = sa.select(_drafts.sealed, _drafts.expires_at).where(
    _drafts.token_hash == sa.bindparam("digest")
)
_UPDATE = (
    sa.update(Draft.__table__)
    .where(_drafts.token_hash == sa.bindparam("digest"))
    .values(sealed=sa.bindparam("new_sealed"), expires_at=sa.bindparam("new_expires_at"))
)
_INSERT = sa.insert(Draft.__table__)
# A compare-and-set: only the request that still sees the ciphertext it read may replace it.
_CLAIM = _UPDATE.where(_drafts.sealed == sa.bindparam("old_sealed"))


def load(handle: DraftHandle) -> DraftState | None:
    """The draft's state, or None if it is gone, expired or cannot be opened."""
    digest = _token_hash(handle.token)
    row = db.session.connection().execute(_LOAD, {"digest": digest}).one_or_none()
    if row is None or row.expires_at <= clock.now():
        return None
    try:
        data = json.loads(aead.decrypt(handle.key, row.sealed, aad=_aad(digest)))
    except (CryptoError, ValueError):
        return None
    return DraftState(
        answers=data["answers"],
        done=data["done"],
        receipt=data.get("receipt"),
        eid_pending=data.get("eid_pending"),
        verified=data.get("verified"),
        checked=data.get("checked"),
        sealed=row.sealed,
    )


def _sealed(handle: DraftHandle, digest: str, state: DraftState) -> bytes:
    plaintext = json.dumps(
        {
            "answers": state.answers,
            "done": state.done,
            "receipt": state.receipt,
            "eid_pending": state.eid_pending,
            "verified": state.verified,
            "checked": state.checked,
        }
    ).encode()
    return aead.encrypt(handle.key, plaintext, aad=_aad(digest))


def save(
    handle: DraftHandle, state: DraftState, *, lifetime: timedelta, commit: bool = True
) -> None:
    """Encrypt and store the draft, renewing its expiry (an UPDATE, or an INSERT if new)."""
    digest = _token_hash(handle.token)
    sealed = _sealed(handle, digest, state)
    expires_at = clock.now() + lifetime
    connection = db.session.connection()
    updated = connection.execute(
        _UPDATE, {"digest": digest, "new_sealed": sealed, "new_expires_at": expires_at}
    )
    if updated.rowcount == 0:
        connection.execute(
            _INSERT, {"token_hash": digest, "sealed": sealed, "expires_at": expires_at}
        )
    if commit:
        db.session.commit()


def claim(handle: DraftHandle, read: DraftState, state: DraftState, *, lifetime: timedelta) -> bool:
    """Replace the draft `read` was loaded from by `state`, in the caller's transaction, only if
    nobody changed it since: False when another request (a second press of "Skicka") got there
    first. The row stays locked until the caller commits or rolls back."""
    if read.sealed is None:
        return False
    digest = _token_hash(handle.token)
    updated = db.session.connection().execute(
        _CLAIM,
        {
            "digest": digest,
            "old_sealed": read.sealed,
            "new_sealed": _sealed(handle, digest, state),
            "new_expires_at": clock.now() + lifetime,
        },
    )
    return bool(updated.rowcount == 1)


def discard(handle: DraftHandle) -> None:
    """Delete the draft (in the caller's transaction)."""
    db.session.execute(sa.delete(Draft).where(Draft.token_hash == _token_hash(handle.token)))


def purge_expired() -> int:
    """Delete every expired draft; return how many went."""
    result = db.session.execute(sa.delete(Draft).where(Draft.expires_at <= clock.now()))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
