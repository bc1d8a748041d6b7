"""The channel between caseworkers and the reporter of a report (issue 12 §3).

What each party can read:

- A caseworker's question is sealed twice with HPKE, both copies bound to the report id and
  the message id: once to the reporter's key pair, derived from the follow-up code
  (intake.crypto.codekeys; the report keeps only the public key), and once to the inbox, so the
  caseworkers see what they sent. Neither the server nor a database copy can open either copy:
  the reporter's private key exists only while a request that carries the typed code runs, and
  the inbox key only in an unlocked staff session.
- The reporter's answer is sealed to the inbox (like additions) and to the reporter's key, so
  the reporter sees the whole conversation again with the code.
- A question to a reporter who gave their name and signed in with e-legitimation when
  reporting (a NamedReporter) is kept a third time, so that they can read it at
  /orosanmalan/mina-anmalningar after signing in again as the same person, without the code:
  protected under the application key and tagged with a keyed hash of the personnummer
  (intake.reports.verified_reporter, as återkoppling). That copy the running server can read
  (it holds the instance secrets); a database copy, a backup or the logs cannot. Anonymous
  reporters and reporters who did not sign in get no such copy: for them only the code opens
  the question. The reporter's answers are never kept that way: sealed to the inbox and the
  code's key only, in the same function (`answer`) whichever way the reporter came in; the
  signed-in page shows only that and when they answered.
- Plain columns say only that something waits (Report.channel_flag) and when; who sent a
  message on the staff side (the caseworker's address) and when. Nothing of the text goes to
  logs, mail or plain columns. Only a named, verified reporter with an e-mail address gets a
  mail, and it says only that a message is waiting and where; anonymous reporters get none.
- Messages are append-only: there is no edit and no delete, except the purge (gallring), which
  removes both sealed copies with the rest of the report's content.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from intake import audit, clock, outbox
from intake.accounts.models import User
from intake.crypto import CryptoError, codekeys, custody, sealing
from intake.extensions import db
from intake.reports import choices as c
from intake.reports import followup, service, verified_reporter
from intake.reports.models import ChannelMessage, Inbox, Report

TO_REPORTER = "to_reporter"
FROM_REPORTER = "from_reporter"
UNANSWERED = "unanswered"
NEW = "new"
MAX_LENGTH = 4000


class ChannelError(Exception):
    """A channel action that cannot be done; the message is Swedish."""


@dataclass(frozen=True)
class Shown:
    """One opened message for one request."""

    id: str
    sent_at: datetime
    direction: str
    author: str | None
    text: str | None  # None: not readable here (a signed-in reporter's own answer)


@dataclass(frozen=True)
class NamedReporter:
    """A reporter who gave their name and was verified with e-legitimation when reporting."""

    personnummer: str
    address: str | None  # the e-mail address they typed, if any


@dataclass(frozen=True)
class Conversation:
    """The questions to a signed-in reporter on one report, and when they answered."""

    report_id: str
    reference: str
    messages: list[Shown]

    @property
    def waiting(self) -> bool:
        """Whether the last word is the caseworkers' (a question waits for an answer)."""
        return bool(self.messages) and self.messages[-1].direction == TO_REPORTER


MINE_PATH = "/orosanmalan/mina-anmalningar"


def _context(message: ChannelMessage, *, to: str) -> bytes:
    return f"intake:channel:v1:{to}:{message.report_id}:{message.id}".encode()


def inbox_context(message: ChannelMessage, inbox_id: int) -> bytes:
    """What a message's copy for the caseworkers is bound to."""
    return _context(message, to=f"inbox:{inbox_id}")


def available(report: Report) -> bool:
    """Whether the report has a channel (reports from before it have no public key)."""
    return report.channel_public_key is not None and report.purged_at is None


def _messages(report: Report) -> list[ChannelMessage]:
    return list(
        db.session.scalars(
            sa.select(ChannelMessage)
            .where(ChannelMessage.report_id == report.id)
            .order_by(ChannelMessage.sent_at, ChannelMessage.id)
        )
    )


