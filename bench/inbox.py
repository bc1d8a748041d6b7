"""Server time of the caseworkers' pages at 100,000 sealed reports (issue 14 §1).

    .venv/bin/python bench/inbox.py [--reports 100000] [--requests 60] [--rounds 3]
    .venv/bin/python bench/inbox.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Builds a database (an SQLite file in a temp folder; with --postgres a database
`intake_bench_inbox` created, and dropped afterwards, on that server) from the migrations, with
three inboxes of their own key pairs (production Argon2id cost) and N reports spread over them
(a third each; a tenth acute, a tenth "vet inte"; statuses spread; one every ~5 minutes back
from the frozen clock). Sealing: for each inbox, `--sealed` reports (default 20) are sealed with
intake's own sealing (`service.seal_answers`, bound to their id and inbox); the others carry
a copy of one such ciphertext under ids of their own. Only the properly sealed ones are opened.
Rows go in with bulk Core INSERTs (executemany), so the build takes seconds, not hours.

A caseworker, member of all three inboxes, signs in through the test client (password + TOTP).
Each page is then timed in-process (the whole WSGI round trip, like bench/dashboard.py) for
`--rounds` × `--requests` GETs after a warm-up: wall p50/p99 and this process's CPU p50
(time.process_time: on a loaded machine it tracks the work better; it leaves out
PostgreSQL's own time). Side by side: a bare Flask GET (bench/bare_app.py `GET /`). Also
printed: the load average before each page, and this process's RSS after the run (one
process stands in for one gunicorn sync worker).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_app

from intake import bootstrap, clock, create_app
from intake.accounts import service as accounts
from intake.extensions import db
from intake.reports import next_deadline, service, tally
from intake.reports.models import Report

NOW = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
USER, PASSWORD = "bench-handlaggare@example.com", "korrekt häst batteri häftklammer"
PG_NAME = "intake_bench_inbox"
STATUSES = ("received", "assessed", "decided", "registered", "purged")
TARGET_MS = 20.0
LINK = re.compile(r'href="(/personal/inkorg\?[^"]*efter=[^"]*)"')


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or a new database on the given server."""
    if postgres is None:
        with tempfile.TemporaryDirectory(prefix="intake-bench-inbox-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    server = sa.make_url(postgres).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{PG_NAME}"'))
    try:
        yield server.set(database=PG_NAME).render_as_string(hide_password=False)
    finally:
        drop()
        admin.dispose()


def build_app(url: str, instance: Path) -> Flask:
    """The app on that database, migrated; production Argon2id cost (sign-in is measured)."""
    os.environ["INTAKE_INSTANCE_PATH"] = str(instance)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "APP_KEYS": {1: b"b" * 32},
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "MAIL_PORT": 1,
        }
    )
    with app.app_context():
        upgrade()
    return app


def answers(n: int) -> dict[str, Any]:
    """A realistic report of about a whole report's size."""
    return {
        "reporter_type": "yrkesverksam",
        "anonymous": "nej",
        "subject_type": "barn",
        "first_name": f"Barn {n}",
        "age": "8",
        "guardian1_name": "Förälder Ett",
        "guardians_aware": "nej",
        "categories": ["omsorgssvikt"],
        "what_happened": "Barnet kommer ofta hungrigt till skolan och berättar om bråk. " * 12,
        "acute_danger": "nej",
        "reporter_name": "Lärare Lärarsson",
        "reporter_phone": "0929-123 45",
        "reporter_email": "larare@skola.example",
        "workplace": "Älvåkraskolan",
        "role": "Lärare",
        "information_received_by": "Jag själv",
        "information_received_on": "2026-01-10",
        "wants_feedback": "nej",
    }


