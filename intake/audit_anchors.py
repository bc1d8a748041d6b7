"""Anchors of the audit trail kept outside the database, so a cut tail is noticed.

The keyed chain (`intake.audit`) shows any altered, removed, reordered or inserted row, but
not the last rows removed together with the head rewound to match: what is left is a whole,
shorter chain. An anchor is the head's number and MAC at one moment, appended to a file outside
the database (`AUDIT_ANCHOR_FILE`, by default `audit-anchors.jsonl` in the instance folder).
Checking the chain against its anchors shows a trail shorter than an anchor, or one whose
anchored row no longer has the anchored MAC.

The worker writes an anchor when `AUDIT_ANCHOR_EVERY_ROWS` rows were added since the last one,
or when the head moved and `AUDIT_ANCHOR_EVERY_SECONDS` have passed; `flask --app intake audit
anchor` writes one now. Each anchor also goes off-host, to any of: a second file
(`AUDIT_ANCHOR_COPY_FILE`, another volume or a network mount), syslog
(`AUDIT_ANCHOR_SYSLOG`: a socket path such as `/dev/log`, or `host:port` over UDP), and the
first anchor of each day by mail (`AUDIT_ANCHOR_MAIL_TO`, e.g. the data protection officer,
through the outbox). An anchor holds no content: a number, a MAC and a time.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from intake import audit, clock, outbox
from intake.audit import AuditEvent, AuditHead
from intake.extensions import db

log = logging.getLogger(__name__)
FILENAME = "audit-anchors.jsonl"
# The last anchor is found in this much of the file's end (a line is about 120 bytes).
_TAIL = 4096


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


def _line(anchor: Anchor) -> str:
    return json.dumps({"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at.isoformat()})


def _append(target: Path, line: str) -> None:
    """One write of one line to a file opened for appending only (mode 0600)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _parse(line: str) -> Anchor:
    data = json.loads(line)
    return Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=_moment(data["at"]))


def last() -> Anchor | None:
    """The newest anchor in the file, read from its end (None if none can be read)."""
    try:
        with path().open("rb") as handle:
            handle.seek(max(handle.seek(0, os.SEEK_END) - _TAIL, 0))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            return _parse(line)
        except (ValueError, KeyError, TypeError):
            continue
    return None


def write(*, now: datetime | None = None) -> Anchor | None:
    """Append the current head unless it is already the last anchor, then send it off-host;
    None if there was nothing new to anchor."""
    head = db.session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    previous = last()
    if previous is not None and (previous.seq, previous.hash) == (head.seq, head.hash):
        return None
    anchor = Anchor(seq=head.seq, hash=head.hash, at=now or clock.now())
    _append(path(), _line(anchor))
    _off_host(anchor, previous)
    return anchor


def write_if_due(*, now: datetime) -> Anchor | None:
    """Anchor when enough rows were added, or the head moved and enough time passed."""
    cfg = current_app.config
    head = db.session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    previous = last()
    if previous is not None:
        moved = (previous.seq, previous.hash) != (head.seq, head.hash)
        rows_due = head.seq - previous.seq >= int(cfg["AUDIT_ANCHOR_EVERY_ROWS"])
        time_due = now - previous.at >= timedelta(seconds=int(cfg["AUDIT_ANCHOR_EVERY_SECONDS"]))
        if not moved or not (rows_due or time_due):
            return None
    try:
        return write(now=now)
    except OSError as error:
        # The worker goes on; the next round tries again. No anchor content is secret.
        log.error("could not write the audit anchor to %s: %s", path(), error)
        return None


def _off_host(anchor: Anchor, previous: Anchor | None) -> None:
    """Send the anchor to each configured sink; a failing sink is logged, never fatal."""
    cfg = current_app.config
    line = _line(anchor)
    if copy := cfg.get("AUDIT_ANCHOR_COPY_FILE"):
        try:
            _append(Path(copy), line)
        except OSError as error:
            log.error("could not copy the audit anchor to %s: %s", copy, error)
    if address := cfg.get("AUDIT_ANCHOR_SYSLOG"):
        try:
            _to_syslog(str(address), line)
        except OSError as error:
            log.error("could not send the audit anchor to syslog %s: %s", address, error)
    day = clock.local_date(anchor.at)
    first_today = previous is None or clock.local_date(previous.at) != day
    if (recipient := cfg.get("AUDIT_ANCHOR_MAIL_TO")) and first_today:
        context = {"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at.isoformat()}
        outbox.enqueue("audit_anchor", str(recipient), {**context, "day": day.isoformat()})
        db.session.commit()


class _SysLog(logging.handlers.SysLogHandler):
    """A syslog handler whose send errors reach the caller instead of stderr."""

    def handleError(self, record: logging.LogRecord) -> None:
        """Called inside emit's `except`: re-raise what went wrong."""
        raise


def _to_syslog(address: str, line: str) -> None:
    """One syslog message: a socket path (`/dev/log`) or `host:port` over UDP."""
    host, _, port = address.rpartition(":")
    target: str | tuple[str, int] = (host, int(port)) if host and port.isdigit() else address
    handler = _SysLog(address=target, facility=logging.handlers.SysLogHandler.LOG_AUTH)
    try:
        handler.emit(
            logging.LogRecord(
                "intake.audit", logging.INFO, __file__, 0, "intake-audit-anchor %s", (line,), None
            )
        )
    finally:
        handler.close()


def read(source: Path | None = None) -> tuple[list[Anchor], list[str]]:
    """The anchors in the file (or a copy of it), and a Swedish problem for each line that is
    not one."""
    try:
        lines = (source or path()).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], []
    anchors, problems = [], []
    for number, line in enumerate(lines, 1):
        try:
            anchors.append(_parse(line))
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


def verify(source: Path | None = None) -> Verdict:
    """Check the chain (`audit.verify`), then that it still holds every anchored row (from the
    anchor file, or a copy of it kept elsewhere)."""
    chain = audit.verify()
    anchors, problems = read(source)
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
