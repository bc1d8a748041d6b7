"""Where the whole resident journey spends its CPU: each of its 14 requests, in one process.

    .venv/bin/python bench/profile_journey.py [--journeys 150] [--profile KIND|all] [--set K=V]

Sets up a fresh instance in /tmp (embedded SQLite, WAL, CSRF on as in production), warms up,
then walks `--journeys` whole journeys (bench/journey.py) through Flask's test client and
prints the CPU time of this process per request, by kind (median and mean), and per journey;
next to it the bare app's (bench/bare_app.py) GET and form POST through the same client. With
`--profile KIND` (e.g. "GET oro", "POST granska", or "all") it walks as many again under
pyinstrument (if installed; else cProfile) and prints where that kind's time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bare_app
import journey
import submit


def _client_send(client: Any) -> journey.Send:
    def send(method: str, path: str, form: dict[str, Any] | None) -> journey.Answer:
        response = client.open(path, method=method, data=form)
        return (
            response.status_code,
            response.headers.get("Location", ""),
            response.get_data(as_text=True),
        )

    return send


def _timed(send: journey.Send, times: dict[str, list[float]], kind: list[str]) -> journey.Send:
    def timed(method: str, path: str, form: dict[str, Any] | None) -> journey.Answer:
        started = time.process_time()
        answer = send(method, path, form)
        times.setdefault(kind[0], []).append(time.process_time() - started)
        return answer

    return timed


def walk_many(
    app: Any, count: int, hook: Callable[[str], None] | None = None
) -> dict[str, list[float]]:
    """CPU seconds of each request, by kind, over `count` journeys (a fresh client each)."""
    times: dict[str, list[float]] = {}
    kind = [""]

    def told(name: str) -> None:
        kind[0] = name
        if hook is not None:
            hook(name)

    for _ in range(count):
        journey.walk(_timed(_client_send(app.test_client()), times, kind), told)
    return times


def _bare_floor(folder: Path, count: int) -> tuple[float, float]:
    database = folder / "bare.sqlite3"
    bare_app.create_database(database)
    os.environ["BENCH_BARE_DB"] = str(database)
    client = bare_app.app.test_client()
    body = submit.bare_body()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(50):
        client.get("/")
        client.post("/submit", data=body, headers=headers)
    started = time.process_time()
    for _ in range(count):
        client.get("/")
    get = (time.process_time() - started) / count
    started = time.process_time()
    for _ in range(count):
        client.post("/submit", data=body, headers=headers)
    return get, (time.process_time() - started) / count


def _app(folder: Path, settings: list[str]) -> Any:
    instance = folder / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(submit.instance_config(settings))
    environ = submit.clean_environment(INTAKE_INSTANCE_PATH=str(instance))
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "intake", "setup"],
        cwd=submit.ROOT, env=environ, check=True, timeout=600,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for key in [k for k in os.environ if k.startswith("INTAKE_")]:
        del os.environ[key]
    os.environ["INTAKE_INSTANCE_PATH"] = str(instance)
    sys.path.insert(0, str(submit.ROOT))
    from intake import create_app

    return create_app()


def _profile(app: Any, count: int, kind: str, tool: str) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None

    if Profiler is None or tool == "cprofile":
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        hook = _switch(kind, profiler.enable, profiler.disable)
        walk_many(app, count, hook)
        profiler.disable()
        for order in ("cumulative", "tottime"):
            pstats.Stats(profiler).sort_stats(order).print_stats(45)
        return
    sampler = Profiler(interval=0.0002)
    hook = _switch(kind, sampler.start, lambda: sampler.stop() if sampler.is_running else None)
    walk_many(app, count, hook)
    if sampler.is_running:
        sampler.stop()
    print(sampler.output_text(unicode=True, color=False, show_all=False))


def _switch(kind: str, start: Callable[[], Any], stop: Callable[[], Any]) -> Callable[[str], None]:
    """A hook that runs the profiler only during requests of `kind` ("all": every request)."""
    running = [False]

    def hook(name: str) -> None:
        wanted = kind == "all" or name == kind
        if wanted and not running[0]:
            start()
            running[0] = True
        elif not wanted and running[0]:
            stop()
            running[0] = False

    return hook


def main(argv: list[str] | None = None) -> int:
    """Walk, time and optionally profile whole journeys; print CPU per request by kind."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=150, help="timed journeys (150)")
    parser.add_argument("--profile", default="", metavar="KIND", help='e.g. "GET oro" or all')
    parser.add_argument("--tool", choices=("pyinstrument", "cprofile"), default="pyinstrument")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="intake-journey-"))
    try:
        app = _app(folder, args.set)
        walk_many(app, 20)  # warm up: imports, templates, statements, kept forms
        times = walk_many(app, args.journeys)
        bare_get, bare_post = _bare_floor(folder, 20 * args.journeys)
        if args.profile:
            _profile(app, args.journeys, args.profile, args.tool)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nCPU per request in one process (test client included), {args.journeys} journeys,"
          f" load average {os.getloadavg()[0]:.1f}:")  # fmt: skip
    print(f"  {'request':<26}{'median ms':>10}{'mean ms':>10}")
    total = 0.0
    for kind, seconds in times.items():
        total += statistics.fmean(seconds)
        print(f"  {kind:<26}{statistics.median(seconds) * 1000:10.3f}"
              f"{statistics.fmean(seconds) * 1000:10.3f}")  # fmt: skip
    requests = sum(len(seconds) for seconds in times.values()) / args.journeys
    print(f"  {'whole journey':<26}{'':>10}{total * 1000:10.3f}   ({requests:g} requests)")
    print(f"  {'bare GET / (bare_app)':<26}{'':>10}{bare_get * 1000:10.3f}")
    print(f"  {'bare form POST':<26}{'':>10}{bare_post * 1000:10.3f}")
    print(f"  journey ÷ ({requests:g} × bare POST): {total / (requests * bare_post):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
