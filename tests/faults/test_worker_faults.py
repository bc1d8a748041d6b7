"""The worker as a real process against poison data, an SMTP outage, kill -9 and dropped
database connections: no 500, nothing lost, the worker alive at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import clock, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage

from ..conftest import POSTGRES, SMTPServer
from ..dialogues.helpers import errors, new_dialogue, sign_up
from ..reports.journey_helpers import PROFESSIONAL_ADULT
from .conftest import (
    WEB_APP_NAME,
    WORKER_APP_NAME,
    WorkerProcess,
    terminate_backends,
    wait_until,
)

pytestmark = pytest.mark.xdist_group("faults")


def queue(app: Flask, recipient: str, inbox: str) -> None:
    """A notification to one address, committed (as a web process would)."""
    with app.app_context():
        outbox.enqueue("new_report", recipient, {"inbox": inbox, "acute": False})
        db.session.commit()


def outbox_rows(app: Flask) -> list[OutboxMessage]:
    """Every outbox row, detached."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        db.session.remove()
        return found


def delivered(smtp: SMTPServer) -> Counter[str]:
    """How many copies of each subject arrived."""
    return Counter(subject(m) for m in smtp.mailbox.messages)


def subject(message: Message) -> str:
    """The decoded Subject header."""
    return str(make_header(decode_header(message["Subject"])))


