"""Transactional outbox: every e-mail is a row written with the change that causes it.

`enqueue` adds a row to the caller's transaction. `deliver_due` claims due rows (an atomic
UPDATE, plus SKIP LOCKED on PostgreSQL), sends each through Flask-Mail once, and on failure
backs off exponentially. The rows carry no sealed content: a template name, a small context
of plain values, and the recipient — protected (application key, since a resident's address is
personal data) and wiped once the mail is sent.
"""

from __future__ import annotations

import logging
import secrets
import signal
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy.orm import Mapped, mapped_column

from intake import appkeys, clock
from intake.crypto import CryptoError, protected
from intake.extensions import db, mail
from intake.models_base import UTCDateTime

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """One e-mail to send."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(60))
    recipient_protected: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    locale: Mapped[str] = mapped_column(sa.String(5), default="sv")
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(200))

    @property
    def recipient(self) -> str:
        """The recipient's address ('' once the mail is sent and the address wiped)."""
        if self.recipient_protected is None:
            return ""
        return protected.unprotect(
            self.recipient_protected, appkeys.keys(), aad=RECIPIENT_AAD
        ).decode()


RECIPIENT_AAD = b"intake:outbox-recipient:v1"
_INSERT = sa.insert(OutboxMessage.__table__)
# Attachment builders by kind, registered by the domains (e.g. dialogues' .ics files):
# builder(context) -> (filename, content type, bytes).
ATTACHMENTS: dict[str, Callable[[dict[str, Any]], tuple[str, str, bytes]]] = {}


def enqueue(
    template: str, recipient: str, context: dict[str, Any] | None = None, *, locale: str = "sv"
) -> None:
    """Add an e-mail to the current transaction; it is sent only if the transaction commits.

    One Core INSERT on the session's connection (no ORM object to flush): it runs inside the
    resident's final submit."""
    moment = clock.now()
    db.session.connection().execute(
        _INSERT,
        {
            "template": template,
            "recipient_protected": protected.protect(
                recipient.encode(), appkeys.keys(), aad=RECIPIENT_AAD
            ),
            "locale": locale,
            "context": context or {},
            "created_at": moment,
            "next_attempt_at": moment,
            "attempts": 0,
        },
    )


def render(message: OutboxMessage) -> Message:
    """The e-mail for a row: subject, text and HTML parts from templates/email/."""
    with force_locale(message.locale):
        context = dict(message.context)
        subject = render_template(f"email/{message.template}.subject.txt", **context).strip()
        body = render_template(f"email/{message.template}.txt", **context)
        html = render_template(f"email/{message.template}.html", **context)
    mail_message = Message(subject=subject, recipients=[message.recipient], body=body, html=html)
    for kind in context.get("attachments", []):
        filename, content_type, data = ATTACHMENTS[kind](context)
        mail_message.attach(filename, content_type, data)
    return mail_message


def _claim(message_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), claim_token=token)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures."""
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    )


def deliver_due(*, limit: int = 50) -> int:
    """Send due messages once each; return how many were sent."""
    now = clock.now()
    query = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    db.session.commit()
    sent = 0
    for message_id in ids:
        token = _claim(message_id, now)
        if token is None:
            continue  # another worker has it
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None
        try:
            mail.send(render(message))
        except (smtplib.SMTPException, OSError, CryptoError) as error:
            _failed(message, error)
        else:
            message.sent_at = clock.now()
            message.claimed_until = None
            # Sent: the address and the links (a cancel link is a capability) are not needed.
            message.recipient_protected = None
            message.context = {}
            sent += 1
        db.session.commit()
    return sent


def _failed(message: OutboxMessage, error: Exception) -> None:
    message.attempts += 1
    message.claimed_until = None
    # The class name only: an SMTP error text may echo the recipient address.
    message.last_error = type(error).__name__
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.failed_at = clock.now()
        message.recipient_protected, message.context = None, {}
        log.error(
            "outbox message %s failed for good after %s attempts", message.id, message.attempts
        )
    else:
        message.next_attempt_at = clock.now() + backoff(message.attempts)
        log.warning(
            "outbox message %s attempt %s failed: %s",
            message.id,
            message.attempts,
            message.last_error,
        )


def pending_count() -> int:
    """Messages not yet sent nor given up."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        )
        or 0
    )


class _Stop:
    requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def work(
    *,
    once: bool = False,
    poll_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the worker: deliver mail every poll and the scheduled jobs at start, then every
    JOBS_INTERVAL_SECONDS; `once` runs both once, drains and returns."""
    from intake import jobs  # jobs import the domains, which import the outbox

    delay = poll_seconds or float(current_app.config["OUTBOX_POLL_SECONDS"])
    interval = float(current_app.config["JOBS_INTERVAL_SECONDS"])
    total = 0
    if once:
        jobs.run_due()
        while (sent := deliver_due()) > 0:
            total += sent
        return total
    stop = _Stop()
    previous = (signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop))
    # The interval runs on the monotonic clock: a wall-clock jump (NTP, summer time) must
    # neither stall the housekeeping nor run it in a burst.
    jobs_ran_at: float | None = None
    try:
        while not stop.requested:
            if jobs_ran_at is None or monotonic() - jobs_ran_at >= interval:
                jobs_ran_at = monotonic()
                jobs.run_due()
            while (sent := deliver_due()) > 0:
                total += sent
            sleep(delay)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    return total
