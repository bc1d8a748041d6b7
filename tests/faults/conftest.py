"""Fault injection: the outbox worker as a real subprocess (`flask --app intake outbox work`)
on the test's database, a real SMTP server on loopback that can be slowed, stopped and started,
and PostgreSQL backends that can be terminated.

Other fault tests add their own files here; the fixtures below are shared.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ..conftest import Mailbox, SMTPServer

ROOT = Path(__file__).resolve().parent.parent.parent
WORKER_APP_NAME = "intake-fault-worker"
WEB_APP_NAME = "intake-fault-web"


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    """Poll until the condition holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


class SlowMailbox(Mailbox):
    """A mailbox that takes `delay` seconds per message (to kill a worker mid-batch)."""

    delay = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Wait, then keep the message."""
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SMTPServer]:
    """A running SMTP server whose mailbox can be slowed down (`.mailbox.delay`)."""
    server = SMTPServer()
    server.mailbox = SlowMailbox()
    server.start()
    yield server
    server.stop()


class WorkerProcess:
    """`flask --app intake outbox work` in its own process, as systemd would run it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self._env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start the worker."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "intake", "outbox", "work"],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def log(self) -> str:
        """What the worker wrote."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def start_worker(
    database_url: str, instance_path: Path, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes on this test's database and instance; all stopped at the end.

    The instance's config.py carries the test's keys (the same the in-process app uses) and
    short intervals, so that a fault and its recovery take seconds."""
    started: list[WorkerProcess] = []

    def start(smtp_port: int, **settings: Any) -> WorkerProcess:
        config = {
            "SECRET_KEY": "test-secret-key-not-for-production",
            "APP_KEYS": {1: b"k" * 32},
            "AUDIT_KEYS": {1: b"a" * 32},
            "AUDIT_LEGACY_UNTIL": 0,
            "MAIL_PORT": smtp_port,
            "MAIL_TIMEOUT": 5,
            "OUTBOX_POLL_SECONDS": 0.2,
            "OUTBOX_CLAIM_SECONDS": 2,
            "JOBS_INTERVAL_SECONDS": 60,
            **settings,
        }
        (instance_path / "config.py").write_text(
            "".join(f"{key} = {value!r}\n" for key, value in config.items()), encoding="utf-8"
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "INTAKE_INSTANCE_PATH": str(instance_path),
            "INTAKE_DATABASE_URL": database_url,
            "PGAPPNAME": WORKER_APP_NAME,
        }
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive:
            worker.stop()
        # Shown by pytest only when the test failed.
        print(f"--- {worker.log_path.name} ---\n{worker.log()}")


def terminate_backends(database_url: str, application_name: str) -> int:
    """pg_terminate_backend on every connection of an application name; how many."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": application_name},
                ).all()
            )
    finally:
        engine.dispose()
