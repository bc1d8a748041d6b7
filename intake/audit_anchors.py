"""Anchors of the audit trail kept outside the database, so a cut tail is noticed.

The hash chain (`intake.audit`) shows any altered, removed or reordered row, but not the last
rows removed together with the head rewound to match: what is left is a whole, shorter chain.
An anchor is the head's number and hash at one moment, appended to a file outside the
database (`AUDIT_ANCHOR_FILE`, by default `audit-anchors.jsonl` in the instance folder; put it
on another volume or host for more distance). Checking the chain against its anchors shows a
trail shorter than an anchor, or one whose anchored row no longer has the anchored hash.

The worker writes one anchor a day; `flask --app intake audit anchor` writes one now. An
anchor holds no content: a number, a hash and a time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from intake import audit, clock
from intake.audit import AuditEvent, AuditHead
from intake.extensions import db

FILENAME = "audit-anchors.jsonl"


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment."""

    seq: int
    hash: str
    at: datetime


def path() -> Path:
    """Where the anchors are kept: `AUDIT_ANCHOR_FILE`, else the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / FILENAME


def write() -> Anchor | None:
    """Append the current head unless it is already the last anchor; None if nothing to do.

    Appending is one write of one line to a file opened for appending only (mode 0600)."""
    head = db.session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    anchors, _problems = read()
    if anchors and anchors[-1].seq == head.seq and anchors[-1].hash == head.hash:
        return None
    anchor = Anchor(seq=head.seq, hash=head.hash, at=clock.now())
    line = json.dumps({"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at.isoformat()})
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return anchor


def read() -> tuple[list[Anchor], list[str]]:
    """The anchors in the file, and a Swedish problem for each line that is not one."""
    try:
        lines = path().read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], []
    anchors, problems = [], []
    for number, line in enumerate(lines, 1):
        try:
            data = json.loads(line)
            anchors.append(
                Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=_moment(data["at"]))
            )
        except (ValueError, KeyError, TypeError):
            problems.append(f"rad {number} i ankarfilen går inte att läsa")
    return anchors, problems


def _moment(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("an anchor's time has a zone")
    return moment


@dataclass(frozen=True)
class Verdict:
    """The chain checked on its own and against its anchors."""

    chain: audit.Verdict
    anchors: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whole, and consistent with every anchor."""
        return self.chain.ok and not self.problems

    @property
    def checked(self) -> int:
        """How many rows of the chain were checked."""
        return self.chain.checked

    @property
    def problem(self) -> str | None:
        """The first problem found, in Swedish."""
        if not self.chain.ok:
            return self.chain.problem
        return self.problems[0] if self.problems else None


def verify() -> Verdict:
    """Check the chain (`audit.verify`), then that it still holds every anchored row."""
    chain = audit.verify()
    anchors, problems = read()
    rows = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).where(
            AuditEvent.seq.in_({anchor.seq for anchor in anchors})
        )
    )
    hashes = {seq: digest for seq, digest in rows}
    for anchor in anchors:
        found = hashes.get(anchor.seq)
        when = clock.local_date(anchor.at).isoformat()
        if found is None:
            problems.append(f"rad {anchor.seq} saknas, men fanns enligt ankaret från {when}")
        elif found != anchor.hash:
            problems.append(f"rad {anchor.seq} stämmer inte med ankaret från {when}")
    return Verdict(chain=chain, anchors=len(anchors), problems=tuple(problems))
