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

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from intake import audit, clock, outbox
from intake.accounts.models import User
from intake.crypto import sealing
from intake.extensions import db
from intake.reports import channel, verified_reporter
from intake.reports.models import ChannelMessage, Report

FEEDBACK = "feedback"


@dataclass(frozen=True)
class Feedback:
    """One återkoppling, opened for one signed-in request."""

    reference: str
    sent_at: datetime
    decision: str


verified_personnummer = verified_reporter.verified_personnummer


def give(
    report: Report, personnummer: str, *, user: User, recipient: str | None, base_url: str
) -> ChannelMessage:
    """Store the återkoppling for the verified reporter and mail "a message is waiting"."""
    assert report.decision is not None
    message = channel.new_message(report, FEEDBACK)
    message.author_id, message.author_label = user.id, user.email
    content = json.dumps({"reference": report.reference, "decision": report.decision}).encode()
    message.sealed = sealing.seal(
        content, report.inbox.public_key, context=channel.inbox_context(message, report.inbox_id)
    )
    verified_reporter.protect(message, content, personnummer)
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
        .where(
            ChannelMessage.reporter_tag.in_(verified_reporter.tags(personnummer)),
            ChannelMessage.direction == FEEDBACK,
        )
        .order_by(ChannelMessage.sent_at.desc())
    ).all()
    found = []
    for message, purged_at in rows:
        opened = verified_reporter.unprotect(message) if purged_at is None else None
        if opened is None:
            continue
        content = json.loads(opened)
        found.append(Feedback(content["reference"], message.sent_at, content["decision"]))
    return found
