"""Återkoppling to a verified professional reporter (issue 12 §2), read after e-legitimation.

Design (option b of the issue): when the caseworker sends återkoppling, the unlocked inbox key
opens the identity verified with e-legitimation that was sealed with the report
(service.open_verified). The message (the decision only: whether an investigation was opened,
not opened or already ongoing, see intake.law) is stored in the report's channel
(ChannelMessage, direction "feedback"):

- sealed to the inbox, like every channel message, for the caseworkers;
- protected under the application key (intake.crypto.protected), bound to the message and
  report ids, for the reporter; and
- findable by `reporter_tag`, an HMAC-SHA256 of the verified personnummer under the
  application key (one tag per key version, so the tag follows no key rotation but old
  versions stay loaded for reading).

The mail to the reporter's address says only that a message is waiting and where. At
/orosanmalan/mina-anmalningar the reporter signs in with e-legitimation; the server computes
the tag of the signed-in personnummer and shows the messages with that tag. Someone signed in
as another person computes another tag and sees nothing.

What can read it: the running server (it holds the instance secrets, so it can unprotect every
återkoppling, and a tag links a person's återkoppling messages to each other); a caseworker of
the inbox. What cannot: a copy of the database without the instance secrets (the text is AEAD
ciphertext, the tags are keyed hashes), the mail, the logs, and the reporter's typed address.
The text is short and legally limited to whether an investigation was opened (osl_26_1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from intake import appkeys, audit, clock, outbox
from intake.accounts.models import User
from intake.crypto import CryptoError, protected, sealing
from intake.extensions import db
from intake.reports import channel
from intake.reports.models import ChannelMessage, Report

FEEDBACK = "feedback"
EID_METHOD = "e-legitimation"


@dataclass(frozen=True)
class Feedback:
    """One återkoppling, opened for one signed-in request."""

    reference: str
    sent_at: datetime
    decision: str


def verified_personnummer(verified: dict[str, str] | None) -> str | None:
    """The personnummer of an identity verified with e-legitimation, or None."""
    if not verified or verified.get("method") != EID_METHOD:
        return None
    return verified.get("personnummer") or None


def _tag(personnummer: str, version: int, key: bytes) -> str:
    digest = hmac.new(key, f"intake:feedback-tag:v1:{personnummer}".encode(), hashlib.sha256)
    return f"{version}:{digest.hexdigest()}"


def tags(personnummer: str) -> list[str]:
    """The tags of a personnummer under every loaded application key version."""
    return [_tag(personnummer, v, k) for v, k in sorted(appkeys.keys().items())]


def _aad(message: ChannelMessage) -> bytes:
    return f"intake:feedback:v1:{message.id}:{message.report_id}".encode()


def give(
    report: Report, personnummer: str, *, user: User, recipient: str | None, base_url: str
) -> ChannelMessage:
    """Store the återkoppling for the verified reporter and mail "a message is waiting"."""
    assert report.decision is not None
    keys = appkeys.keys()
    version = max(keys)
    message = channel.new_message(report, FEEDBACK)
    message.author_id, message.author_label = user.id, user.email
    content = json.dumps({"reference": report.reference, "decision": report.decision}).encode()
    message.sealed = sealing.seal(
        content, report.inbox.public_key, context=channel.inbox_context(message, report.inbox_id)
    )
    message.protected = protected.protect(content, keys, aad=_aad(message))
    message.reporter_tag = _tag(personnummer, version, keys[version])
    db.session.add(message)
    if recipient:
        outbox.enqueue("feedback", recipient, {"url": f"{base_url}/orosanmalan/mina-anmalningar"})
    report.feedback_sent_at = clock.now()  # made available now: the deadline stops here
    audit.record(
        "feedback_sent",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()
    return message


def for_person(personnummer: str) -> list[Feedback]:
    """The återkoppling messages for a personnummer signed in with e-legitimation."""
    rows = db.session.execute(
        sa.select(ChannelMessage, Report.purged_at)
        .join(Report, Report.id == ChannelMessage.report_id)
        .where(ChannelMessage.reporter_tag.in_(tags(personnummer)))
        .order_by(ChannelMessage.sent_at.desc())
    ).all()
    found = []
    for message, purged_at in rows:
        if message.protected is None or purged_at is not None:
            continue
        try:
            content = json.loads(
                protected.unprotect(message.protected, appkeys.keys(), aad=_aad(message))
            )
        except CryptoError:
            continue
        found.append(Feedback(content["reference"], message.sent_at, content["decision"]))
    return found
