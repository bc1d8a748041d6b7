"""Several nodes, proven (issue 14 §5): two gunicorn nodes (2 workers x 4 threads each) and two
outbox workers on one PostgreSQL database and one Redis, behind a "balancer" that the test plays
(X-Forwarded-For per resident, TRUSTED_PROXIES = 1 on the nodes).

200 residents, split across both nodes, each walk the whole journey over real HTTP; halfway,
one node is killed whole (SIGKILL to its master and workers) and its residents carry on, on the
other node, with the same cookie. Then: one report per receipt, one mail per outbox row (a real
aiosmtpd on loopback, counted by Message-ID), and a rate limit counted across both nodes.

PostgreSQL only (several hosts do not share an SQLite file); skipped on SQLite.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Report

from ..conftest import POSTGRES, SMTPServer
from ..faults.resident_helpers import environment, setup_instance, write_instance_config
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD
from .node_helpers import REDIS_URL, Resident, node, outbox_worker, redis_prefix

pytestmark = [
    pytest.mark.nodes,
    pytest.mark.skipif(not POSTGRES, reason="several nodes share PostgreSQL, not an SQLite file"),
]

RESIDENTS = 200
PARALLEL = 16
KILL_AFTER = RESIDENTS // 2
FOLLOWUP_LIMIT = 4  # per hour and client address, for the shared-limit phase
MAIL_SECONDS = 60


def _rows(app: Flask) -> tuple[list[str], dict[str, str | None]]:
    """Every report's reference, and every outbox row's Message-ID by id and sent state."""
    with app.app_context():
        references = list(db.session.scalars(sa.select(Report.reference)))
        mails = {
            str(row.message_id): (None if row.sent_at is None else "sent")
            for row in db.session.scalars(sa.select(OutboxMessage))
        }
        db.session.remove()
        return references, mails


def _limit_counts_on_both_nodes(ports: list[int]) -> list[int]:
    """One address sends a wrong follow-up code alternately to node A and node B."""
    resident = Resident(9999, ports)
    answers = []
    for n in range(FOLLOWUP_LIMIT + 2):
        resident.browser.port = ports[n % 2]
        answer = resident.send("POST", "/orosanmalan/uppfoljning/", {"code": "ABCD-EFGH-JKLM"})
        answers.append(answer.status)
    return answers


def test_two_nodes_and_two_workers_lose_nothing_and_send_each_mail_once(
    make_app: Callable[..., Flask],
    database_url: str,
    instance_path: Path,
    tmp_path: Path,
    smtp: SMTPServer,
) -> None:
    prefix = f"intake-nodes-{uuid.uuid4().hex[:12]}"
    with redis_prefix(prefix):
        # Given one instance configuration (secrets included) shared by every node and worker
        env = environment(
            instance_path,
            database_url,
            INTAKE_RATELIMIT_STORAGE_URI=REDIS_URL,
            INTAKE_TRUSTED_PROXIES="1",
            INTAKE_MAIL_SERVER="127.0.0.1",
            INTAKE_MAIL_PORT=str(smtp.port),
        )
        write_instance_config(
            instance_path,
            RATELIMIT_KEY_PREFIX=prefix,
            RATELIMIT_FOLLOWUP=f"{FOLLOWUP_LIMIT} per hour",
            OUTBOX_POLL_SECONDS=0.2,
        )
        setup_instance(instance_path, env)
        app = make_app(SECRET_KEY=None, APP_KEYS=None)
        with (
            node(env, tmp_path / "a.log") as a,
            node(env, tmp_path / "b.log") as b,
            outbox_worker(env, tmp_path / "worker-1.log"),
            outbox_worker(env, tmp_path / "worker-2.log"),
        ):
            ports = [a.port, b.port]
            # When one address passes the follow-up limit, alternating between the nodes
            limited = _limit_counts_on_both_nodes(ports)

            # And 200 residents report, half starting on each node, while node A is killed
            # halfway through
            done = 0
            lock = threading.Lock()
            killed = threading.Event()
            residents = [
                Resident(n, ports if n % 2 == 0 else ports[::-1]) for n in range(RESIDENTS)
            ]

            def journey(resident: Resident) -> str:
                nonlocal done
                reference = resident.report(PRIVATE_ANONYMOUS_CHILD)
                with lock:
                    done += 1
                    if done == KILL_AFTER and not killed.is_set():
                        killed.set()
                        a.kill()
                return reference

            started = time.monotonic()
            with ThreadPoolExecutor(PARALLEL) as pool:
                receipts = list(pool.map(journey, residents))
            journeys_seconds = time.monotonic() - started

            # (the workers deliver what is queued)
            deadline = time.monotonic() + MAIL_SECONDS
            references, mails = _rows(app)
            while None in mails.values() and time.monotonic() < deadline:
                time.sleep(0.2)
                references, mails = _rows(app)
            time.sleep(1.0)  # a second sending of any row would arrive by now
            references, mails = _rows(app)

    # Then the limit was counted across both nodes: allowed 4 times in all, then refused on
    # either node (per-process memory would have let every one of them through)
    assert limited == [200] * FOLLOWUP_LIMIT + [429, 429], limited
    # And node A was killed, and residents on it carried on on node B
    assert killed.is_set() and a.process.poll() is not None
    assert sum(r.moved for r in residents) > 0
    # And every resident got a receipt, each its own, each exactly one stored report
    assert len(receipts) == RESIDENTS and len(set(receipts)) == RESIDENTS
    assert sorted(references) == sorted(receipts)
    # And every outbox row was sent, and received exactly once (by its Message-ID)
    assert mails and set(mails.values()) == {"sent"}, Counter(mails.values())
    received = Counter(m["Message-ID"] for m in smtp.mailbox.messages)
    assert set(received) == set(mails), set(received) ^ set(mails)
    assert [mid for mid, n in received.items() if n > 1] == []
    assert len(mails) >= RESIDENTS  # a staff notification per report at least
    assert journeys_seconds < 60, journeys_seconds
