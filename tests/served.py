"""The real server for the tests that need one: gunicorn in its own session (so the master and
its workers stop, or die, together) on a free loopback port, waited for until it answers."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60
# What a server that is not (or no longer) there looks like to a client: refused, reset, or
# cut mid-answer.
GONE = (OSError, http.client.HTTPException)


@dataclass
class Server:
    """One gunicorn master (and its workers) on its own port."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """The machine dies: SIGKILL to the master and every worker at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def status_of(port: int, path: str) -> int:
    """One GET on loopback; the status code."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (master and workers, nothing else), SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@contextmanager
def gunicorn(
    env: dict[str, str],
    log: Path,
    *,
    workers: int = 2,
    threads: int = 4,
    config: str | None = None,
    ready: str = "/",
) -> Iterator[Server]:
    """gunicorn serving `intake:create_app()` until the block ends; yields once `ready` answers
    200 (the log is in the failure message if it never does)."""
    port = free_port()
    options = ["-c", config] if config else []
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                *options,
                *("--workers", str(workers), "--threads", str(threads), "--timeout", "120"),
                *("--bind", f"127.0.0.1:{port}", "--error-logfile", "-"),
                "intake:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            try:
                if status_of(port, ready) == 200:
                    break
            except GONE:
                pass
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8", errors="replace")
            time.sleep(0.2)
        yield Server(port, process, log)
    finally:
        stop(process)
