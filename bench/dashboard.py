"""Server time of the follow-up dashboard on ten years of data.

    .venv/bin/python bench/dashboard.py [--requests 60] [--warmup 5] [--profile]
    .venv/bin/python bench/dashboard.py --postgres postgresql://postgres@127.0.0.1:5432/test

Builds a database (an SQLite file in a temp folder; with --postgres, a database `intake_bench`
created, and dropped afterwards, on that server) with the schema from the migrations and what
setup creates, then:

- promises: the seed promise moved to start on 2017-01-01 ("until a new promise is given"),
  and a second promise taking over on 2022-07-01 (so every count depends on the windows);
- 10 years (2017–2026) × 6 commitments × 500 activities = 30,000 rows, bulk inserted, each on
  the commitment of the promise in force on its date (the 5,000 on the dialogue commitment are
  not counted: held dialogues count from their reports), then their monthly totals recounted
  (`service.recount_totals`: a bulk insert fires none of the events that keep them);
- 40 dialogues a year, each with a held report (35 held, 5 not held), and a reason per
  commitment and year.

The clock seam is frozen at 2026-10-15 12:00 UTC. An admin signs in through the test client
(password + TOTP), and after a warm-up every GET of `/personal/uppfoljning/?ar=<year>` is
timed with time.perf_counter (the whole WSGI round trip in-process: session, guard, ledger,
template). SQL statements are counted with a `before_cursor_execute` listener. Also timed:
`progress.Ledger(today=...)` alone, and the public page. Target: dashboard p50 ≤ 30 ms.
"CPU p50" is this process's CPU time per request (time.process_time): on a shared, loaded
machine it tracks the work better than wall time (but leaves out PostgreSQL's own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from intake import bootstrap, clock, create_app
from intake.accounts import service as accounts
from intake.accounts.models import User
from intake.dialogues.models import Dialogue, HeldReport
from intake.extensions import db
from intake.followup import progress
from intake.followup import service as followup
from intake.followup.models import Activity, Commitment, Promise, YearNote

NOW = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
YEARS = range(2017, 2027)
ACTIVITIES_PER_YEAR = 500
DIALOGUES_PER_YEAR, NOT_HELD_PER_YEAR = 40, 5
TAKEOVER = date(2022, 7, 1)
ADMIN, PASSWORD = "bench-admin@example.com", "korrekt häst batteri häftklammer"
TARGET_P50_MS = 30.0
PG_NAME = "intake_bench"
PLACES = ("Älvåkraskolan", "Vidselskolan", "Knut Lundmarkskolan", "Centrumskolan", "Korsträsk")


@dataclass
class Timing:
    """Per-request figures for one page or call."""

    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    cpu_p50_ms: float
    statements: float

    def line(self) -> str:
        """One row of the printed table."""
        return (
            f"{self.name:<44} {self.runs:>5} {self.p50_ms:>8.2f} {self.p95_ms:>8.2f} "
            f"{self.max_ms:>8.2f} {self.cpu_p50_ms:>8.2f} {self.statements:>6.1f}"
        )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- Database -------------------------------------------------------------------------------


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or `intake_bench` on the given server."""
    if postgres is None:
        with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
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
    """The app on that database, migrated, after setup."""
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
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8,
            "ARGON2_PARALLELISM": 1,
        }
    )
    with app.app_context():
        upgrade()
        bootstrap.run_setup()
    return app


