"""Never overbooked: at least 50 concurrent sign-ups at the last 10 seats, over real HTTP.

The service runs under gunicorn (4 worker processes x 4 threads) on this test's database,
SQLite or PostgreSQL, whichever INTAKE_DATABASE_URL selects. Every contender is released at
once by a barrier; the database must end with exactly `capacity` people confirmed and the
others on the waiting list in the order they were told.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import appkeys, clock
from intake.dialogues import service, views
from intake.dialogues.models import CONFIRMED, WAITLISTED, Dialogue, Registration
from intake.extensions import db
from intake.outbox import OutboxMessage

from ..conftest import FAST_ARGON2
from ..served import BIN, ROOT, gunicorn

CAPACITY = 30
LAST_SEATS = 10
CONTENDERS = 50
REQUEST_SECONDS = 60


@dataclass
class Served:
    """gunicorn serving the app, and an in-process app on the same database and secrets."""

    port: int
    app: Flask
    log: Path


def _environment(instance: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "INTAKE_INSTANCE_PATH": str(instance),
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_RATELIMIT_SIGNUP": "100000 per minute",
    }


def _write_instance_config(instance: Path) -> None:
    # CSRF is tested elsewhere; here every contender posts a bare form. A cheap Argon2id keeps
    # `setup` fast (recovery codes and the first admin's password).
    lines = ["WTF_CSRF_ENABLED = False", *(f"{k} = {v!r}" for k, v in FAST_ARGON2.items())]
    (instance / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"


@pytest.fixture
def served(
    make_app: Callable[..., Flask], database_url: str, instance_path: Path, tmp_path: Path
) -> Iterator[Served]:
    """Secrets, instance config and `flask setup`, then gunicorn on a free port."""
    env = _environment(instance_path, database_url)
    _write_instance_config(instance_path)
    _run([str(BIN / "python"), "-m", "intake.secrets", "create", str(instance_path)], env)
    _run([str(BIN / "flask"), "--app", "intake", "setup"], env)
    # The in-process app reads the same secrets file as gunicorn's workers.
    app = make_app(SECRET_KEY=None, APP_KEYS=None)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log, workers=4, ready="/dialoger/") as server:
        yield Served(port=server.port, app=app, log=log)


def _dialogue_with_last_seats(app: Flask) -> int:
    """A dialogue with CAPACITY seats of which all but LAST_SEATS are taken."""
    with app.app_context():
        now = clock.now()
        dialogue = Dialogue(
            title="Trygghet i centrum",
            hosts=["polisen", "kommunen"],
            starts_at=now + timedelta(days=14),
            ends_at=now + timedelta(days=14, hours=2),
            place="Folkets hus",
            capacity=CAPACITY,
            created_at=now,
            updated_at=now,
        )
        db.session.add(dialogue)
        db.session.commit()
        for n in range(CAPACITY - LAST_SEATS):
            result = service.register(
                dialogue,
                service.Person(name=f"Tidig {n}", email=f"tidig{n}@example.com"),
                party_size=1,
                locale="sv",
                keys=appkeys.keys(),
                tag_secret=views.tag_secret(),
                links=views.links(),
            )
            assert result.position is None
        return dialogue.id


def _sign_up(port: int, dialogue_id: int, email: str, barrier: threading.Barrier) -> tuple:
    body = urlencode({"name": f"Person {email}", "email": email, "party_size": "1", "privacy": "y"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
    try:
        conn.connect()  # connected before the barrier: the requests leave together
        barrier.wait(timeout=REQUEST_SECONDS)
        conn.request(
            "POST",
            f"/dialoger/{dialogue_id}/anmalan",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        conn.close()


def test_fifty_concurrent_signups_at_the_last_ten_seats(served: Served) -> None:
    # Given a dialogue with 30 seats of which 20 are taken, served by gunicorn
    dialogue_id = _dialogue_with_last_seats(served.app)
    emails = [f"kandidat{n}@example.com" for n in range(CONTENDERS)]
    barrier = threading.Barrier(CONTENDERS)
    outcomes: dict[str, tuple | BaseException] = {}

    def contend(email: str) -> None:
        try:
            outcomes[email] = _sign_up(served.port, dialogue_id, email, barrier)
        except BaseException as error:  # reported below, with the e-mail it belongs to
            outcomes[email] = error

    # When 50 residents press "Anmäl mig" at the same moment
    threads = [threading.Thread(target=contend, args=(email,)) for email in emails]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_SECONDS * 2)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "sign-ups did not finish in time"

    # Then every one of them got a redirect, none an error
    log = served.log.read_text(encoding="utf-8", errors="replace")
    failures = {e: o for e, o in outcomes.items() if not isinstance(o, tuple) or o[0] != 303}
    assert failures == {}, f"{failures}\n{log}"
    assert "Traceback" not in log
    # And exactly 10 were confirmed, the other 40 told places 1..40, each exactly once
    told = {email: outcome[1].rsplit("/", 1)[-1] for email, outcome in outcomes.items()}
    confirmed_now = {email for email, status in told.items() if status == "bekraftad"}
    positions = {int(s.removeprefix("reserv-")): e for e, s in told.items() if s != "bekraftad"}
    assert len(confirmed_now) == LAST_SEATS
    assert sorted(positions) == list(range(1, CONTENDERS - LAST_SEATS + 1))
    assert all(s == "bekraftad" or s.startswith("reserv-") for s in told.values())

    # And the database agrees: exactly `capacity` people confirmed, the queue in told order
    with served.app.app_context():
        keys = appkeys.keys()
        rows = db.session.scalars(
            sa.select(Registration)
            .where(Registration.dialogue_id == dialogue_id)
            .order_by(Registration.created_at, Registration.id)
        ).all()
        email_of = {r.id: service.person_of(r, keys).email for r in rows}  # type: ignore[union-attr]
        confirmed = [r for r in rows if r.status == CONFIRMED]
        waiting = [r for r in rows if r.status == WAITLISTED]
        assert len(rows) == CAPACITY - LAST_SEATS + CONTENDERS
        assert sum(r.party_size for r in confirmed) == CAPACITY == service.seats_taken(dialogue_id)
        assert {email_of[r.id] for r in confirmed} >= confirmed_now
        assert [email_of[r.id] for r in waiting] == [positions[p] for p in sorted(positions)]
        created = [r.created_at for r in waiting]
        assert created == sorted(created)
        assert all(c.created_at <= w.created_at for c in confirmed for w in waiting)
        # And each contender has exactly one mail queued, written with the registration
        mails = db.session.execute(
            sa.select(OutboxMessage.template, sa.func.count()).group_by(OutboxMessage.template)
        ).all()
        assert dict(mails) == {
            "dialogue_confirmed": CAPACITY,
            "dialogue_waitlisted": CONTENDERS - LAST_SEATS,
        }
    print(f"{CONTENDERS} concurrent sign-ups answered in {elapsed:.2f} s")
