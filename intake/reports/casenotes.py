"""Case notes: the caseworkers' append-only note history of a report (issue 13 §2).

Each note's text is sealed to the inbox key exactly like the report's content, bound to the
note's id, the report's id and the inbox; only a member's unlocked inbox secret opens it. Who
wrote it and when are plain. There is no edit and no delete (CaseNote refuses updates); a
move re-seals the notes to the new inbox, and the purge (intake.reports.retention) deletes
them with the rest of the content. The audit row says that a note was added, never what.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from intake import audit, clock
from intake.accounts.models import User
from intake.crypto import custody, sealing
from intake.extensions import db
from intake.reports.models import CaseNote, Inbox, Report

MAX_LENGTH = 8000


class CaseNoteError(Exception):
    """A note that cannot be added; the message is Swedish."""


@dataclass(frozen=True)
class ShownNote:
    """One opened note, for one request."""

    written_at: datetime
    author: str
    text: str


def _context(note: CaseNote, inbox_id: int) -> bytes:
    return f"intake:case-note:v1:{note.id}:{note.report_id}:inbox:{inbox_id}".encode()


def _notes(report: Report) -> list[CaseNote]:
    return list(
        db.session.scalars(
            sa.select(CaseNote)
            .where(CaseNote.report_id == report.id)
            .order_by(CaseNote.written_at, CaseNote.id)
        )
    )


def add(report: Report, text: str, *, user: User) -> CaseNote:
    """Append a note, sealed to the report's inbox; audited without its text. Commits."""
    if report.purged_at is not None or report.sealed is None:
        raise CaseNoteError("Anmälan är gallrad.")
    text = text.strip()
    if not text:
        raise CaseNoteError("Skriv en anteckning.")
    if len(text) > MAX_LENGTH:
        raise CaseNoteError(f"Anteckningen får vara högst {MAX_LENGTH} tecken.")
    note = CaseNote(
        id=str(uuid.uuid4()),
        report_id=report.id,
        written_at=clock.now(),
        author_id=user.id,
        author_label=user.email,
    )
    note.sealed = sealing.seal(
        text.encode(), report.inbox.public_key, context=_context(note, report.inbox_id)
    )
    db.session.add(note)
    audit.record(
        "case_note_added",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
        note=note.id,
    )
    db.session.commit()
    return note


def history(report: Report, secret: custody.InboxSecret) -> list[ShownNote]:
    """The report's notes, oldest first, opened with the member's inbox secret."""
    return [
        ShownNote(
            written_at=note.written_at,
            author=note.author_label,
            text=sealing.open_sealed(
                note.sealed, secret.private, context=_context(note, report.inbox_id)
            ).decode(),
        )
        for note in _notes(report)
    ]


def reseal_for_move(report: Report, secret: custody.InboxSecret, target: Inbox) -> None:
    """Re-seal the notes to another inbox (handling's move; the caller commits). The one
    write to a stored note: the same text, id, author and time, under the target's key."""
    table = CaseNote.__table__
    for note in _notes(report):
        text = sealing.open_sealed(
            note.sealed, secret.private, context=_context(note, report.inbox_id)
        )
        resealed = sealing.seal(text, target.public_key, context=_context(note, target.id))
        db.session.execute(sa.update(table).where(table.c.id == note.id).values(sealed=resealed))
        db.session.expire(note)


def purge(report_id: str) -> None:
    """Delete every note of a purged report (the caller commits)."""
    db.session.execute(sa.delete(CaseNote).where(CaseNote.report_id == report_id))
