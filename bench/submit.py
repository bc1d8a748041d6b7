"""The final submit and the whole resident journey against a bare Flask + SQLite baseline.

    .venv/bin/python bench/submit.py            # or: make bench
    .venv/bin/python bench/submit.py --help

Runs the service under gunicorn (2 sync workers, the embedded SQLite in WAL mode, a fresh
instance folder in /tmp), prepares resident sessions over HTTP (each walked to the check page),
and drives final submits (POST /orosanmalan/granska: CSRF, routing, follow-up code, HPKE
sealing, report + outbox row, draft replaced by the receipt) at 16 connections. On the same
server 16 residents then walk whole journeys (bench/journey.py: 14 requests each) for a while:
server CPU (the gunicorn processes' own, from /proc) and requests per completed report. Then it
runs bench/bare_app.py (parse a form, insert one SQLite row) under the same gunicorn settings
with the same load generator, and prints side by side: both rates, their ratio, p50/p99
latency, the server CPU per stored row, and the journey's CPU per report against as many bare
POSTs. The JSON goes to bench/results/. Only 127.0.0.1 is contacted; every run stops by itself.
"""

from __future__ import annotations

import argparse
import ast
import functools
import http.client
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bare_app
import journey
import loadgen
import sessions

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
HOST = "127.0.0.1"
TARGET_RATIO = 0.30
TARGET_P99_MS = 50.0
# The whole journey's server CPU per completed report, against as many bare form POSTs.
TARGET_JOURNEY_RATIO = 3.0
NO_LIMIT = "1000000 per minute"

# RATELIMIT_STEP has no INTAKE_* variable, so both limits go into the instance's config.py.
INSTANCE_CONFIG = f"""\
# Written by bench/submit.py: the limiter must never trip during a benchmark.
RATELIMIT_STEP = "{NO_LIMIT}"
RATELIMIT_SUBMIT = "{NO_LIMIT}"
"""


