"""Receiving a report: route, seal, and store it with its notification in one transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from intake import clock, law, outbox
from intake.crypto import codekeys, sealing
from intake.crypto.symbols import random_symbols
from intake.extensions import db
from intake.reports import choices as c
from intake.reports import followup, next_deadline, triage
from intake.reports.journey import SCHEMA_VERSION
from intake.reports.models import Report
from intake.reports.routing import destination

# No 0/O, 1/I/L: a reference is read aloud on the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Receipt:
    """What the resident is shown after sending: no content."""

    reference: str
    received_at: datetime
    acute: bool
    followup_code: str


class AlreadySent(Exception):
    """The draft was claimed by another request (the same report sent twice at once)."""


def report_context(report_id: str, inbox_id: int, schema_version: int) -> bytes:
    """What a report's ciphertext is bound to, so it cannot be moved to another row."""
    return f"intake:report:v{schema_version}:{report_id}:inbox:{inbox_id}".encode()


def new_reference(year: int) -> str:
    """A random, unguessable reference such as 2026-K7QH-3XMP."""
    symbols = random_symbols(_REFERENCE_ALPHABET, 8)
    return f"{year}-{symbols[:4]}-{symbols[4:]}"


def seal_answers(
    answers: dict[str, Any],
    *,
    report_id: str,
    inbox_id: int,
    public_key: bytes,
    version: int,
    verified: dict[str, str] | None = None,
) -> bytes:
    """The answers (and a verified identity, if any) sealed to the inbox's public key."""
    content: dict[str, Any] = {"answers": answers}
    if verified:
        content["verified"] = verified  # intake.reports.eid: who the eID broker said sent it
    plaintext = json.dumps(content, ensure_ascii=False).encode()
    return sealing.seal(plaintext, public_key, context=report_context(report_id, inbox_id, version))


def open_content(report: Report, inbox_private_key: bytes) -> dict[str, Any]:
    """A report's sealed content, opened with its inbox's private key: its "answers" and, for
    a reporter who signed in with e-legitimation, who the eID broker said sent it ("verified")."""
    assert report.sealed is not None
    plaintext = sealing.open_sealed(
        report.sealed,
        inbox_private_key,
        context=report_context(report.id, report.inbox_id, report.schema_version),
    )
    content: dict[str, Any] = json.loads(plaintext)
    return content


def open_answers(report: Report, inbox_private_key: bytes) -> dict[str, Any]:
    """The answers of a report, opened with its inbox's private key."""
    answers: dict[str, Any] = open_content(report, inbox_private_key)["answers"]
    return answers


def open_verified(report: Report, inbox_private_key: bytes) -> dict[str, str] | None:
    """The identity verified with e-legitimation sealed with the report, or None."""
    verified: dict[str, str] | None = open_content(report, inbox_private_key).get("verified")
    return verified


# Built once: the final submit only binds values to it.
_INSERT_REPORT = sa.insert(Report.__table__)


def submit(
    answers: dict[str, Any],
    *,
    base_url: str,
    commit: bool = True,
    claim: Callable[[Receipt], bool] | None = None,
    verified: dict[str, str] | None = None,
) -> Receipt:
    """Route, seal and store a complete report and its notification in one transaction.

    `claim`, if given, runs first in that transaction with the receipt to be: when it returns
    False (the draft was already sent) nothing is written and AlreadySent is raised; the caller
    rolls back. Written with Core statements in the session's transaction: this is the
    resident's final submit, the service's hottest write, and it needs no ORM objects."""
    code = followup.new_code()
    received_at = clock.now().replace(second=0, microsecond=0)
    target = destination(answers)
    report_id = str(uuid.uuid4())
    acute = answers.get("acute_danger") == c.YES
    reference = new_reference(clock.local_date(received_at).year)
    sealed = seal_answers(
        answers,
        report_id=report_id,
        inbox_id=target.inbox_id,
        public_key=target.public_key,
        version=SCHEMA_VERSION,
        verified=verified,
    )
    receipt = Receipt(
        reference=reference, received_at=received_at, acute=acute, followup_code=code.shown
    )
    if claim is not None and not claim(receipt):
        raise AlreadySent()
    db.session.connection().execute(
        _INSERT_REPORT,
        {
            "id": report_id,
            "reference": reference,
            "inbox_id": target.inbox_id,
            "routing_rule_id": target.rule_id,
            "received_at": received_at,
            "status": "received",
            "acute": acute,
            "acute_answer": answers.get("acute_danger"),
            "subject_type": answers.get("subject_type"),
            "feedback_requested": law.feedback_requested(answers),
            "schema_version": SCHEMA_VERSION,
            "sealed": sealed,
            "followup_lookup": code.lookup,
            "followup_hash": code.digest,
            # The reporter's channel: only the public half (intake.reports.channel).
            "channel_public_key": codekeys.keypair_from_code(followup.normalise(code.shown)).public,
            # Plain triage columns and the first deadline (issues 13 §2, 14 §1).
            **triage.plain_columns(answers),
            **next_deadline.initial(received_at, answers.get("subject_type")),
        },
    )
    if target.notification_email:
        outbox.enqueue(
            "new_report",
            target.notification_email,
            {
                "inbox": target.name,
                "acute": acute,
                "acute_answer": answers.get("acute_danger"),
                "login_url": f"{base_url}/personal/",
            },
        )
    if commit:
        db.session.commit()
    return receipt
