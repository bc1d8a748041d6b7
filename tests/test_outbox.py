"""The transactional outbox against a real SMTP server on loopback."""

from __future__ import annotations

import builtins
import re
import signal
import smtplib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap, clock, jobs, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage

from .conftest import POSTGRES, SMTPServer
from .reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT, walk

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
LOGIN_URL = "http://127.0.0.1:5000/personal/"
CHOICES = {
    "reporter_type",
    "anonymous",
    "subject_type",
    "guardians_aware",
    "acute_danger",
    "wants_feedback",
}
# Every text the two journeys type in: none of it may reach an e-mail.
ANSWERS = {
    value
    for journey in (PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT)
    for step in journey.values()
    for name, value in step.items()
    if isinstance(value, str) and len(value) > 3 and name not in CHOICES
}


@pytest.fixture
def mail_app(make_app: Callable[..., Flask], smtp: SMTPServer) -> Flask:
    """The app with default inboxes, sending to the loopback SMTP server."""
    app = make_app(WTF_CSRF_ENABLED=False, MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        bootstrap.run_setup()
    return app


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """The worker installs SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def subject_of(message: Message) -> str:
    """The decoded Subject header."""
    return str(make_header(decode_header(message["Subject"])))


def parts_of(message: Message) -> dict[str, str]:
    """The decoded text parts of a message by content type."""
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def words(text: str) -> set[str]:
    """The words of a text, lower case."""
    return {word.lower() for word in re.findall(r"\w+", text)}


def is_exception_name(text: str) -> bool:
    """Whether text is just the name of a built-in or smtplib exception class."""
    found = getattr(builtins, text, None) or getattr(smtplib, text, None)
    return isinstance(found, type) and issubclass(found, BaseException)


def deliver(app: Flask) -> int:
    """Run one delivery round in an app context."""
    with app.app_context():
        return outbox.deliver_due()


def send_report(app: Flask, steps: dict[str, dict[str, Any]]) -> None:
    """Walk the journey and check that it ended on the receipt."""
    response = walk(app.test_client(), steps)
    assert response.status_code == 303
    assert response.location == "/orosanmalan/kvitto"


def rows(app: Flask) -> list[OutboxMessage]:
    """Every outbox row, oldest first, detached from the session."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


@pytest.mark.parametrize(
    ("steps", "inbox", "address", "acute"),
    [
        (PRIVATE_ANONYMOUS_CHILD, "Barn och unga", "barnochunga@alvsbyn.invalid", False),
        (PROFESSIONAL_ADULT, "Vuxna", "vuxna@alvsbyn.invalid", True),
    ],
    ids=["child", "adult-acute"],
)
def test_notification_arrives_with_only_inbox_acute_and_link(
    mail_app: Flask,
    smtp: SMTPServer,
    steps: dict[str, dict[str, Any]],
    inbox: str,
    address: str,
    acute: bool,
) -> None:
    # Given a report sent through the journey
    send_report(mail_app, steps)
    # When the worker delivers what is due
    assert deliver(mail_app) == 1
    [message] = smtp.mailbox.wait_for(1)
    # Then one message went to the inbox's address, with subject, text and HTML parts
    assert message["To"] == address
    assert message["Cc"] is None and message["Bcc"] is None
    subject = subject_of(message)
    assert inbox in subject
    assert ("akut" in subject) is acute
    parts = parts_of(message)
    assert set(parts) == {"text/plain", "text/html"}
    yes_no = "ja" if acute else "nej"
    assert f"Akut enligt anmälaren: {yes_no}" in parts["text/plain"]
    assert f"inkorgen {inbox}." in parts["text/plain"]
    assert LOGIN_URL in parts["text/plain"]
    assert f'href="{LOGIN_URL}"' in parts["text/html"]
    assert f"<strong>{yes_no}</strong>" in parts["text/html"]
    # And nothing else: every word comes from the templates, the inbox name or the link
    allowed = words(" ".join(p.read_text(encoding="utf-8") for p in TEMPLATES.glob("new_report*")))
    allowed |= words(inbox) | words(LOGIN_URL) | {"sv"}
    for text in [subject, *parts.values()]:
        assert words(text) <= allowed, words(text) - allowed
    raw = smtp.mailbox.raw[0].decode("utf-8", "replace")
    for answer in ANSWERS:
        assert answer not in raw
        assert all(answer not in text for text in parts.values())


def test_outage_keeps_reports_and_retries_with_backoff(
    mail_app: Flask, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the SMTP server is down
    smtp.stop()
    # When residents send three reports
    for steps in (PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT, PRIVATE_ANONYMOUS_CHILD):
        send_report(mail_app, steps)
    # Then the worker sends nothing and records a failed attempt with backoff on each
    before = clock.now()
    assert deliver(mail_app) == 0
    queued = rows(mail_app)
    assert len(queued) == 3
    for row in queued:
        assert row.sent_at is None and row.failed_at is None and row.claimed_until is None
        assert row.attempts == 1
        assert row.last_error is not None
        assert is_exception_name(row.last_error), row.last_error
        assert row.next_attempt_at > clock.now()
        assert row.next_attempt_at >= before + outbox.backoff(1)
    # And nothing is retried before the backoff is over
    assert deliver(mail_app) == 0
    assert [row.attempts for row in rows(mail_app)] == [1, 1, 1]

    # When the server is back and the clock has passed the backoff
    smtp.start()
    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert deliver(mail_app) == 3
    # Then every notification arrives exactly once
    assert deliver(mail_app) == 0
    messages = smtp.mailbox.wait_for(3)
    assert len(messages) == 3
    assert Counter((m["To"], subject_of(m)) for m in messages) == {
        ("barnochunga@alvsbyn.invalid", "Ny orosanmälan i inkorgen Barn och unga"): 2,
        ("vuxna@alvsbyn.invalid", "Ny orosanmälan (akut) i inkorgen Vuxna"): 1,
    }
    for row in rows(mail_app):
        assert row.sent_at == later and row.attempts == 1
    with mail_app.app_context():
        assert outbox.pending_count() == 0


def test_gives_up_after_the_configured_attempts(
    make_app: Callable[..., Flask],
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a queued message and a server that stays down
    app = make_app(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False, OUTBOX_MAX_ATTEMPTS=3)
    with app.app_context():
        outbox.enqueue("new_report", "x@alvsbyn.invalid", {"inbox": "X", "acute": False})
        db.session.commit()
    smtp.stop()
    moment = datetime.now(UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    # When the worker tries every time the backoff allows
    for _ in range(5):
        deliver(app)
        moment += timedelta(hours=2)
    # Then it gave up after three attempts and said so in the log (without the address)
    [row] = rows(app)
    assert row.attempts == 3
    assert row.failed_at is not None and row.sent_at is None
    with app.app_context():
        assert outbox.pending_count() == 0
    assert "failed for good" in caplog.text
    assert "x@alvsbyn.invalid" not in caplog.text


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        (0, 30),
        (1, 30),
        (2, 60),
        (3, 120),
        (4, 240),
        (5, 480),
        (6, 960),
        (7, 1920),
        (8, 3600),  # 3,840 capped at an hour
        (12, 3600),
        (1000, 3600),
    ],
)
def test_backoff(attempts: int, seconds: int) -> None:
    assert outbox.backoff(attempts) == timedelta(seconds=seconds)


def test_nothing_is_queued_unless_the_transaction_commits(mail_app: Flask) -> None:
    with mail_app.app_context():
        outbox.enqueue("new_report", "x@alvsbyn.invalid", {"inbox": "X", "acute": False})
        db.session.rollback()
        assert outbox.pending_count() == 0


@pytest.mark.skipif(not POSTGRES, reason="several workers need SKIP LOCKED (PostgreSQL only)")
def test_two_workers_send_each_message_exactly_once(
    make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    # Given 30 queued messages, each recognisable by its subject
    first, second = (
        make_app(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False),
        make_app(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False),
    )
    with first.app_context():
        for n in range(30):
            outbox.enqueue(
                "new_report", f"inbox{n}@alvsbyn.invalid", {"inbox": f"Inkorg {n}", "acute": False}
            )
        db.session.commit()
    # When two workers, each with its own app and connection pool, deliver at the same time
    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def work(app: Flask) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                total = 0
                while (count := outbox.deliver_due(limit=50)) > 0:
                    total += count
                sent.append(total)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then every message arrived exactly once
    assert not errors, errors
    assert sum(sent) == 30
    messages = smtp.mailbox.wait_for(30)
    counts = Counter(subject_of(m) for m in messages)
    assert counts == Counter({f"Ny orosanmälan i inkorgen Inkorg {n}": 1 for n in range(30)})
    with first.app_context():
        assert outbox.pending_count() == 0


def test_cli_work_once_delivers_and_reports(
    mail_app: Flask, smtp: SMTPServer, restore_signals: None
) -> None:
    # Given a queued notification (and no reports, so no deadline digest joins it)
    with mail_app.app_context():
        outbox.enqueue(
            "new_report",
            "barnochunga@alvsbyn.invalid",
            {"inbox": "Barn och unga", "acute": False, "login_url": LOGIN_URL},
        )
        db.session.commit()
    # When `flask --app intake outbox work --once` runs
    result = mail_app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    # Then it sends, says so in Swedish, and the notification arrives
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 skickade, 0 kvar i kön."
    [message] = smtp.mailbox.wait_for(1)
    assert message["To"] == "barnochunga@alvsbyn.invalid"
    # And a second run has nothing left to do
    again = mail_app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert again.output.strip() == "0 skickade, 0 kvar i kön."
    assert len(smtp.mailbox.messages) == 1


def test_once_runs_the_jobs_once(
    mail_app: Flask, monkeypatch: pytest.MonkeyPatch, restore_signals: None
) -> None:
    runs: list[None] = []
    monkeypatch.setattr(jobs, "run_due", lambda: runs.append(None))
    result = mail_app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert len(runs) == 1


def queue(app: Flask, recipient: str, template: str = "new_report", **context: Any) -> None:
    """Queue one message (committed)."""
    with app.app_context():
        outbox.enqueue(template, recipient, {"inbox": "X", "acute": False, **context})
        db.session.commit()


@pytest.mark.parametrize(
    ("recipient", "template", "context", "error"),
    [
        # Saved before addresses were validated: a non-ASCII local part, a header injection.
        ("åsa@skola.se", "new_report", {}, "InvalidAddress"),
        ("pro@x.se\r\nBcc: x@y.se", "new_report", {}, "InvalidAddress"),
        ("", "new_report", {}, "InvalidAddress"),
        # A template that is missing or raises while rendering, an unknown attachment.
        ("ok@example.org", "no_such_template", {}, "TemplateNotFound"),
        ("ok@example.org", "new_report", {"attachments": ["nope"]}, "KeyError"),
    ],
    ids=["non-ascii", "crlf", "empty", "no-template", "bad-attachment"],
)
def test_a_poison_row_is_marked_and_the_others_still_go(
    make_app: Callable[..., Flask],
    smtp: SMTPServer,
    caplog: pytest.LogCaptureFixture,
    recipient: str,
    template: str,
    context: dict[str, Any],
    error: str,
) -> None:
    # Given a poison message between two good ones, and two attempts allowed
    app = make_app(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False, OUTBOX_MAX_ATTEMPTS=2)
    queue(app, "first@example.org")
    queue(app, recipient, template, **context)
    queue(app, "last@example.org")
    # When the worker delivers
    assert deliver(app) == 2
    # Then the good ones arrived and the poison row counts a failed attempt with backoff
    assert [m["To"] for m in smtp.mailbox.wait_for(2)] == ["first@example.org", "last@example.org"]
    poison = rows(app)[1]
    assert (poison.attempts, poison.last_error, poison.failed_at) == (1, error, None)
    assert poison.claimed_until is None and poison.next_attempt_at > clock.now()
    # When its backoff is over and it fails again, it is given up and its address wiped
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(next_attempt_at=clock.now() - timedelta(seconds=1))
        )
        db.session.commit()
    assert deliver(app) == 0
    poison = rows(app)[1]
    assert poison.attempts == 2 and poison.failed_at is not None
    assert poison.recipient_protected is None
    with app.app_context():
        assert outbox.pending_count() == 0
    # And nothing was sent to an injected address, and the log holds no address
    assert len(smtp.mailbox.messages) == 2
    for text in ("åsa", "pro@x.se", "x@y.se", "first@", "last@"):
        assert text not in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        "Barn\r\nBcc: x@y.se",
        "Barn\nBcc: x@y.se",
        "Barn\rBcc: x@y.se",
        "Barn\x00\x1b\u2028Bcc: x@y.se",
    ],
)
def test_a_name_with_line_breaks_stays_one_line_of_subject(
    mail_app: Flask, smtp: SMTPServer, name: str
) -> None:
    # Given a notification whose subject carries a name with control characters
    queue(mail_app, "barnochunga@alvsbyn.invalid", inbox=name)
    # When it is sent
    assert deliver(mail_app) == 1
    [message] = smtp.mailbox.wait_for(1)
    # Then the name is one line in the subject and adds no header
    assert subject_of(message) == "Ny orosanmälan i inkorgen Barn Bcc: x@y.se"
    assert message["Bcc"] is None and message["Cc"] is None
    headers = smtp.mailbox.raw[0].split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("a\r\nb", "a b"),
        ("  a \t b  ", "a b"),
        ("a\u2028b\u2029c", "a b c"),
        ("a\x00b\x7fc\x85d", "a b c d"),
        ("Ålesund – möte", "Ålesund – möte"),
    ],
)
def test_header_text(text: str, clean: str) -> None:
    assert outbox.header_text(text) == clean