def fill(app: Flask, count: int, sealed_each: int) -> dict[str, Any]:
    """Three inboxes, a caseworker in all of them, `count` reports; returns ids to open."""
    started = time.perf_counter()
    columns = {c.name for c in Report.__table__.columns}
    with app.app_context():
        user = bootstrap.create_user(USER, "Bench Handläggare", "caseworker", PASSWORD)
        totp = accounts.begin_totp_enrolment(user, app.config["APP_KEYS"])
        user.totp_enrolled_at, user.must_change_password = NOW, False
        inboxes = []
        for slug in ("bench-barn", "bench-unga", "bench-vuxna"):
            inbox, secret, _code = bootstrap.create_inbox(
                slug, slug.title(), None, link_key=os.urandom(32)
            )
            db.session.flush()
            accounts.grant(user, inbox.id, secret, by=user)
            inboxes.append(inbox)
        db.session.commit()
        openable: list[str] = []
        template: dict[int, bytes] = {}
        rows: list[dict[str, Any]] = []
        insert = sa.insert(Report.__table__)
        for n in range(count):
            inbox = inboxes[n % 3]
            report_id = f"{n:08x}-0000-4000-8000-{os.urandom(6).hex()}"
            acute_answer = "ja" if n % 10 == 0 else "vet_ej" if n % 10 == 5 else "nej"
            status = STATUSES[min(4, (n // 3) % 7)] if n >= 300 else "received"
            if n < 3 * sealed_each:
                sealed = service.seal_answers(
                    answers(n),
                    report_id=report_id,
                    inbox_id=inbox.id,
                    public_key=inbox.public_key,
                    version=service.SCHEMA_VERSION,
                )
                template.setdefault(inbox.id, sealed)
                openable.append(report_id)
            else:
                sealed = template[inbox.id]
            row = {
                "id": report_id,
                "reference": f"B{n:09d}",
                "inbox_id": inbox.id,
                "received_at": NOW - timedelta(minutes=5 * n),
                "status": status,
                "acute": acute_answer == "ja",
                "acute_answer": acute_answer,
                "subject_type": "vuxen" if inbox.slug == "bench-vuxna" else "barn",
                "feedback_requested": False,
                "schema_version": service.SCHEMA_VERSION,
                "sealed": None if status == "purged" else sealed,
                "purged_at": NOW if status == "purged" else None,
                "assessed_at": NOW if status != "received" else None,
                # Plain triage columns and the stored next deadline (issues 13 §2, 14 §1);
                # every fifth report assigned to the caseworker (the "Mina" page).
                "reporter_kind": ("privat", "yrkesverksam", "anonym")[(n // 7) % 3],
                "concern_group": ("vald", "omsorg", "eget", "annat")[n % 4],
                "assigned_to_id": user.id if n % 5 == 0 else None,
            }
            unset = dict.fromkeys(("decision", "decided_on", "registered_on", "feedback_sent_at"))
            due, kind = next_deadline.compute(SimpleNamespace(**unset, **row))  # type: ignore[arg-type]
            row["next_deadline"], row["next_deadline_kind"] = due, kind
            rows.append({k: v for k, v in row.items() if k in columns})
            if len(rows) == 5000:
                db.session.execute(insert, rows)
                rows = []
        if rows:
            db.session.execute(insert, rows)
        db.session.commit()
        tally.fold()  # what the worker does every minute on PostgreSQL
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text("VACUUM ANALYZE")  # report, and report_tally after 100k updates
                )
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return {
        "totp": totp,
        "openable": [r for r in openable if r],
        "build_s": time.perf_counter() - started,
    }


def sign_in(app: Flask, totp: str) -> FlaskClient:
    """The caseworker signed in (password + TOTP)."""
    client = app.test_client()
    response = client.post("/personal/logga-in", data={"email": USER, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    code = pyotp.TOTP(totp).at(int(NOW.timestamp()))
    response = client.post("/personal/tvastegsverifiering", data={"code": code})
    assert response.status_code == 302, response.status_code
    return client


def get(client: FlaskClient, path: str, must: str) -> Callable[[], None]:
    """A GET that must answer 200 with the given text."""

    def call() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert must in response.get_data(as_text=True), (path, must)

    return call


def deep_page(client: FlaskClient, hops: int) -> str:
    """The URL of a deep page: `hops` times "Nästa" from the first (keyset), else ?sida=."""
    html = client.get("/personal/inkorg").get_data(as_text=True)
    if LINK.search(html) is None:  # before keyset pagination: OFFSET pages
        return f"/personal/inkorg?sida={hops + 1}"
    url = "/personal/inkorg"
    for _ in range(hops):
        found = LINK.search(html)
        assert found is not None
        url = found.group(1).replace("&amp;", "&")
        html = client.get(url).get_data(as_text=True)
    return url


def measure(call: Callable[[], None], rounds: int, requests: int) -> dict[str, float]:
    """Warm up, then time `rounds` × `requests` calls: wall p50/p99, CPU p50."""
    for _ in range(3):
        call()
    load = os.getloadavg()[0]
    wall, cpu = [], []
    for _ in range(rounds):
        for _ in range(requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "p50_ms": statistics.median(wall),
        "p99_ms": percentile(wall, 0.99),
        "cpu_p50_ms": statistics.median(cpu),
        "load": load,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build, fill, sign in, measure one database."""
    clock.now = lambda: NOW  # the clock seam
    with database(args.postgres) as url, tempfile.TemporaryDirectory() as instance:
        app = build_app(url, Path(instance))
        filled = fill(app, args.reports, args.sealed)
        print(f"  built {args.reports} reports in {filled['build_s']:.1f} s", file=sys.stderr)
        client = sign_in(app, filled["totp"])
        hops = min(args.deep, max(1, args.reports // 25 - 2))
        opened = iter(filled["openable"] * (args.rounds * args.requests + 10))
        pages: dict[str, Callable[[], None]] = {
            "staff overview": get(client, "/personal/", "Till inkorgen"),
            "inbox, first page": get(client, "/personal/inkorg", "Sida 1 av"),
            "inbox, filtered": get(client, "/personal/inkorg?status=assessed&akut=nej", "Sida"),
            "inbox, a deep page": get(client, deep_page(client, hops), "Sida"),
            "inbox, mine": get(client, "/personal/inkorg?handlaggare=mina", "Sida"),
            "inbox, overdue violence": get(
                client, "/personal/inkorg?frist=forsenad&oro=vald", "Sida"
            ),
            "open one report": lambda: get(client, f"/personal/anmalan/{next(opened)}", "Barn")(),
        }
        results = {name: measure(call, args.rounds, args.requests) for name, call in pages.items()}

        def password_step() -> None:
            fresh = app.test_client()
            response = fresh.post("/personal/logga-in", data={"email": USER, "password": PASSWORD})
            assert response.status_code == 302, response.status_code

        results["sign-in (password step)"] = measure(password_step, 1, max(5, args.requests // 6))
        with app.app_context():
            dialect = db.engine.dialect.name
            db.engine.dispose()
    return {"database": dialect, "pages": results, "deep_hops": hops}


def bare(args: argparse.Namespace) -> dict[str, float]:
    """A bare Flask GET through the same in-process client."""
    client = bare_app.app.test_client()
    return measure(get(client, "/", "ok"), args.rounds, args.requests)


def table(runs: list[dict[str, Any]], floor: dict[str, float]) -> str:
    """The issue's table: p50 wall (CPU), p99, load, per database; the bare floor."""
    names = list(runs[0]["pages"])
    head = (
        "| page | "
        + " | ".join(f"{r['database']} p50 (CPU) | p99 | load" for r in runs)
        + " | bare GET floor |"
    )
    lines = [head, "|" + "---|" * (2 + 3 * len(runs))]
    for i, name in enumerate(names):
        cells = []
        for r in runs:
            m = r["pages"][name]
            cells += [
                f"{m['p50_ms']:.1f} ms ({m['cpu_p50_ms']:.1f})",
                f"{m['p99_ms']:.1f} ms",
                f"{m['load']:.1f}",
            ]
        first = f"{floor['p50_ms']:.2f} ms" if i == 0 else ""
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {first} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the bench on SQLite and (unless --no-postgres) PostgreSQL; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sealed", type=int, default=20, help="properly sealed per inbox")
    parser.add_argument("--deep", type=int, default=120, help="pages deep (the deep page)")
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="server"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    runs = []
    if not args.only_postgres:
        runs.append(run(argparse.Namespace(**{**vars(args), "postgres": None})))
    if not args.no_postgres:
        runs.append(run(args))
    floor = bare(args)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(table(runs, floor))
    print(f"\nRSS of this process (one worker's share) after the runs: max {rss_mb:.0f} MB")
    print(f"Target: p50 ≤ {TARGET_MS:.0f} ms on every page but sign-in; p99 ≤ 3 × p50.")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "bare": floor, "rss_mb": rss_mb}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
