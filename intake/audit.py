"""Append-only, keyed hash chain of audit rows: who did what, when — never any content.

Each row's MAC (HMAC-SHA256) covers its own fields and the previous row's MAC, so altering,
removing, reordering or inserting a row breaks every MAC after it. The key is in the instance
secrets (intake.secrets), never in the database: someone who can only write to the database
cannot compute a MAC, so cannot rewrite the chain to match. Keys are versioned; each row names
its version (`key_id`), `flask --app intake audit rotate-key` adds one and new rows use it.

Rows written before an installation had a key are version 0, the plain SHA-256 chain of
earlier releases. They are checked as such up to the cut-over row recorded with the first key
in the secrets file (`audit_legacy_until`); a version-0 row after it is a forgery. A single
head row serialises writers (row lock on PostgreSQL, the write lock on SQLite), so the chain
never forks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from intake import clock, database, secrets
from intake.extensions import db
from intake.models_base import UTCDateTime

GENESIS = "0" * 64


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One audited action."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # The audit key version the MAC is under; 0: the plain SHA-256 chain of older releases.
    key_id: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditHead(db.Model):  # type: ignore[name-defined]
    """The chain's tip; locking it serialises writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS)


def _body(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "prev": event.prev_hash,
    }


def _encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def _digest(event: AuditEvent) -> str:
    """The plain SHA-256 of a version-0 row (written before the installation had a key)."""
    return hashlib.sha256(_encoded(_body(event))).hexdigest()


def _mac(event: AuditEvent, key: bytes) -> str:
    """The row's HMAC-SHA256 under an audit key; the key's version is inside what is MACed."""
    body = _encoded({**_body(event), "key": event.key_id})
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keys:
    """The audit keys by version, and the last row written before the first (None: no key)."""

    by_version: dict[int, bytes]
    legacy_until: int | None


def keys() -> Keys:
    """The audit keys, reloaded if the secrets file changed (a rotation in another process)."""
    cfg = current_app.config
    if cfg.get("AUDIT_KEYS_FROM_FILE"):
        instance = Path(current_app.instance_path)
        try:
            stamp: int | None = (instance / secrets.FILENAME).stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp != cfg.get("AUDIT_KEYS_STAMP"):
            found = secrets.load(instance)
            if found is not None:
                cfg["AUDIT_KEYS"] = found.audit_keys
                cfg["AUDIT_LEGACY_UNTIL"] = found.audit_legacy_until
                cfg["AUDIT_KEYS_STAMP"] = stamp
    by_version: dict[int, bytes] = cfg.get("AUDIT_KEYS") or {}
    legacy = cfg.get("AUDIT_LEGACY_UNTIL")
    return Keys(by_version, (legacy or 0) if by_version else None)


def _seal(event: AuditEvent, found: Keys) -> None:
    """Set the row's key version and MAC (plain digest while the installation has no key)."""
    if found.by_version:
        event.key_id = max(found.by_version)
        event.hash = _mac(event, found.by_version[event.key_id])
    else:
        event.key_id = 0
        event.hash = _digest(event)


def record(
    action: str,
    *,
    actor_id: int | None,
    actor: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append an event to the caller's transaction (it commits with the action it records)."""
    # Read the head by writing it: the UPDATE takes the head's row lock (PostgreSQL) or the
    # write lock (SQLite) and returns the head as it is under that lock, in one statement.
    head = db.session.execute(_CLAIM_HEAD).one_or_none()
    if head is None:
        # The very first event: two writers may both get here, so the head is inserted
        # unless it exists (on PostgreSQL the second waits for the first, then reads its head).
        _insert_head_unless_there()
        head = db.session.execute(_CLAIM_HEAD).one()
    seq, prev_hash = head
    event = AuditEvent(
        seq=seq + 1,
        at=clock.now(),
        actor_id=actor_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
        prev_hash=prev_hash,
    )
    # Read under the head's lock: a key added by `audit rotate-key` (which holds the same lock
    # while it records the cut-over row) is used by every row after that row.
    _seal(event, keys())
    db.session.execute(
        sa.update(AuditHead).where(AuditHead.id == 1).values(seq=event.seq, hash=event.hash)
    )
    db.session.add(event)
    return event


# The head, locked and read in one statement (UPDATE … RETURNING: PostgreSQL, SQLite ≥ 3.35).
_CLAIM_HEAD = (
    sa.update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=AuditHead.seq)
    .returning(AuditHead.seq, AuditHead.hash)
)


