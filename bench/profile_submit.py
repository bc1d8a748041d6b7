"""Where a final submit spends its time: cProfile over many submits, in one process.

    .venv/bin/python bench/profile_submit.py [--submits 200] [--top 30] [--set KEY=VALUE]

Sets up a fresh instance in /tmp (embedded SQLite, WAL), walks the sessions with Flask's test
client (CSRF on, as in production) and times the final POSTs (wall and CPU). Then it times as
many again with a `perf_counter` timer around each part of the request (session cookie, CSRF,
rate limiter, draft, validation, routing, follow-up code, HPKE, outbox row, commit): that is the
breakdown to trust, since a timer costs well under a microsecond. Last it profiles as many with
cProfile, whose per-call overhead inflates code with many small calls (Flask, werkzeug,
WTForms) about twofold: read its lists for what to look at, not for shares.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sessions
import submit


# (label, where the callable lives, its attribute): timed around each call during the timed
# run. An indented label is a part of the one above it.
def _timed_parts(app: Any) -> list[tuple[str, Any, str]]:
    from intake.extensions import csrf, db, limiter
    from intake.reports import drafts, journey, service, views

    return [
        ("whole request (Flask wsgi_app)", app, "wsgi_app"),
        ("  session cookie: open", app.session_interface, "open_session"),
        ("  session cookie: save", app.session_interface, "save_session"),
        ("  CSRF check", csrf, "protect"),
        ("  rate limiter (both checks)", limiter, "_check_request_limit"),
        ("  draft load (SELECT + AES-GCM)", drafts, "load"),
        ("  first_missing", journey, "first_missing"),
        ("  validate every step again", journey, "incomplete"),
        ("  check form (confirm, honeypot)", views, "CheckForm"),
        ("  service.submit", views.service, "submit"),
        ("    routing query", service, "destination"),
        ("    follow-up code", service.followup, "new_code"),
        ("    HPKE seal (JSON + ML-KEM-768/X25519)", service, "seal_answers"),
        ("    outbox row", service.outbox, "enqueue"),
        ("  receipt into the draft (AES-GCM + UPDATE)", drafts, "save"),
        ("  commit", db.session, "commit"),
    ]


@contextlib.contextmanager
def _timers(parts: list[tuple[str, Any, str]], totals: dict[str, float]) -> Iterator[None]:
    """Wrap each part's callable in a perf_counter timer; restore them afterwards."""
    saved = []
    for label, owner, name in parts:
        original = getattr(owner, name)
        saved.append((owner, name, original, name in vars(owner)))
        setattr(owner, name, _timer(original, label, totals))
    try:
        yield
    finally:
        for owner, name, original, own in reversed(saved):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def _timer(
    function: Callable[..., Any], label: str, totals: dict[str, float]
) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

    return timed


def _breakdown(totals: dict[str, float], labels: list[str], submits: int) -> list[str]:
    """Lines of ms per submit, with what the listed parts leave over at each level."""
    lines = []
    for label in labels:
        lines.append(f"  {label:<46}{totals.get(label, 0.0) / submits * 1000:8.3f}")
    whole = totals.get(labels[0], 0.0)
    top = sum(totals.get(label, 0.0) for label in labels if _depth(label) == 1)
    inner = sum(totals.get(label, 0.0) for label in labels if _depth(label) == 2)
    rest = totals.get("  service.submit", 0.0) - inner
    lines.append(f"  {'  rest of the request (Flask, werkzeug, view)':<46}"
                 f"{(whole - top) / submits * 1000:8.3f}")  # fmt: skip
    lines.append(f"  {'    report INSERT, reference, UUID':<46}{rest / submits * 1000:8.3f}")
    return lines


def _depth(label: str) -> int:
    return (len(label) - len(label.lstrip(" "))) // 2


def _walk(client: Any) -> str:
    response = client.get("/orosanmalan/om-dig")
    token = sessions.csrf_token(response.get_data(as_text=True))
    for slug, answers in sessions.STEPS.items():
        response = client.post(f"/orosanmalan/{slug}", data={**answers, "csrf_token": token})
        assert response.status_code == 302, (slug, response.status_code)
    response = client.get("/orosanmalan/granska")
    assert response.status_code == 200
    return sessions.csrf_token(response.get_data(as_text=True))


