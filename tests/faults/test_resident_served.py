"""The resident's side over real HTTP (gunicorn, 4 workers x 4 threads), SQLite or PostgreSQL:
twenty presses of "Skicka" with one cookie store one report, and a closed Redis port costs no
resident a 500 or a word typed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Report

from ..conftest import free_port
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD
from .resident_helpers import (
    REFERENCE,
    Answer,
    Browser,
    environment,
    gunicorn,
    setup_instance,
    walk,
    write_instance_config,
)

PRESSES = 20
NO_LIMIT = "100000 per minute"


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        reports = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
        mails = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "new_report")
        )
        return int(reports or 0), int(mails or 0)


def test_twenty_parallel_final_submits_of_one_draft_store_one_report(
    make_app: Callable[..., Flask], database_url: str, instance_path: Path, tmp_path: Path
) -> None:
    # Given a resident at the check page, served by gunicorn
    env = environment(
        instance_path,
        database_url,
        INTAKE_RATELIMIT_SUBMIT=NO_LIMIT,
        INTAKE_RATELIMIT_STEP=NO_LIMIT,
    )
    write_instance_config(instance_path)
    setup_instance(instance_path, env)
    app = make_app(SECRET_KEY=None, APP_KEYS=None)
    with gunicorn(env, tmp_path / "gunicorn.log") as port:
        browser = Browser(port)
        walk(browser, PRIVATE_ANONYMOUS_CHILD)
        # When twenty presses of "Skicka" with the same cookie are released at once
        gate = threading.Barrier(PRESSES)
        sent: list[Answer] = []
        shown: list[Answer] = []
        lock = threading.Lock()

        def press() -> None:
            gate.wait(timeout=30)
            answer = browser.post("/orosanmalan/granska", {"confirm": "ja"}, keep=False)
            location = answer.header("Location") or ""
            page = browser.get(location, keep=False) if location else answer
            with lock:
                sent.append(answer)
                shown.append(page)

        threads = [threading.Thread(target=press) for _ in range(PRESSES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        # And the resident presses once more afterwards
        again = browser.post("/orosanmalan/granska", {"confirm": "ja"}, keep=False)
        after = browser.get(again.header("Location") or "/", keep=False)
    # Then every press was answered with the receipt, never a 500 or an empty step 1
    assert len(sent) == PRESSES
    assert [a.status for a in sent] == [303] * PRESSES, [a.status for a in sent]
    assert {a.header("Location") for a in sent} == {"/orosanmalan/kvitto"}
    assert [p.status for p in shown] == [200] * PRESSES
    references = {m.group(0) for p in shown for m in REFERENCE.finditer(p.body)}
    assert len(references) == 1, references
    # And the press afterwards shows the same receipt
    assert again.status == 303 and again.header("Location") == "/orosanmalan/kvitto"
    assert after.status == 200 and references == set(REFERENCE.findall(after.body))
    # And exactly one report and one staff notification were stored
    assert _counts(app) == (1, 1)


def test_a_closed_redis_port_costs_no_500_and_no_answer(
    make_app: Callable[..., Flask], database_url: str, instance_path: Path, tmp_path: Path
) -> None:
    # Given gunicorn whose rate limits live in a Redis that nobody listens for
    closed = free_port()
    env = environment(
        instance_path,
        database_url,
        INTAKE_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed}/0",
        INTAKE_RATELIMIT_SUBMIT="3 per minute",
    )
    write_instance_config(instance_path)
    setup_instance(instance_path, env)
    app = make_app(SECRET_KEY=None, APP_KEYS=None)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log, workers=1) as port:
        # When a resident walks the whole journey and sends
        browser = Browser(port)
        walk(browser, PRIVATE_ANONYMOUS_CHILD)
        shown = browser.get("/orosanmalan/granska")
        sent = browser.post("/orosanmalan/granska", {"confirm": "ja"})
        receipt = browser.get("/orosanmalan/kvitto")
        # And then keeps pressing from the same address
        more = [browser.post("/orosanmalan/granska", {}).status for _ in range(4)]
    # Then every answer was kept and the report sent: no 500 anywhere
    assert shown.status == 200 and "Barnet är ofta hungrigt." in shown.body
    assert sent.status == 303 and receipt.status == 200 and REFERENCE.search(receipt.body)
    assert _counts(app) == (1, 1)
    # And the limit still holds, counted in the worker's memory (3 a minute: 1 + 2 more)
    assert more == [303, 303, 429, 429]
    # And the outage was logged once, by the one worker
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count("falling back to in-memory storage") == 1, text[-3000:]
    assert " 500 " not in text and "Traceback" not in text
