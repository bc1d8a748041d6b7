"""The load generators: wrk with bench/wrk.lua when installed, else a Python one.

Both return the same summary: 303s (successes), other responses (errors, by status), socket
errors, the rate of 303s per second, and latency percentiles in milliseconds.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH / "wrk.lua"
FORM = "application/x-www-form-urlencoded"
SUBMIT_PATH = "/orosanmalan/granska"


@dataclass
class Result:
    """What one run measured."""

    generator: str
    ok: int
    errors: int
    error_statuses: dict[str, int]
    socket_errors: dict[str, int]
    span_s: float
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    exhausted: bool = False
    used: list[int] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def unused(self, items: Sequence[Any], shares: int) -> list[Any]:
        """The prepared items no request took, given they were dealt out to `shares` threads
        in turn (item i to thread i % shares) and each thread took its own from the front."""
        if len(self.used) != shares:
            return []
        return [
            item for number in range(shares) for item in items[number::shares][self.used[number] :]
        ]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def wrk_path() -> str | None:
    """The wrk binary, if installed."""
    return shutil.which("wrk")


def _wrk(
    base: str, args: Sequence[str], *, duration: float, connections: int, threads: int
) -> Result:
    command = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, math.ceil(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        base,
        "--",
        *args,
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if run.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    latency = data["latency_us"]
    socket_errors = {k: v for k, v in data["socket_errors"].items() if v}
    span = data["span_s"] or data["duration_s"]
    return Result(
        generator=f"wrk -t{threads} -c{connections}",
        ok=data["ok"],
        errors=data["other"] + sum(socket_errors.values()),
        error_statuses=data["other_statuses"],
        socket_errors=socket_errors,
        span_s=round(span, 3),
        per_second=round(data["ok"] / span, 1) if span else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        exhausted=data["threads_exhausted"] > 0,
        used=data.get("used", []),
        raw={"wrk_stdout": run.stdout},
    )


def wrk_sessions(
    base: str, lines: Sequence[str], *, duration: float, connections: int, threads: int
) -> Result:
    """Final submits with wrk: each prepared `cookie<TAB>body` line is used once."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-wrk-") as folder:
        prefix = Path(folder) / "sessions"
        for number in range(threads):
            share = lines[number::threads]
            Path(f"{prefix}.{number}").write_text("".join(f"{x}\n" for x in share))
        return _wrk(
            base,
            ["sessions", str(prefix)],
            duration=duration,
            connections=connections,
            threads=threads,
        )


def wrk_fixed(
    base: str, path: str, body: str, *, duration: float, connections: int, threads: int
) -> Result:
    """The same form POST again and again, with wrk."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-wrk-") as folder:
        body_file = Path(folder) / "body"
        body_file.write_text(body)
        return _wrk(
            base,
            ["fixed", path, str(body_file)],
            duration=duration,
            connections=connections,
            threads=threads,
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values already sorted."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def python_run(
    host: str,
    port: int,
    requests: Sequence[tuple[str, str, dict[str, str]]] | None,
    fixed: tuple[str, str, dict[str, str]] | None,
    *,
    duration: float,
    connections: int,
) -> Result:
    """The fallback: `connections` threads, each with a keep-alive connection, until the
    duration is up or the prepared requests (path, body, headers) run out."""
    lock = threading.Lock()
    queue = iter(requests or ())
    latencies: list[list[float]] = [[] for _ in range(connections)]
    statuses: Counter[str] = Counter()
    socket_errors: Counter[str] = Counter()
    marks: dict[str, float] = {}
    taken = [0]
    exhausted = threading.Event()
    deadline = time.monotonic() + duration

    def take() -> tuple[str, str, dict[str, str]] | None:
        if fixed is not None:
            return fixed
        with lock:
            item = next(queue, None)
            taken[0] += item is not None
        if item is None:
            exhausted.set()
        return item

    def worker(number: int) -> None:
        connection: http.client.HTTPConnection | None = None
        mine = latencies[number]
        while time.monotonic() < deadline:
            item = take()
            if item is None:
                break
            path, body, headers = item
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, port, timeout=10)
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    socket_errors[type(error).__name__] += 1
                if connection is not None:
                    connection.close()
                connection = None
                continue
            ended = time.monotonic()
            mine.append(ended - started)
            with lock:
                marks.setdefault("first", started)
                marks["first"] = min(marks["first"], started)
                if response.status == 303:
                    statuses["303"] += 1
                    marks["last"] = max(marks.get("last", ended), ended)
                else:
                    statuses[str(response.status)] += 1
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=duration + 60)
    ordered = sorted(x * 1000 for mine in latencies for x in mine)
    ok = statuses.pop("303", 0)
    span = marks.get("last", 0.0) - marks.get("first", 0.0)
    return Result(
        generator=f"python ({connections} threads)",
        ok=ok,
        errors=sum(statuses.values()) + sum(socket_errors.values()),
        error_statuses=dict(statuses),
        socket_errors=dict(socket_errors),
        span_s=round(span, 3),
        per_second=round(ok / span, 1) if span > 0 else 0.0,
        p50_ms=round(percentile(ordered, 50), 3),
        p90_ms=round(percentile(ordered, 90), 3),
        p99_ms=round(percentile(ordered, 99), 3),
        max_ms=round(ordered[-1], 3) if ordered else 0.0,
        mean_ms=round(sum(ordered) / len(ordered), 3) if ordered else 0.0,
        exhausted=exhausted.is_set(),
        used=[taken[0]] if requests is not None else [],
    )


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