def _package(filename: str, function: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/intake/" in filename:
        return "intake"
    if filename == "~":
        for marker in ("argon2", "sqlite3", "hpke", "mlkem", "aead", "hmac", "hashlib"):
            if marker in function:
                return f"{marker} (C)"
        return "builtins (C)"
    return "stdlib"


def _by_package(stats: pstats.Stats, submits: int) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, _cumulative, _callers) in raw.items():
        package = _package(filename, function)
        totals[package] = totals.get(package, 0.0) + own
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    return [(package, seconds / submits * 1000) for package, seconds in ordered]


def main(argv: list[str] | None = None) -> int:
    """Time steps and submits, profile `--submits` more, and print where the time goes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submits", type=int, default=200, help="profiled submits (200)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="intake-profile-"))
    try:
        instance = folder / "instance"
        instance.mkdir()
        (instance / "config.py").write_text(submit.instance_config(args.set))
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

        app = create_app()
        _add_floor_route(app)
        count = args.submits
        walk_started = _clocks()
        prepared = []
        for _ in range(3 * count):
            client = app.test_client()
            prepared.append((client, _walk(client)))
        walk = _since(walk_started, 3 * count * (2 + len(sessions.STEPS)))
        plain_started = _clocks()
        for client, token in prepared[:count]:
            _send(client, token)
        plain = _since(plain_started, count)
        floor_started = _clocks()
        for client, token in prepared[:count]:
            _send(client, token, path=FLOOR_PATH)
        floor = _since(floor_started, count)
        parts = _timed_parts(app)
        totals: dict[str, float] = {}
        with _timers(parts, totals):
            for client, token in prepared[count : 2 * count]:
                _send(client, token)
        profiler = cProfile.Profile()
        profiler.enable()
        for client, token in prepared[2 * count :]:
            _send(client, token)
        profiler.disable()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"in one process, no server (settings: {args.set or 'defaults'}):")
    print(f"  walking to the check page: {walk[0]:.2f} ms wall, {walk[1]:.2f} ms CPU per request")
    print(f"  final submit:              {plain[0]:.2f} ms wall, {plain[1]:.2f} ms CPU each")
    print(f"  the stack's floor:         {floor[0]:.2f} ms wall, {floor[1]:.2f} ms CPU each")
    print("    (a POST through the same app, session cookie, CSRF and submit limits, whose view")
    print("     only renews the session's draft handle and redirects: no draft, no validation,")
    print("     no database, no crypto)")
    print("\nper submit, a perf_counter timer around each part, wall ms (test client excluded):")
    for line in _breakdown(totals, [label for label, _owner, _name in parts], count):
        print(line)
    stats = pstats.Stats(profiler)
    print("\nper submit under cProfile, own time by package (ms):")
    for package, ms in _by_package(stats, count)[:15]:
        print(f"  {package:<34}{ms:8.2f}")
    for order in ("cumulative", "tottime") if args.top else ():
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.top)
        print(f"\n=== top {args.top} by {order} ===")
        print(text.getvalue())
    return 0


FLOOR_PATH = "/bench/floor"


def _add_floor_route(app: Any) -> None:
    """A POST route with what every final submit pays before its own work: the app's hooks,
    session cookie, CSRF check and the submit's rate limits; a 303 like the real one."""
    from flask import redirect, session

    from intake.extensions import limiter
    from intake.reports import views

    @limiter.limit(views._submit_limit, methods=["POST"])
    def floor() -> Any:
        session[views.DRAFT_KEY] = session.get(views.DRAFT_KEY)
        session.permanent = True
        return redirect("/orosanmalan/kvitto", code=303)

    app.add_url_rule(FLOOR_PATH, "bench_floor", floor, methods=["POST"])


def _send(client: Any, token: str, *, path: str = "/orosanmalan/granska") -> None:
    response = client.post(path, data={"csrf_token": token, "confirm": "ja", "website": ""})
    assert response.status_code == 303, response.status_code


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float], requests: int) -> tuple[float, float]:
    wall, cpu = _clocks()
    return (wall - started[0]) / requests * 1000, (cpu - started[1]) / requests * 1000


if __name__ == "__main__":
    sys.exit(main())