def test_each_row_keeps_its_message_id_on_a_resend(
    mail_app: Flask, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a queued message
    queue(mail_app, "barnochunga@alvsbyn.invalid")
    [row] = rows(mail_app)
    assert re.fullmatch(r"<[0-9a-f]{32}@alvsbyn\.invalid>", row.message_id or "")
    # When the worker dies right after sending, before it could record the send
    real_send = outbox.mail.send

    def send_then_die(message: Any) -> None:
        real_send(message)
        raise KeyboardInterrupt  # not an Exception: nothing in the outbox catches it

    monkeypatch.setattr(outbox.mail, "send", send_then_die)
    with pytest.raises(KeyboardInterrupt), mail_app.app_context():
        outbox.deliver_due()
    monkeypatch.setattr(outbox.mail, "send", real_send)
    # Then the row is still claimed and unsent; once the claim runs out it is sent again
    [row] = rows(mail_app)
    assert row.sent_at is None and row.claimed_until is not None
    with mail_app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(claimed_until=clock.now() - timedelta(seconds=1))
        )
        db.session.commit()
    assert deliver(mail_app) == 1
    # And both copies carry the row's Message-ID
    first, second = smtp.mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == row.message_id


def test_message_ids_differ_between_rows(mail_app: Flask) -> None:
    for n in range(5):
        queue(mail_app, f"n{n}@example.org")
    assert len({row.message_id for row in rows(mail_app)}) == 5