def test_poison_addresses_and_titles_through_the_public_forms(
    app: Flask, smtp: SMTPServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given a running worker and a dialogue whose title carries a line break and a header
    worker = start_worker(smtp.port)
    dialogue_id = new_dialogue(app, title="Trygghet\r\nBcc: spion@example.org")
    client = app.test_client()
    # When residents sign up with poison addresses, they get a Swedish error, never a 500
    # (a line break never reaches a form: the one input gate, intake.textguard, answers 400 with
    # everything typed kept and the break made a space)
    for address, status in (
        ("åsa@skola.se", 200),
        ("pro@x.se\r\nBcc: x@y.se", 400),
        ("pro@x.se\nBcc: x@y.se", 400),
    ):
        response = sign_up(client, dialogue_id, address)
        assert response.status_code == status, address
        page = response.get_data(as_text=True)
        assert errors(page) if status == 200 else "pro@x.se Bcc: x@y.se" in page, address
    # And a professional reporter's poison address is refused on its step, what was typed kept
    for slug, data in PROFESSIONAL_ADULT.items():
        if slug == "dina-uppgifter":
            poison = {**data, "reporter_email": "pro@x.se\r\nBcc: x@y.se"}
            response = client.post(f"/orosanmalan/{slug}", data=poison)
            assert response.status_code == 400
            assert data["reporter_name"] in response.get_data(as_text=True)
            break
        assert client.post(f"/orosanmalan/{slug}", data=data).status_code == 302
    # And a poison row saved before addresses were validated sits in the queue
    queue(app, "åsa@skola.se", "Gammal rad")
    # When a resident signs up with a good address
    assert sign_up(client, dialogue_id, "anna@example.org").status_code == 303
    # Then the worker sends the confirmation, its subject one line, with no smuggled header
    wait_until(lambda: len(smtp.mailbox.messages) >= 1, what="the confirmation")
    [message] = smtp.mailbox.messages
    assert message["To"] == "anna@example.org"
    assert subject(message) == "Du är anmäld: Trygghet Bcc: spion@example.org"
    assert message["Bcc"] is None
    # And the poison row is marked, not fatal: the worker is alive and sends what comes next
    wait_until(lambda: outbox_rows(app)[0].attempts == 1, what="the poison row marked")
    assert outbox_rows(app)[0].last_error == "InvalidAddress"
    queue(app, "vuxna@example.org", "Efteråt")
    wait_until(lambda: len(smtp.mailbox.messages) == 2, what="the next mail")
    assert worker.alive, worker.log()
    assert worker.stop() == 0


def test_smtp_stopped_and_restarted(
    app: Flask, smtp: SMTPServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given a running worker and an SMTP server that is down
    worker = start_worker(smtp.port)
    smtp.stop()
    # When three notifications are queued, every attempt fails and backs off
    for n in range(3):
        queue(app, f"inbox{n}@example.org", f"Inkorg {n}")
    wait_until(lambda: all(row.attempts >= 1 for row in outbox_rows(app)), what="failed attempts")
    assert {row.last_error for row in outbox_rows(app)} <= {"ConnectionRefusedError"}
    # When the server is back and the backoff is over
    smtp.start()
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(next_attempt_at=clock.now() - timedelta(seconds=1))
        )
        db.session.commit()
    # Then every notification arrives, once, and the worker lives on
    wait_until(lambda: len(smtp.mailbox.messages) >= 3, what="three mails")
    assert delivered(smtp) == {f"Ny orosanmälan i inkorgen Inkorg {n}": 1 for n in range(3)}
    wait_until(lambda: all(row.sent_at for row in outbox_rows(app)), what="all recorded")
    assert worker.alive, worker.log()
    assert worker.stop() == 0


def test_kill_9_mid_batch_then_restart_sends_everything_at_least_once(
    app: Flask, slow_smtp: SMTPServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given 12 queued notifications and an SMTP server that takes 0.5 s per message
    slow_smtp.mailbox.delay = 0.5  # type: ignore[attr-defined]
    for n in range(12):
        queue(app, f"inbox{n}@example.org", f"Inkorg {n}")
    # When a worker has sent a few and is killed with SIGKILL mid-batch
    first = start_worker(slow_smtp.port)
    wait_until(lambda: len(slow_smtp.mailbox.messages) >= 3, what="the first mails")
    first.kill()
    left = [row for row in outbox_rows(app) if row.sent_at is None]
    assert left, "the kill came too late to be mid-batch"
    # And a new worker starts (as systemd's Restart=always would)
    second = start_worker(slow_smtp.port)
    # Then every notification arrives at least once
    expected = {f"Ny orosanmälan i inkorgen Inkorg {n}" for n in range(12)}
    wait_until(lambda: set(delivered(slow_smtp)) >= expected, timeout=90, what="all mails")
    wait_until(lambda: all(row.sent_at for row in outbox_rows(app)), what="all recorded")
    # And a message sent twice (killed between sending and recording) has one Message-ID
    ids: dict[str, set[str]] = {}
    for message in slow_smtp.mailbox.messages:
        ids.setdefault(subject(message), set()).add(str(message["Message-ID"]))
    assert all(len(found) == 1 for found in ids.values()), ids
    by_row = {row.message_id for row in outbox_rows(app)}
    assert {next(iter(found)) for found in ids.values()} == by_row
    assert second.alive, second.log()
    assert second.stop() == 0


@pytest.mark.skipif(not POSTGRES, reason="pg_terminate_backend is PostgreSQL's")
@pytest.mark.parametrize("pre_ping", [True, False], ids=["pre-ping", "no-pre-ping"])
def test_the_worker_survives_its_database_connection_being_terminated(
    app: Flask,
    smtp: SMTPServer,
    start_worker: Callable[..., WorkerProcess],
    database_url: str,
    pre_ping: bool,
) -> None:
    # Given a running worker that has sent a first mail; without pre-ping the dead connection
    # reaches the worker's loop itself (the path of a connection lost mid-round)
    options = {} if pre_ping else {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}}
    worker = start_worker(smtp.port, **options)
    queue(app, "first@example.org", "Före")
    wait_until(lambda: len(smtp.mailbox.messages) == 1, what="the first mail")
    # When its database connections are terminated three times over
    for n in range(3):
        wait_until(
            lambda: terminate_backends(database_url, WORKER_APP_NAME) > 0,
            what="a worker connection",
        )
        queue(app, f"after{n}@example.org", f"Efter {n}")
        # Then it reconnects and delivers what was queued meanwhile
        wait_until(lambda n=n: len(smtp.mailbox.messages) == n + 2, what=f"mail {n}")
    assert delivered(smtp) == {
        "Ny orosanmälan i inkorgen Före": 1,
        **{f"Ny orosanmälan i inkorgen Efter {n}": 1 for n in range(3)},
    }
    assert worker.alive, worker.log()
    if not pre_ping:
        assert "worker round failed (OperationalError" in worker.log()
    assert worker.stop() == 0


@pytest.mark.skipif(not POSTGRES, reason="pg_terminate_backend is PostgreSQL's")
def test_a_terminated_web_connection_costs_no_request_a_500(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    # Given a web app whose pooled connection is known to the server by name
    options: dict[str, Any] = {"connect_args": {"application_name": WEB_APP_NAME}}
    app = make_app(WTF_CSRF_ENABLED=False, SQLALCHEMY_ENGINE_OPTIONS=options)
    dialogue_id = new_dialogue(app)
    client = app.test_client()
    assert client.get(f"/dialoger/{dialogue_id}").status_code == 200
    # When the server terminates it (a restart, a failover, an operator)
    assert terminate_backends(database_url, WEB_APP_NAME) > 0
    # Then the next requests, reading and writing, succeed on a fresh connection
    assert client.get(f"/dialoger/{dialogue_id}").status_code == 200
    assert terminate_backends(database_url, WEB_APP_NAME) > 0
    assert sign_up(client, dialogue_id, "anna@example.org").status_code == 303
    assert client.get("/readyz").status_code in (200, 503)


@pytest.mark.skipif(not POSTGRES, reason="pg_terminate_backend is PostgreSQL's")
def test_without_pre_ping_the_same_fault_would_fail_a_request(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    # The control: proves the fault above is real, not absorbed by something else.
    options = {"connect_args": {"application_name": WEB_APP_NAME}, "pool_pre_ping": False}
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=options)
    dialogue_id = new_dialogue(app)
    client = app.test_client()
    assert client.get(f"/dialoger/{dialogue_id}").status_code == 200
    assert terminate_backends(database_url, WEB_APP_NAME) > 0
    # Without pre-ping the dead pooled connection reaches the request: the outage page (503,
    # intake.errors), not the dialogue
    assert client.get(f"/dialoger/{dialogue_id}").status_code == 503
