"""Canaries: nothing a reporter types shows up in the database, files, logs or e-mail.

Every free-text answer carries a unique marker. After the whole journey, the notification and
a worker run, the markers must be absent from everything a thief of the server could copy
without a staff session or a recovery code (threat model, point 1).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.identity import luhn_check_digit
from intake.reports.models import Report
from intake.reports.service import open_answers

from .conftest import POSTGRES, SMTPServer
from .reports.journey_helpers import walk

REMOTE_ADDR = "127.0.0.1"
USER_AGENT = f"Mozilla/5.0 (X11; Linux x86_64) CanaryBrowser/{uuid.uuid4().hex}"


def canary(field: str) -> str:
    """A unique marker for one field."""
    return f"CANARY-{field}-{uuid.uuid4().hex}"


def personnummer(yymmdd: str, serial: str) -> tuple[str, str, str]:
    """A valid personnummer: (12 digits with dash, 12 digits, 10 digits)."""
    check = luhn_check_digit(yymmdd + serial)
    century = "20" if int(yymmdd[:2]) < 26 else "19"
    return (
        f"{century}{yymmdd}-{serial}{check}",
        f"{century}{yymmdd}{serial}{check}",
        f"{yymmdd}{serial}{check}",
    )


CHILD_NUMBER = personnummer("150317", "238")
GUARDIAN_NUMBER = personnummer("830911", "417")


def journey() -> tuple[dict[str, dict[str, Any]], list[str]]:
    """A professional's report about a child with a canary in every text field."""
    texts: dict[str, dict[str, str]] = {
        "personen": {
            name: canary(name)
            for name in (
                "first_name",
                "last_name",
                "address",
                "phone",
                "school",
                "school_class",
                "language",
            )
        },
        "vardnadshavare": {
            f"guardian{n}_{part}": canary(f"guardian{n}_{part}")
            for n in (1, 2)
            for part in ("name", "address", "phone", "language")
        },
        "oro": {
            name: canary(name)
            for name in (
                "what_happened",
                "why_now",
                "heard_from",
                "how_long",
                "what_could_happen",
                "acute_how",
                "where_now",
                "other_children",
                "consider_before_contact",
            )
        },
        "dina-uppgifter": {
            name: canary(name)
            for name in (
                "reporter_name",
                "reporter_phone",
                "relationship",
                "workplace",
                "role",
                "information_received_by",
            )
        },
    }
    email = f"{canary('reporter_email').lower()}@skola.example"
    steps: dict[str, dict[str, Any]] = {
        "om-dig": {"reporter_type": "yrkesverksam", "anonymous": "nej"},
        "personen": {
            "subject_type": "barn",
            "identity_number": CHILD_NUMBER[0],
            "interpreter": "ja",
            **texts["personen"],
        },
        "vardnadshavare": {
            "guardians_aware": "nej",
            "guardian1_identity": GUARDIAN_NUMBER[0],
            "guardian1_interpreter": "ja",
            "guardian2_interpreter": "ja",
            **texts["vardnadshavare"],
        },
        "oro": {
            "categories": ["fysiskt_vald", "omsorgssvikt"],
            "seen_or_heard": "andra",
            "acute_danger": "ja",
            "subject_knows": "nej",
            **texts["oro"],
        },
        "dina-uppgifter": {
            "reporter_email": email,
            "information_received_on": "2026-01-10",
            "informed_family": "nej",
            "willing_to_meet": "ja",
            "wants_feedback": "ja",
            **texts["dina-uppgifter"],
        },
    }
    secrets = [value for step in texts.values() for value in step.values()]
    secrets += [email, *CHILD_NUMBER, *GUARDIAN_NUMBER]
    return steps, secrets


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """`outbox work` installs SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def database_copy(app: Flask) -> dict[str, bytes]:
    """Everything a copy of the database holds: its files (SQLite) or a pg_dump."""
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database
        files = sorted(Path(url.database).parent.glob(Path(url.database).name + "*"))
        assert any(f.name.endswith("-wal") for f in files), files  # WAL is on, and read
        return {str(path): path.read_bytes() for path in files}
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump must be on PATH for the PostgreSQL run"
    target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        [pg_dump, "--data-only", "--no-owner", target], check=True, capture_output=True
    ).stdout
    assert b"COPY public.report" in dump
    return {"pg_dump": dump}


def instance_files(folder: Path) -> dict[str, bytes]:
    """Every file in the instance folder."""
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def decoded(messages: list[Message]) -> bytes:
    """The headers and the decoded parts of messages (bodies may be base64 on the wire)."""
    chunks: list[bytes] = []
    for message in messages:
        chunks += [str(make_header(decode_header(v))).encode() for v in message.values()]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                chunks.append(payload)
    return b"\n".join(chunks)


def assert_absent(needles: list[str], haystacks: dict[str, bytes]) -> None:
    """No needle, as UTF-8 bytes, in any haystack."""
    found = [
        (needle, where)
        for where, data in haystacks.items()
        for needle in needles
        if needle.encode("utf-8") in data
    ]
    assert found == []


def test_no_canary_leaves_the_sealed_report(
    make_app: Callable[..., Flask],
    smtp: SMTPServer,
    instance_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    restore_signals: None,
) -> None:
    # Given logging at its most talkative, SQL statements included
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    app = make_app(
        WTF_CSRF_ENABLED=False,
        MAIL_PORT=smtp.port,
        MAIL_SUPPRESS_SEND=False,
        BASE_URL="http://intake.alvsbyn.example",
    )
    with app.app_context():
        codes = bootstrap.run_setup().recovery_codes
    steps, secrets = journey()
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": REMOTE_ADDR, "HTTP_USER_AGENT": USER_AGENT})

    # When a professional walks the whole journey with a canary in every field
    walk(client, steps, send=False)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    response = client.post("/orosanmalan/granska", data={"confirm": "ja"})
    assert response.status_code == 303
    receipt = client.get(response.location).get_data(as_text=True)
    # And the worker delivers the notification and runs its jobs
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sent = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_not(None))
        )
        assert sent and outbox.pending_count() == 0
    smtp.mailbox.wait_for(sent)
    raw_mail = smtp.mailbox.raw
    assert len(raw_mail) == sent  # the notification, and perhaps the deadline digest

    # Then the report is whole: every canary is inside the sealed answers
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report is not None
        key = bootstrap.unlock_with_recovery_code(report.inbox, codes["Barn och unga"])
        opened = repr(open_answers(report, key))
    undashed = {*CHILD_NUMBER[1:], *GUARDIAN_NUMBER[1:]}  # stored as typed, with the dash
    assert [s for s in secrets if s not in undashed and s not in opened] == []
    # And no canary is anywhere else a copy of the server would hold
    out, err = capfd.readouterr()
    logs = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "INSERT INTO report" in logs  # SQL logging really was on
    database = database_copy(app)
    assert_absent(
        secrets,
        {
            **database,
            **instance_files(instance_path),
            "logs": logs.encode(),
            "stdout": out.encode(),
            "stderr": err.encode(),
            "cli output": result.output.encode(),
            "mail": b"".join(raw_mail),
            "mail, decoded": decoded(smtp.mailbox.messages),
            "session cookie": repr(session).encode(),
            "receipt page": receipt.encode(),
        },
    )
    # And the database keeps no trace of where the report came from
    assert_absent([REMOTE_ADDR, USER_AGENT, USER_AGENT.split("/")[-1]], database)


@pytest.mark.skipif(POSTGRES, reason="the SQLite files only exist on the embedded database")
def test_sqlite_files_are_found(make_app: Callable[..., Flask]) -> None:
    # Guards the canary test above: it must really read the files the database writes.
    app = make_app()
    with app.app_context():
        bootstrap.run_setup()
        path = db.engine.url.database
    files = database_copy(app)
    assert str(path) in files
    assert any(b"Barn och unga" in data for data in files.values())
    assert os.path.getsize(str(path)) > 0