def instance_config(settings: list[str]) -> str:
    """The instance's config.py: no rate limits, plus `KEY=VALUE` settings (Python literals,
    or plain strings) for what-if runs such as DRAFT_LIFETIME_SECONDS=600."""
    lines = [INSTANCE_CONFIG]
    for setting in settings:
        key, _, raw = setting.partition("=")
        if not key.isidentifier() or not key.isupper():
            raise SystemExit(f"--set wants KEY=VALUE, not {setting!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        lines.append(f"{key} = {value!r}\n")
    return "".join(lines)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without any INTAKE_* setting (so: embedded SQLite), plus `extra`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    environ.update(extra)
    return environ


def _answers(port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        connection.request("GET", path)
        connection.getresponse().read()
        connection.close()
    except OSError:
        return False
    return True


@contextmanager
def gunicorn(
    name: str,
    target: str,
    port: int,
    environ: dict[str, str],
    log: Path,
    *,
    workers: int,
    extra: tuple[str, ...] = (),
    probe: str = "/",
) -> Iterator[int]:
    """gunicorn with `workers` sync workers on 127.0.0.1:port (yields the master's pid),
    stopped on the way out."""
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--log-level", "warning",
        *extra,
        target,
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port, probe):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {log}")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def server_cpu_seconds(master: int) -> float:
    """User + system CPU time of a gunicorn master and its workers so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; fields[11], fields[12] are utime and stime.
        if int(entry.name) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _measured(
    master: int, run: Callable[[], loadgen.Result], rows: Callable[[], int]
) -> tuple[loadgen.Result, float]:
    """Run, and return the result with the server's CPU milliseconds per stored row.

    Requests still queued when the generator stops are served afterwards, so this waits until
    the row count settles and divides by the rows written, not by the 303s counted."""
    rows_before, cpu_before = rows(), server_cpu_seconds(master)
    result = run()
    settled, deadline = rows(), time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = rows()
        if now == settled:
            break
        settled = now
    spent = server_cpu_seconds(master) - cpu_before
    written = settled - rows_before
    return result, round(spent * 1000 / written, 2) if written else 0.0


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _submit_run(
    port: int, prepared: list[sessions.Session], args: argparse.Namespace, duration: float
) -> loadgen.Result:
    if args.generator == "wrk":
        return loadgen.wrk_sessions(
            f"http://{HOST}:{port}",
            [s.line() for s in prepared],
            duration=duration,
            connections=args.connections,
            threads=args.threads,
        )
    requests = [
        (loadgen.SUBMIT_PATH, s.body, {"Cookie": s.cookie, "Content-Type": loadgen.FORM})
        for s in prepared
    ]
    return loadgen.python_run(
        HOST, port, requests, None, duration=duration, connections=args.connections
    )


def _fixed_run(
    port: int, path: str, body: str, args: argparse.Namespace, duration: float
) -> loadgen.Result:
    if args.generator == "wrk":
        return loadgen.wrk_fixed(
            f"http://{HOST}:{port}",
            path,
            body,
            duration=duration,
            connections=args.connections,
            threads=args.threads,
        )
    fixed = (path, body, {"Content-Type": loadgen.FORM})
    return loadgen.python_run(
        HOST, port, None, fixed, duration=duration, connections=args.connections
    )


def _prepare(
    port: int, count: int, args: argparse.Namespace
) -> tuple[list[sessions.Session], float]:
    if count <= 0:
        return [], 0.0
    started = time.monotonic()
    prepared = sessions.prepare(HOST, port, count, parallel=args.prepare_parallel)
    return prepared, time.monotonic() - started


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _count_table(database: Path, table: str) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        connection.close()


def _count_rows(database: Path) -> dict[str, int]:
    return {table: _count_table(database, table) for table in ("report", "outbox_message", "draft")}


def bench_app(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Set up an instance, then pilot and measure final submits."""
    instance = folder / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(instance_config(args.set))
    port = free_port()
    environ = clean_environment(
        INTAKE_INSTANCE_PATH=str(instance),
        INTAKE_RATELIMIT_SUBMIT=NO_LIMIT,
        INTAKE_BASE_URL=f"http://{HOST}:{port}",
    )
    _say(f"setup: flask --app intake setup in {instance}")
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "intake", "setup"],
        cwd=ROOT, env=environ, check=True, timeout=600, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    log = folder / "gunicorn-app.log"
    database = instance / "intake.sqlite3"
    with gunicorn(
        "the service", "intake:create_app()", port, environ, log,
        workers=args.workers, probe="/orosanmalan/",
    ) as master:  # fmt: skip
        submits = _submits(master, port, database, args)
        _say(
            f"journey: {args.connections} residents walking whole journeys for "
            f"{args.journey_seconds:g} s"
        )
        walked = _journeys(master, port, database, args)
    return {
        **submits,
        "journey": walked,
        "rows": _count_rows(database),
        "log": str(log) if args.keep else None,
    }