def new_message(report: Report, direction: str) -> ChannelMessage:
    """A new channel message of a report (not yet added to the session)."""
    return ChannelMessage(
        id=str(uuid.uuid4()), report_id=report.id, sent_at=clock.now(), direction=direction
    )


def _seal_both(message: ChannelMessage, text: str, report: Report) -> None:
    assert report.channel_public_key is not None
    plaintext = text.encode()
    message.sealed = sealing.seal(
        plaintext, report.inbox.public_key, context=inbox_context(message, report.inbox_id)
    )
    message.sealed_reporter = sealing.seal(
        plaintext, report.channel_public_key, context=_context(message, to="reporter")
    )


def _flag(report: Report, flag: str | None) -> None:
    report.channel_flag = flag
    report.channel_flag_at = clock.now() if flag else None


def named_reporter(report: Report, secret: custody.InboxSecret) -> NamedReporter | None:
    """The named reporter verified with e-legitimation, opened with the inbox key; or None."""
    personnummer = verified_reporter.verified_personnummer(
        service.open_verified(report, secret.private)
    )
    if personnummer is None:
        return None
    answers = service.open_answers(report, secret.private)
    if answers.get("anonymous") == c.YES:
        return None  # never kept for sign-in, whatever was sealed
    return NamedReporter(personnummer, str(answers.get("reporter_email") or "") or None)