def _insert_head_unless_there() -> None:
    statement = database.upsert(AuditHead, db.session.get_bind().dialect.name)
    db.session.execute(
        statement.values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    )


@dataclass(frozen=True)
class Verdict:
    """The result of checking the chain.

    `legacy` rows were checked as the plain chain (written before the first audit key);
    `keyed` is False when the installation has no audit key at all."""

    ok: bool
    checked: int
    problem: str | None = None
    legacy: int = 0
    keyed: bool = True

    def caveat(self) -> str | None:
        """What this check cannot vouch for, in Swedish; None when every row is keyed."""
        if not self.keyed:
            return (
                "Installationen har ingen granskningsnyckel: kedjan är oskyddad SHA-256 och kan "
                "skrivas om av den som kan skriva i databasen. "
                "Kör `flask --app intake audit rotate-key`."
            )
        if self.legacy:
            return (
                f"Rad 1–{self.legacy} skrevs innan granskningsnyckeln fanns och är kontrollerade "
                "som oskyddad SHA-256-kedja: den som kan skriva i databasen kan skriva om dem. "
                f"Raderna efter rad {self.legacy} är kontrollerade med nyckeln."
            )
        return None


def _check(event: AuditEvent, found: Keys, last_key: int) -> str | None:
    """Why this row's MAC is not what its key (or the plain chain) gives; None if it is."""
    if event.key_id == 0:
        if found.legacy_until == 0:
            return (
                f"rad {event.seq} saknar nyckel, men installationen har haft "
                "granskningsnyckel från början"
            )
        if found.legacy_until is not None and event.seq > found.legacy_until:
            return (
                f"rad {event.seq} saknar nyckel men är skriven efter att granskningsnyckeln "
                f"infördes (rad {found.legacy_until})"
            )
        expected = _digest(event)
    else:
        key = found.by_version.get(event.key_id)
        if key is None:
            return f"rad {event.seq} anger nyckelversion {event.key_id}, som inte finns"
        if event.key_id < last_key:
            return f"rad {event.seq} har en äldre nyckelversion än raden före"
        expected = _mac(event, key)
    if not hmac.compare_digest(expected, event.hash):
        return f"rad {event.seq} är ändrad eller flyttad"
    return None


def verify(found: Keys | None = None) -> Verdict:
    """Walk the chain in order; report the first altered, missing, reordered or forged row."""
    found = found or keys()
    previous, expected_seq, checked, legacy, last_key = GENESIS, 1, 0, 0, 0
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)):
        if event.seq != expected_seq:
            return Verdict(False, checked, f"rad {expected_seq} saknas (nästa är {event.seq})")
        if event.prev_hash != previous:
            return Verdict(False, checked, f"rad {event.seq} är ändrad eller flyttad")
        if problem := _check(event, found, last_key):
            return Verdict(False, checked, problem)
        legacy += event.key_id == 0
        last_key = event.key_id
        previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != previous):
        return Verdict(False, checked, "de sista raderna saknas")
    return Verdict(True, checked, legacy=legacy, keyed=bool(found.by_version))


def rotate_key(instance: Path) -> tuple[int, int | None]:
    """Add an audit key version to the secrets file; new rows use it. Returns the version and,
    for an installation's first key, the last row of the plain chain before it (the cut-over).

    The head row stays locked while the file is written, so no row is written in between."""
    _insert_head_unless_there()
    db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = db.session.scalar(sa.select(AuditHead).where(AuditHead.id == 1).with_for_update())
    assert head is not None
    head_seq = head.seq
    written = secrets.update(
        instance, lambda found: secrets.add_audit_key(found, head_seq=head_seq)
    )
    db.session.commit()
    version = max(written.audit_keys)
    return version, written.audit_legacy_until if version == 1 else None