def fill(app: Flask) -> dict[str, int]:
    """Promises, 30,000 activities, dialogues with held reports, reasons; returns row counts."""
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
        assert admin is not None
        seed = db.session.scalars(sa.select(Promise)).one()
        seed.valid_from = date(YEARS[0], 1, 1)
        db.session.commit()
        followup.start_new_promise(
            seed,
            title="Medborgarlöfte 2022–2024",
            valid_from=TAKEOVER,
            valid_to=date(2024, 12, 31),
            until_replaced=True,
            signed_on=TAKEOVER - timedelta(days=20),
            user=admin,
        )
        commitments = db.session.scalars(
            sa.select(Commitment).order_by(Commitment.promise_id, Commitment.position)
        ).all()
        by_promise: dict[int, list[Commitment]] = {}
        for found in commitments:
            by_promise.setdefault(found.promise_id, []).append(found)
        old, new = sorted(by_promise)

        activities = []
        for year in YEARS:
            # Spread over the year; this year only up to today (no activity in the future).
            span = min(365, (NOW.date() - date(year, 1, 1)).days + 1)
            for position in range(6):
                for n in range(ACTIVITIES_PER_YEAR):
                    day = date(year, 1, 1) + timedelta(days=(n * 7 + position) % span)
                    owner = by_promise[new if day >= TAKEOVER else old][position]
                    activities.append(
                        {
                            "commitment_id": owner.id,
                            "occurred_on": day,
                            "count": 1 + n % 3,
                            "place": PLACES[n % len(PLACES)],
                            "note": "",
                            "recorded_by_id": admin.id,
                            "recorded_at": NOW,
                        }
                    )
        db.session.execute(sa.insert(Activity), activities)
        # A bulk insert fires no mapper events: total the years as migration 0006 does.
        followup.recount_totals()

        dialogues = []
        for year in YEARS:
            for n in range(DIALOGUES_PER_YEAR):
                starts = datetime(year, 1, 10, 17, 0, tzinfo=UTC) + timedelta(days=n * 8)
                dialogues.append(
                    {
                        "title": f"Medborgardialog {year} nr {n + 1}",
                        "description": "",
                        "themes": [],
                        "hosts": [],
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=2),
                        "place": "Folkets hus",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        db.session.execute(sa.insert(Dialogue), dialogues)
        ids = db.session.scalars(sa.select(Dialogue.id).order_by(Dialogue.id)).all()
        db.session.execute(
            sa.insert(HeldReport),
            [
                {
                    "dialogue_id": dialogue_id,
                    "held": index % DIALOGUES_PER_YEAR >= NOT_HELD_PER_YEAR,
                    "attendees": 20,
                    "summary": "",
                    "themes_raised": "",
                    "follow_up_actions": "",
                    "recorded_at": NOW,
                }
                for index, dialogue_id in enumerate(ids)
            ],
        )
        db.session.execute(
            sa.insert(YearNote),
            [
                {
                    "commitment_id": found.id,
                    "year": year,
                    "reason": "Resursbrist under perioden.",
                    "next_planned_on": date(year, 11, 1),
                    "updated_at": NOW,
                }
                for found in commitments
                for year in YEARS
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would have done after a load like this; SQLite is left as the
            # app leaves it (it never runs ANALYZE).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        return {
            table.__tablename__: int(
                db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            )
            for table in (Promise, Commitment, Activity, Dialogue, HeldReport, YearNote)
        }


def sign_in(app: Flask) -> FlaskClient:
    """An admin with TOTP, signed in through the client."""
    with app.app_context():
        user = bootstrap.create_user(ADMIN, "Bench Admin", "admin", PASSWORD)
        secret = accounts.begin_totp_enrolment(user, app.config["APP_KEYS"])
        user.totp_enrolled_at, user.must_change_password = NOW, False
        db.session.commit()
    client = app.test_client()
    response = client.post("/personal/logga-in", data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    code = pyotp.TOTP(secret).at(int(NOW.timestamp()))
    response = client.post("/personal/tvastegsverifiering", data={"code": code})
    assert response.status_code == 302, response.status_code
    return client


# --- Timing ---------------------------------------------------------------------------------


class StatementCounter:
    """Counts SQL statements sent to the database."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        """before_cursor_execute listener."""
        self.count += 1


def measure(
    name: str, call: Callable[[], None], counter: StatementCounter, runs: int, warmup: int
) -> Timing:
    """Warm up, then time each call and count its statements."""
    for _ in range(warmup):
        call()
    times, cpu, statements = [], [], []
    for _ in range(runs):
        before = counter.count
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        statements.append(counter.count - before)
    return Timing(
        name=name,
        runs=runs,
        p50_ms=statistics.median(times),
        p95_ms=percentile(times, 0.95),
        max_ms=max(times),
        cpu_p50_ms=statistics.median(cpu),
        statements=statistics.mean(statements),
    )


def page(client: FlaskClient, path: str, must_contain: str) -> Callable[[], None]:
    """A GET that must answer 200 with the given text."""

    def call() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert must_contain in response.get_data(as_text=True), path

    return call


def ledger_alone(app: Flask) -> Callable[[], None]:
    """progress.Ledger in its own app context and session, as a request would have it."""

    def call() -> None:
        with app.app_context():
            books = progress.Ledger(today=clock.local_date(clock.now()))
            books.year(2022)
            db.session.remove()

    return call


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build, fill, sign in, measure; returns the figures."""
    clock.now = lambda: NOW  # the clock seam: every caller goes through the module
    label = "PostgreSQL" if args.postgres else "SQLite"
    with database(args.postgres) as url, tempfile.TemporaryDirectory() as instance:
        started = time.perf_counter()
        app = build_app(url, Path(instance))
        rows = fill(app)
        built = time.perf_counter() - started
        client = sign_in(app)
        counter = StatementCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        checks = [
            ("dashboard ?ar=2026 (GET)", "/personal/uppfoljning/?ar=2026", "av 10"),
            ("dashboard ?ar=2022 (GET, two promises)", "/personal/uppfoljning/?ar=2022", "av 10"),
            ("public page /medborgarloftet/ (GET)", "/medborgarloftet/", "2017"),
        ]
        timings = [
            measure(name, page(client, path, text), counter, args.requests, args.warmup)
            for name, path, text in checks
        ]
        timings.append(
            measure(
                "progress.Ledger(today=...) + year(2022)",
                ledger_alone(app),
                counter,
                args.requests,
                args.warmup,
            )
        )
        profile = ""
        if args.profile:
            profiler = cProfile.Profile()
            call = page(client, "/personal/uppfoljning/?ar=2026", "av 10")
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            profile = out.getvalue()
        sa.event.remove(engine, "before_cursor_execute", counter)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {
        "database": label,
        "rows": rows,
        "build_seconds": round(built, 1),
        "timings": timings,
        "profile": profile,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print; exit 2 with --strict when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the dashboard")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--strict", action="store_true", help="exit 2 if p50 > 30 ms")
    args = parser.parse_args(argv)

    result = run(args)
    print(f"database: {result['database']}; built in {result['build_seconds']} s")
    print("rows: " + ", ".join(f"{k} {v}" for k, v in result["rows"].items()))
    print(
        f"{'':<44} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p50':>8} {'SQL':>6}"
    )
    for timing in result["timings"]:
        print(timing.line())
    dashboard = result["timings"][0]
    met = dashboard.p50_ms <= TARGET_P50_MS
    print(
        f"target: dashboard p50 ≤ {TARGET_P50_MS:.0f} ms — "
        f"{'met' if met else 'MISSED'} ({dashboard.p50_ms:.2f} ms)"
    )
    if result["profile"]:
        print(result["profile"])
    if args.json:
        payload = {**result, "timings": [asdict(t) for t in result["timings"]]}
        payload.pop("profile")
        Path(args.json).write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 2 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
