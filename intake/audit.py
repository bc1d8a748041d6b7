"""Append-only, hash-chained audit trail: who did what, when — never any content.

Each row's hash covers its own fields and the previous row's hash, so altering, removing or
reordering a row breaks every hash after it. A single head row serialises writers (row lock on
PostgreSQL, the write lock on SQLite), so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from intake import clock, database
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


class AuditHead(db.Model):  # type: ignore[name-defined]
    """The chain's tip; locking it serialises writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS)


def _digest(event: AuditEvent) -> str:
    body = json.dumps(
        {
            "seq": event.seq,
            "at": event.at.isoformat(),
            "actor_id": event.actor_id,
            "actor": event.actor,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "details": event.details,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


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
    # Write to the head first: on SQLite the UPDATE takes the write lock before we read.
    db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = db.session.scalar(sa.select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        # The very first event: two writers may both get here, so the head is inserted
        # unless it exists (on PostgreSQL the second waits for the first, then reads its head).
        _insert_head_unless_there()
        head = db.session.scalar(sa.select(AuditHead).where(AuditHead.id == 1).with_for_update())
        assert head is not None
    event = AuditEvent(
        seq=head.seq + 1,
        at=clock.now(),
        actor_id=actor_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
        prev_hash=head.hash,
    )
    event.hash = _digest(event)
    head.seq, head.hash = event.seq, event.hash
    db.session.add(event)
    return event


def _insert_head_unless_there() -> None:
    statement = database.upsert(AuditHead, db.session.get_bind().dialect.name)
    db.session.execute(
        statement.values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    )


@dataclass(frozen=True)
class Verdict:
    """The result of checking the chain."""

    ok: bool
    checked: int
    problem: str | None = None


def verify() -> Verdict:
    """Walk the chain in order; report the first broken, missing or reordered row."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)):
        if event.seq != expected_seq:
            return Verdict(False, checked, f"rad {expected_seq} saknas (nästa är {event.seq})")
        if event.prev_hash != previous or _digest(event) != event.hash:
            return Verdict(False, checked, f"rad {event.seq} är ändrad eller flyttad")
        previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != previous):
        return Verdict(False, checked, "de sista raderna saknas")
    return Verdict(True, checked)
