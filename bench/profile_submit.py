"""Where a final submit spends its time: cProfile over many submits, in one process.

    .venv/bin/python bench/profile_submit.py [--submits 200] [--top 30] [--set KEY=VALUE]

Sets up a fresh instance in /tmp (embedded SQLite, WAL), walks the sessions with Flask's test
client (CSRF on, as in production), times the walk and the final POSTs (wall and CPU), then
profiles as many final POSTs again. Prints a breakdown of the parts (CSRF, validation, draft,
follow-up code, HPKE sealing, SQLite commit) and the heaviest functions by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sessions
import submit

# (label, file fragment, function name): summed cumulative time per final submit.
PARTS = (
    ("whole request (wsgi_app)", "flask/app.py", "wsgi_app"),
    ("session cookie open+save", "flask/sessions.py", "open_session"),
    ("session cookie open+save", "flask/sessions.py", "save_session"),
    ("CSRF check", "flask_wtf/csrf.py", "protect"),
    ("rate limiter", "flask_limiter", "_check_request_limit"),
    ("draft load (select + AES-GCM)", "intake/reports/drafts.py", "load"),
    ("validate every step again", "intake/reports/journey.py", "incomplete"),
    ("first_missing", "intake/reports/journey.py", "first_missing"),
    ("routing query", "intake/reports/routing.py", "destination"),
    ("HPKE seal", "intake/crypto/sealing.py", "seal"),
    ("service.submit (incl. commit)", "intake/reports/service.py", "submit"),
    ("SQLAlchemy commit (all)", "sqlalchemy/orm/session.py", "commit"),
    ("sqlite3 commit (fsync)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("sqlite3 execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("follow-up code (SHA-256 digest)", "intake/reports/followup.py", "new_code"),
    ("draft save (AES-GCM + commit)", "intake/reports/drafts.py", "save"),
    ("draft discard", "intake/reports/drafts.py", "discard"),
    ("template render", "flask/templating.py", "render_template"),
)


def _walk(client: Any) -> str:
    response = client.get("/orosanmalan/om-dig")
    token = sessions.csrf_token(response.get_data(as_text=True))
    for slug, answers in sessions.STEPS.items():
        response = client.post(f"/orosanmalan/{slug}", data={**answers, "csrf_token": token})
        assert response.status_code == 302, (slug, response.status_code)
    response = client.get("/orosanmalan/granska")
    assert response.status_code == 200
    return sessions.csrf_token(response.get_data(as_text=True))


def _parts(stats: pstats.Stats, submits: int) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in raw.items():
        for label, fragment, name in PARTS:
            if function == name and fragment in filename:
                totals[label] = totals.get(label, 0.0) + cumulative
    labels = dict.fromkeys(label for label, _fragment, _name in PARTS)
    return [(label, totals.get(label, 0.0) / submits * 1000) for label in labels]


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
        count = args.submits
        walk_started = _clocks()
        prepared = []
        for _ in range(2 * count):
            client = app.test_client()
            prepared.append((client, _walk(client)))
        walk = _since(walk_started, 2 * count * (2 + len(sessions.STEPS)))
        plain_started = _clocks()
        for client, token in prepared[:count]:
            _send(client, token)
        plain = _since(plain_started, count)
        profiler = cProfile.Profile()
        profiler.enable()
        for client, token in prepared[count:]:
            _send(client, token)
        profiler.disable()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"in one process, no server (settings: {args.set or 'defaults'}):")
    print(f"  walking to the check page: {walk[0]:.2f} ms wall, {walk[1]:.2f} ms CPU per request")
    print(f"  final submit:              {plain[0]:.2f} ms wall, {plain[1]:.2f} ms CPU each")
    print("\nper submit under cProfile, cumulative ms (profiling adds overhead; compare shares):")
    stats = pstats.Stats(profiler)
    for label, ms in _parts(stats, count):
        print(f"  {label:<34}{ms:8.2f}")
    print("\nper submit under cProfile, own time by package (ms):")
    for package, ms in _by_package(stats, count)[:15]:
        print(f"  {package:<34}{ms:8.2f}")
    for order in ("cumulative", "tottime") if args.top else ():
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.top)
        print(f"\n=== top {args.top} by {order} ===")
        print(text.getvalue())
    return 0


def _send(client: Any, token: str) -> None:
    response = client.post(
        "/orosanmalan/granska", data={"csrf_token": token, "confirm": "ja", "website": ""}
    )
    assert response.status_code == 303, response.status_code


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float], requests: int) -> tuple[float, float]:
    wall, cpu = _clocks()
    return (wall - started[0]) / requests * 1000, (cpu - started[1]) / requests * 1000


if __name__ == "__main__":
    sys.exit(main())
