"""Pieces of the several-nodes test: a gunicorn node and an outbox worker as subprocesses of
their own session (so a node can be killed whole), a resident journey over real HTTP that moves
to the other node when its own stops answering, and Redis keys cleaned up by prefix."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from .. import served
from ..faults.resident_helpers import BIN, REFERENCE, ROOT, Answer, Browser

REDIS_URL = "redis://127.0.0.1:6379/0"
GONE = served.GONE  # what a dead node's connection looks like to the client


Node = served.Server
_stop = served.stop


@contextmanager
def node(env: dict[str, str], log: Path, *, workers: int = 2) -> Iterator[Node]:
    """gunicorn (workers x 4 threads) on a free loopback port, until it answers `/`."""
    with served.gunicorn(env, log, workers=workers) as server:
        yield server


@contextmanager
def outbox_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`flask --app intake outbox work` until the block ends (then SIGTERM)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "intake", "outbox", "work"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


class Resident:
    """One resident behind the balancer: a cookie jar, an address of its own (X-Forwarded-For,
    as the balancer sets it), and the nodes in the order it tries them."""

    def __init__(self, number: int, ports: list[int]) -> None:
        self.ports = ports
        self.browser = Browser(ports[0])
        self.headers = {"X-Forwarded-For": f"10.{number // 250}.{number % 250}.7"}
        self.moved = 0

    def send(self, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
        """The request on this resident's node; if that node is gone, the same request again
        on the next one (what a balancer's retry, or the resident pressing again, does)."""
        for attempt in range(10):
            try:
                return self.browser.request(method, path, data, headers=self.headers)
            except GONE:
                self.moved += 1
                self.browser.port = self.ports[(self.ports.index(self.browser.port) + 1) % 2]
                time.sleep(0.05 * attempt)
        raise AssertionError(f"no node answered {method} {path}")

    def report(self, steps: dict[str, dict[str, Any]]) -> str:
        """Every step, the final send, the receipt; returns the reference shown on it."""
        for slug, data in steps.items():
            answer = self.send("POST", f"/orosanmalan/{slug}", data)
            assert answer.status == 302, (slug, answer.status, answer.body[:500])
        sent = self.send("POST", "/orosanmalan/granska", {"confirm": "ja"})
        assert sent.status == 303, (sent.status, sent.body[:500])
        assert sent.header("Location") == "/orosanmalan/kvitto"
        receipt = self.send("GET", "/orosanmalan/kvitto")
        assert receipt.status == 200, receipt.status
        references = set(REFERENCE.findall(receipt.body))
        assert len(references) == 1, references
        return references.pop()


@contextmanager
def redis_prefix(prefix: str) -> Iterator[redis.Redis]:
    """The shared Redis; every key carrying `prefix` is deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    client.ping()  # the test needs it: fail here, clearly, rather than in a node
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
