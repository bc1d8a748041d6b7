"""Transactional outbox: every e-mail is a row written with the change that causes it.

`enqueue` adds a row to the caller's transaction. `deliver_due` claims due rows (an atomic
UPDATE, plus SKIP LOCKED on PostgreSQL), sends each through Flask-Mail once, and on failure
backs off exponentially. The rows carry no sealed content: a template name, a small context
of plain values, and the recipient — protected (application key, since a resident's address is
personal data) and wiped once the mail is sent.

One row can never stop delivery: any exception while rendering or sending it (a bad address
saved before addresses were validated, a template that raises, SMTP refusing) counts as a
failed attempt of that row, and after OUTBOX_MAX_ATTEMPTS the row is `failed` (shown to
admins, intake.health). Delivery is at least once: a worker killed after sending but before
recording it sends again, with the row's own `Message-ID`, so the two are recognisably one.
The loop that calls `deliver_due` lives in intake.worker.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy.orm import Mapped, mapped_column

from intake import appkeys, clock, emails
from intake.crypto import protected
from intake.extensions import db, mail
from intake.models_base import UTCDateTime

log = logging.getLogger(__name__)

# Control characters (CR and LF above all) would let a title or a name add mail headers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
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
    # `<uuid@sender's domain>`, set at enqueue: a resend after a crash carries the same one.
    message_id: Mapped[str | None] = mapped_column(sa.String(250))

    @property
    def recipient(self) -> str:
        """The recipient's address ('' once the mail is sent and the address wiped)."""
        if self.recipient_protected is None:
            return ""
        return protected.unprotect(
            self.recipient_protected, appkeys.keys(), aad=RECIPIENT_AAD
        ).decode()


RECIPIENT_AAD = appkeys.OUTBOX_RECIPIENT_AAD
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
            "message_id": new_message_id(),
        },
    )


def new_message_id() -> str:
    """A fresh `Message-ID` in the sender's domain."""
    return f"<{uuid.uuid4().hex}@{_domain(current_app.config.get('MAIL_DEFAULT_SENDER'))}>"


@functools.lru_cache(maxsize=16)
def _domain(sender: Any) -> str:
    # Parsed once per configured sender: every final submit writes a message.
    address = parseaddr(sender[1] if isinstance(sender, tuple) else str(sender or ""))[1]
    domain = address.rpartition("@")[2].strip().lower()
    if not domain or not re.fullmatch(r"[a-z0-9.-]+", domain):
        domain = "intake.invalid"
    return domain


def header_text(text: str) -> str:
    """Text safe in a mail header: control characters (CR, LF, …) become one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def render(message: OutboxMessage) -> Message:
    """The e-mail for a row: subject, text and HTML parts from templates/email/."""
    with force_locale(message.locale):
        context = dict(message.context)
        subject = render_template(f"email/{message.template}.subject.txt", **context)
        body = render_template(f"email/{message.template}.txt", **context)
        html = render_template(f"email/{message.template}.html", **context)
    # The one chokepoint for headers: a title with a line break stays one line of subject, and
    # a recipient saved before addresses were validated fails here, not in the SMTP dialogue.
    recipient = emails.normalise(message.recipient, stand_in_ok=True)
    mail_message = Message(
        subject=header_text(subject), recipients=[recipient], body=body, html=html
    )
    mail_message.msgId = message.message_id or f"<outbox-{message.id}@intake.invalid>"
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
        .values(
            claimed_until=now + timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"]),
            claim_token=token,
        )
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
        except Exception as error:  # any error is this row's, never the loop's
            # A database error is rolled back first; if the row cannot be marked either, the
            # connection is gone and the error goes up to the worker, which reconnects.
            db.session.rollback()
            message = db.session.get(OutboxMessage, message_id)
            assert message is not None
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
            "outbox message %s (%s) failed for good after %s attempts: %s",
            message.id,
            message.template,
            message.attempts,
            message.last_error,
        )
    else:
        message.next_attempt_at = clock.now() + backoff(message.attempts)
        log.warning(
            "outbox message %s (%s) attempt %s failed: %s",
            message.id,
            message.template,
            message.attempts,
            message.last_error,
        )


class NotFailed(LookupError):
    """No failed message by that id (sent, still trying, or gone)."""


class NoRecipient(ValueError):
    """A failed message whose address was wiped when it was given up: it cannot be resent."""


def _failed_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.failed_at is None or message.sent_at is not None:
        raise NotFailed(message_id)
    return message


def requeue(message_id: int) -> OutboxMessage:
    """Give a failed message a fresh round of attempts (an admin's "try again"), in the
    caller's transaction. Raises NotFailed, or NoRecipient when its address is gone."""
    message = _failed_message(message_id)
    if message.recipient_protected is None:
        raise NoRecipient(message_id)
    message.failed_at, message.last_error, message.claimed_until = None, None, None
    message.attempts, message.next_attempt_at = 0, clock.now()
    return message


def dismiss(message_id: int) -> OutboxMessage:
    """Delete a failed message (an admin has dealt with it), in the caller's transaction; the
    row holds no address or content by then. Returns it for the audit record."""
    message = _failed_message(message_id)
    db.session.delete(message)
    return message


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