def _submits(master: int, port: int, database: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Pilot, prepare sessions (within the time budget) and measure final submits."""
    shares = args.threads if args.generator == "wrk" else 1
    spare: list[sessions.Session] = []
    pilot = None
    per_session = 0.0
    if args.sessions:
        count = args.sessions
    else:
        pilot_prepared, took = _prepare(port, args.pilot_sessions, args)
        per_session = took / max(len(pilot_prepared), 1)
        _say(f"pilot: {len(pilot_prepared)} sessions prepared in {took:.1f} s")
        pilot = _submit_run(port, pilot_prepared, args, args.pilot_seconds)
        _say(f"pilot: {pilot.per_second} submits/s, {pilot.errors} errors")
        rate = max(pilot.per_second, 1.0)
        count = math.ceil(rate * args.duration * args.headroom) + 4 * args.connections
        spare = pilot.unused(pilot_prepared, shares)
    for attempt in range(1, 4):
        wanted = max(0, count - len(spare))
        capped = bool(per_session) and wanted * per_session > args.prepare_budget
        if capped:
            # A busy machine prepares slowly: the run then ends when the sessions do (the
            # rate is counted over the span of the 303s, so it is not diluted).
            wanted = max(int(args.prepare_budget / per_session), 2 * args.connections)
            _say(f"run: preparing {wanted} sessions only (--prepare-budget)")
        fresh, took = _prepare(port, wanted, args)
        prepared = spare + fresh
        _say(
            f"run: {len(fresh)} sessions prepared in {took:.1f} s, {len(spare)} left from "
            f"before; driving final submits for {args.duration:g} s"
        )
        load_before = _load()
        result, cpu_ms = _measured(
            master,
            functools.partial(_submit_run, port, prepared, args, args.duration),
            lambda: _count_rows(database)["report"],
        )
        if capped or not result.exhausted or result.span_s >= 0.9 * args.duration or attempt == 3:
            break
        count = math.ceil(len(prepared) * 1.5 * args.duration / max(result.span_s, 0.5))
        spare = result.unused(prepared, shares)
        _say(f"run: the sessions ran out after {result.span_s:.1f} s; again with {count}")
    return {
        "result": result,
        "pilot": pilot,
        "server_cpu_ms_per_row": cpu_ms,
        "load_average": [load_before, _load()],
        "sessions_in_run": len(prepared),
        "prepare_seconds": round(took, 2),
    }


def _journeys(master: int, port: int, database: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Residents walking whole journeys: server CPU and requests per completed report."""
    reports_before, cpu_before = _count_rows(database)["report"], server_cpu_seconds(master)
    load_before = _load()
    outcome = journey.drive(HOST, port, browsers=args.connections, duration=args.journey_seconds)
    spent = server_cpu_seconds(master) - cpu_before
    reports = _count_rows(database)["report"] - reports_before
    everything = sorted(x for seconds in outcome.latencies.values() for x in seconds)
    return {
        "residents": args.connections,
        "span_s": round(outcome.span_s, 2),
        "reports": reports,
        "journeys": outcome.journeys,
        "failures": dict(outcome.failures),
        "requests": outcome.requests,
        "requests_per_report": round(outcome.requests / reports, 2) if reports else 0.0,
        "server_cpu_ms_per_report": round(spent * 1000 / reports, 2) if reports else 0.0,
        "reports_per_second": round(reports / outcome.span_s, 2) if outcome.span_s else 0.0,
        "latency_ms": {
            "p50": round(loadgen.percentile(everything, 50) * 1000, 1),
            "p99": round(loadgen.percentile(everything, 99) * 1000, 1),
        },
        "latency_p50_ms_by_request": {
            kind: round(loadgen.percentile(sorted(seconds), 50) * 1000, 1)
            for kind, seconds in outcome.latencies.items()
        },
        "load_average": [load_before, _load()],
    }


def bare_body() -> str:
    """A form of about the size of a whole report: every answer, a CSRF-sized token, confirm."""
    answers = {k: v for step in sessions.STEPS.values() for k, v in step.items()}
    token = "I" + "x" * 89  # the length of a Flask-WTF token
    return urlencode({**answers, "csrf_token": token, "confirm": "ja", "website": ""}, True)


def bench_bare(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then measure the bare form POST."""
    database = folder / "bare.sqlite3"
    bare_app.create_database(database)
    port = free_port()
    environ = clean_environment(BENCH_BARE_DB=str(database))
    log = folder / "gunicorn-bare.log"
    body = bare_body()
    with gunicorn(
        "the bare app", "bare_app:app", port, environ, log,
        workers=args.workers, extra=("--pythonpath", str(BENCH)),
    ) as master:  # fmt: skip
        _fixed_run(port, "/submit", body, args, min(args.pilot_seconds, 3))
        _say(f"bare: driving form POSTs for {args.duration:g} s")
        load_before = _load()
        result, cpu_ms = _measured(
            master,
            lambda: _fixed_run(port, "/submit", body, args, args.duration),
            lambda: _count_table(database, "submission"),
        )
    rows = _count_table(database, "submission")
    return {
        "result": result,
        "server_cpu_ms_per_row": cpu_ms,
        "load_average": [load_before, _load()],
        "body_bytes": len(body),
        "rows": rows,
        "log": str(log) if args.keep else None,
    }


def _table(app: dict[str, Any], bare: dict[str, Any]) -> list[tuple[str, str, str]]:
    def errors(result: loadgen.Result) -> str:
        detail = {**result.error_statuses, **result.socket_errors}
        return f"{result.errors}" + (f" {detail}" if detail else "")

    cpu = "server CPU/row (ms)", f"{app['server_cpu_ms_per_row']:.2f}"
    load = "load avg (1 min)", "{:.1f} → {:.1f}".format(*app["load_average"])
    a: loadgen.Result = app["result"]
    b: loadgen.Result = bare["result"]
    return [
        (*cpu, f"{bare['server_cpu_ms_per_row']:.2f}"),
        (*load, "{:.1f} → {:.1f}".format(*bare["load_average"])),
        ("successes (303)", f"{a.ok}", f"{b.ok}"),
        ("per second", f"{a.per_second:.1f}", f"{b.per_second:.1f}"),
        ("latency p50 (ms)", f"{a.p50_ms:.1f}", f"{b.p50_ms:.1f}"),
        ("latency p90 (ms)", f"{a.p90_ms:.1f}", f"{b.p90_ms:.1f}"),
        ("latency p99 (ms)", f"{a.p99_ms:.1f}", f"{b.p99_ms:.1f}"),
        ("latency max (ms)", f"{a.max_ms:.1f}", f"{b.max_ms:.1f}"),
        ("errors (not 303)", errors(a), errors(b)),
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _journey_lines(walked: dict[str, Any], bare_cpu_ms: float) -> tuple[list[str], float]:
    """The whole journey's lines of the table, and its CPU ratio to as many bare POSTs."""
    per_report = walked["requests_per_report"] or journey.REQUESTS_PER_JOURNEY
    floor = per_report * bare_cpu_ms
    cpu = walked["server_cpu_ms_per_report"]
    ratio = cpu / floor if floor else 0.0
    failures = walked["failures"]
    lines = [
        f"\nwhole journey: {walked['residents']} residents, each walking journeys of "
        f"{journey.REQUESTS_PER_JOURNEY} requests (start, 5 steps GET + POST, check, submit, "
        "receipt)",
        f"{'completed reports':<32}{walked['reports']:>10}   "
        f"({walked['reports_per_second']:.1f}/s over {walked['span_s']:g} s)",
        f"{'requests per completed report':<32}{walked['requests_per_report']:>10.2f}",
        f"{'server CPU per report (ms)':<32}{cpu:>10.2f}",
        f"{'CPU of as many bare POSTs (ms)':<32}{floor:>10.2f}   ({per_report:g} × "
        f"{bare_cpu_ms:.2f} ms, the bare form POST's CPU/row above)",
        f"{'ratio journey/bare (CPU)':<32}{ratio:>10.2f}   target <= {TARGET_JOURNEY_RATIO:g}: "
        f"{_met(0 < ratio <= TARGET_JOURNEY_RATIO)}",
        f"{'latency per request p50/p99':<32}{walked['latency_ms']['p50']:>10.1f} / "
        f"{walked['latency_ms']['p99']:.1f} ms",
        f"{'journeys failed':<32}{sum(failures.values()):>10}"
        + (f" {failures}" if failures else ""),
    ]
    return lines, ratio


def report(app: dict[str, Any], bare: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Print the table and return the JSON record."""
    a: loadgen.Result = app["result"]
    b: loadgen.Result = bare["result"]
    ratio = a.per_second / b.per_second if b.per_second else 0.0
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = a.ok > 0 and a.p99_ms <= TARGET_P99_MS
    print(
        f"\nintake bench: gunicorn {args.workers} sync workers, SQLite WAL, "
        f"{args.connections} connections, {a.generator}, {args.duration:g} s per run, "
        f"{loadgen.cpu_count()} CPUs"
    )
    print(f"{'':<20}{'app final submit':>20}{'bare form POST':>20}")
    for label, left, right in _table(app, bare):
        print(f"{label:<20}{left:>20}{right:>20}")
    cpu_ratio = (
        bare["server_cpu_ms_per_row"] / app["server_cpu_ms_per_row"]
        if app["server_cpu_ms_per_row"]
        else 0.0
    )
    print(f"{'ratio app/bare':<20}{ratio:>20.3f}   target >= {TARGET_RATIO}: {_met(ratio_ok)}")
    print(f"{'app p99 (ms)':<20}{a.p99_ms:>20.1f}   target <= {TARGET_P99_MS:g} ms: "
          f"{_met(p99_ok)}")  # fmt: skip
    print(f"{'CPU ratio bare/app':<20}{cpu_ratio:>20.3f}   (the ratio an idle machine would "
          "show if both are CPU-bound)")  # fmt: skip
    lines, journey_ratio = _journey_lines(app["journey"], bare["server_cpu_ms_per_row"])
    print("\n".join(lines))
    busy = max(app["load_average"] + bare["load_average"]) > loadgen.cpu_count()
    if busy:
        print(
            "\nnote: the machine was busy with other work (load average above the CPU count);\n"
            "      the rates and latencies are low and noisy, the CPU figures and ratios less so"
        )
    rows = app["rows"]
    print(
        f"app database: {rows['report']} reports, {rows['outbox_message']} outbox rows "
        f"(pilot and journeys included); bare database: {bare['rows']} rows"
    )
    if a.exhausted:
        print("note: the prepared sessions ran out before the run ended (rate uses the span)")
    journey_ok = 0 < journey_ratio <= TARGET_JOURNEY_RATIO
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "workers": args.workers,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "duration_s": args.duration,
            "journey_s": args.journey_seconds,
            "generator": args.generator,
            "database": "sqlite (WAL, synchronous=NORMAL)",
            "instance_settings": args.set,
        },
        "machine": {
            "cpus": loadgen.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "app": {
            **{k: v for k, v in app.items() if k not in {"result", "pilot"}},
            "result": _without_raw(a),
            "pilot": _without_raw(app["pilot"]) if app["pilot"] else None,
        },
        "bare": {**{k: v for k, v in bare.items() if k != "result"}, "result": _without_raw(b)},
        "ratio": round(ratio, 4),
        "cpu_ratio": round(cpu_ratio, 4),
        "journey_cpu_ratio": round(journey_ratio, 3),
        "targets": {
            "ratio_min": TARGET_RATIO,
            "p99_max_ms": TARGET_P99_MS,
            "journey_cpu_ratio_max": TARGET_JOURNEY_RATIO,
            "ratio_met": ratio_ok,
            "p99_met": p99_ok,
            "journey_met": journey_ok,
        },
    }


def _without_raw(result: loadgen.Result) -> dict[str, Any]:
    data = result.as_dict()
    data.pop("raw", None)
    return data


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12, help="seconds per run (12)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the Python one",
    )
    parser.add_argument("--pilot-seconds", type=float, default=3, help="pilot run length (3)")
    parser.add_argument("--pilot-sessions", type=int, default=200, help="sessions for the pilot")
    parser.add_argument(
        "--headroom", type=float, default=1.4, help="sessions = pilot rate x duration x this"
    )
    parser.add_argument("--sessions", type=int, default=0, help="skip the pilot; prepare this many")
    parser.add_argument(
        "--journey-seconds", type=float, default=12, help="seconds of whole journeys (12)"
    )
    parser.add_argument(
        "--prepare-budget",
        type=float,
        default=60,
        help="at most this many seconds preparing the run's sessions (60)",
    )
    parser.add_argument("--prepare-parallel", type=int, default=8, help="parallel session walks")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra setting in the instance's config.py (what-if runs); repeatable",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.generator == "auto":
        args.generator = "wrk" if loadgen.wrk_path() else "python"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks; 0 if every POST got its 303 (and, with --strict, targets met)."""
    args = parse(argv)
    folder = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        app = bench_app(folder, args)
        bare = bench_bare(folder, args)
        record = report(app, bare, args)
    finally:
        if args.keep:
            _say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"submit-{stamp}.json"
    output.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {output.relative_to(ROOT)}")
    if app["result"].errors or bare["result"].errors or app["journey"]["failures"]:
        return 1
    targets = record["targets"]
    if args.strict and not (targets["ratio_met"] and targets["p99_met"] and targets["journey_met"]):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