def ask(
    report: Report,
    text: str,
    *,
    user: User,
    named: NamedReporter | None = None,
    base_url: str = "",
) -> ChannelMessage:
    """A caseworker's question to the reporter, sealed to the reporter and the inbox. Commits.

    For a named reporter verified with e-legitimation it is also kept for reading after
    sign-in, and a mail to their address (if any) says only that a message is waiting."""
    if not available(report):
        raise ChannelError("Det går inte att skicka meddelanden till den här anmälaren.")
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        raise ChannelError(f"Skriv en fråga på högst {MAX_LENGTH} tecken.")
    message = new_message(report, TO_REPORTER)
    message.author_id, message.author_label = user.id, user.email
    _seal_both(message, text, report)
    if named is not None:
        verified_reporter.protect(message, text.encode(), named.personnummer)
        if named.address:
            outbox.enqueue("channel_waiting", named.address, {"url": f"{base_url}{MINE_PATH}"})
    db.session.add(message)
    _flag(report, UNANSWERED)
    audit.record(
        "channel_question_sent",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()
    return message


def answer(report: Report, text: str) -> ChannelMessage:
    """The reporter's answer (with the code or signed in), sealed to the inbox. Commits."""
    if not available(report):
        raise ChannelError("Det går inte att svara på den här anmälan.")
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        raise ChannelError(f"Skriv ett svar på högst {MAX_LENGTH} tecken.")
    message = new_message(report, FROM_REPORTER)
    _seal_both(message, text, report)
    db.session.add(message)
    _flag(report, NEW)
    audit.record(
        "channel_answer_received",
        actor_id=None,
        actor="anmälare",
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()
    return message


def _staff_text(message: ChannelMessage, plaintext: bytes) -> str:
    # Återkoppling (intake.reports.feedback) holds the decision only; shown by its label.
    if message.direction == "feedback":
        return str(json.loads(plaintext)["decision"])
    return plaintext.decode()


def for_staff(report: Report, secret: custody.InboxSecret) -> list[Shown]:
    """The conversation opened with the inbox key, for one staff request."""
    return [
        Shown(
            id=m.id,
            sent_at=m.sent_at,
            direction=m.direction,
            author=m.author_label,
            text=_staff_text(
                m,
                sealing.open_sealed(
                    m.sealed, secret.private, context=inbox_context(m, report.inbox_id)
                ),
            ),
        )
        for m in _messages(report)
        if m.sealed is not None
    ]


def seen_by_staff(report: Report) -> None:
    """A caseworker opened the report: a new answer is no longer new (the caller commits)."""
    if report.channel_flag == NEW:
        _flag(report, None)


def has_question(report: Report) -> bool:
    """Whether a caseworker has written to the reporter (the reporter then may answer)."""
    return (
        db.session.scalar(
            sa.select(ChannelMessage.id)
            .where(ChannelMessage.report_id == report.id, ChannelMessage.direction == TO_REPORTER)
            .limit(1)
        )
        is not None
    )


def for_reporter(report: Report, typed_code: str) -> list[Shown]:
    """The conversation opened with the key derived from the code typed in this request."""
    if not available(report):
        return []
    private = codekeys.private_from_code(followup.normalise(typed_code))
    if sealing.public_from_private(private) != report.channel_public_key:
        return []  # not this report's code: nothing (followup.find already checked it)
    shown = []
    for m in _messages(report):
        if m.sealed_reporter is None:
            continue
        try:
            text = sealing.open_sealed(
                m.sealed_reporter, private, context=_context(m, to="reporter")
            ).decode()
        except CryptoError:
            continue
        shown.append(
            Shown(id=m.id, sent_at=m.sent_at, direction=m.direction, author=None, text=text)
        )
    return shown


def _tagged_questions(personnummer: str) -> sa.Select[str]:
    return sa.select(ChannelMessage.report_id).where(
        ChannelMessage.reporter_tag.in_(verified_reporter.tags(personnummer)),
        ChannelMessage.direction == TO_REPORTER,
    )


def conversations_for(personnummer: str) -> list[Conversation]:
    """The questions kept for a personnummer signed in with e-legitimation, per report."""
    reports = db.session.scalars(
        sa.select(Report)
        .where(Report.id.in_(_tagged_questions(personnummer)), Report.purged_at.is_(None))
        .order_by(Report.received_at.desc())
    ).all()
    return [_conversation(report, personnummer) for report in reports]


def _conversation(report: Report, personnummer: str) -> Conversation:
    mine = set(verified_reporter.tags(personnummer))
    shown = []
    for m in _messages(report):
        if m.direction == FROM_REPORTER:
            shown.append(Shown(m.id, m.sent_at, m.direction, None, None))
        elif m.direction == TO_REPORTER and m.reporter_tag in mine:
            opened = verified_reporter.unprotect(m)
            if opened is not None:
                shown.append(Shown(m.id, m.sent_at, m.direction, None, opened.decode()))
    return Conversation(report.id, report.reference, shown)


def conversation_for(report_id: str, personnummer: str) -> Conversation | None:
    """One report's conversation, only if it has a question kept for this personnummer."""
    report = db.session.get(Report, report_id)
    if report is None or not available(report):
        return None
    owned = db.session.scalar(
        _tagged_questions(personnummer).where(ChannelMessage.report_id == report.id).limit(1)
    )
    return _conversation(report, personnummer) if owned is not None else None


def answer_signed_in(report_id: str, personnummer: str, text: str) -> ChannelMessage:
    """The signed-in reporter answers: the same sealing as with the code (`answer`). Commits."""
    report = db.session.get(Report, report_id)
    if report is None or conversation_for(report_id, personnummer) is None:
        raise ChannelError("Det går inte att svara på den här anmälan.")
    return answer(report, text)


def reseal_for_move(report: Report, secret: custody.InboxSecret, target: Inbox) -> None:
    """Re-seal the caseworkers' copies to another inbox (handling.move; the caller commits)."""
    for m in _messages(report):
        if m.sealed is None:
            continue
        text = sealing.open_sealed(
            m.sealed, secret.private, context=inbox_context(m, report.inbox_id)
        )
        m.sealed = sealing.seal(text, target.public_key, context=inbox_context(m, target.id))


def purge(report_id: str) -> None:
    """Remove both sealed copies of every message of a purged report (the caller commits)."""
    db.session.execute(
        sa.update(ChannelMessage)
        .where(ChannelMessage.report_id == report_id)
        .values(sealed=None, sealed_reporter=None, protected=None, reporter_tag=None)
    )


def waiting_counts(inbox_id: int) -> int:
    """Reports of an inbox with a reporter's answer no caseworker has read (the digest)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(
                Report.inbox_id == inbox_id,
                Report.channel_flag == NEW,
                Report.purged_at.is_(None),
            )
        )
        or 0
    )
