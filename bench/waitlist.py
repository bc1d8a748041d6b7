"""Cost of a dialogue sign-up onto the waiting list, as the list grows (issue 14 §3).

    .venv/bin/python bench/waitlist.py [--signups 30] [--levels 0,500,2000,5000]
    .venv/bin/python bench/waitlist.py --postgres postgresql://postgres@127.0.0.1:5432/test

Builds a database (an SQLite file, or `intake_bench` on the given PostgreSQL server, dropped
afterwards; see `dashboard.database`) with the schema from the migrations, a 40-seat dialogue
whose seats are all taken, then for each level: bulk-inserts waiting registrations until that
many are waiting and times `--signups` sign-ups through the test client (the whole POST of
`/dialoger/<id>/anmalan`: lock, duplicate check, seat check, insert, waiting-list position,
outbox mail, commit). Each timed sign-up joins the waiting list. Prints wall and CPU p50 per
sign-up per level and the ratio of the largest level to level 0 (target: flat, ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from dashboard import build_app, database
from flask import Flask

from intake import clock
from intake.dialogues.models import CONFIRMED, IN_PERSON, WAITLISTED, Dialogue, Registration
from intake.extensions import db

CAPACITY = 40


def new_full_dialogue(app: Flask) -> int:
    """A 40-seat dialogue in two weeks, every seat taken; returns its id."""
    with app.app_context():
        now = clock.now()
        dialogue = Dialogue(
            title="Trygghet i centrum",
            description="Polisen och kommunen berättar och lyssnar.",
            themes=["trygghet"],
            hosts=["polisen"],
            starts_at=now + timedelta(days=14),
            ends_at=now + timedelta(days=14, hours=2),
            format=IN_PERSON,
            place="Folkets hus",
            address="Storgatan 1, Älvsbyn",
            capacity=CAPACITY,
            reminder_hours=24,
            created_at=now,
            updated_at=now,
        )
        db.session.add(dialogue)
        db.session.commit()
        _insert(dialogue.id, CONFIRMED, 0, CAPACITY)
        return int(dialogue.id)


def _insert(dialogue_id: int, status: str, start: int, count: int) -> None:
    """`count` registrations without personal data (they only take places), in order."""
    if count <= 0:
        return
    base = clock.now() - timedelta(days=1)
    db.session.execute(
        sa.insert(Registration),
        [
            {
                "dialogue_id": dialogue_id,
                "email_tag": f"bulk-{status}-{n:06d}",
                "party_size": 1,
                "status": status,
                "locale": "sv",
                "created_at": base + timedelta(milliseconds=n),
            }
            for n in range(start, start + count)
        ],
    )
    db.session.commit()


def waiting(dialogue_id: int) -> int:
    """How many are waiting now."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registration)
            .where(Registration.dialogue_id == dialogue_id, Registration.status == WAITLISTED)
        )
        or 0
    )


def run(url: str, levels: list[int], signups: int) -> list[tuple[int, float, float]]:
    """(waiting before, wall p50 ms, CPU p50 ms) per level."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-waitlist-") as folder:
        app = build_app(url, Path(folder))
        dialogue_id = new_full_dialogue(app)
        client = app.test_client()
        rows = []
        bulk = 0
        for level in levels:
            with app.app_context():
                need = level - waiting(dialogue_id)
                _insert(dialogue_id, WAITLISTED, bulk, need)
                bulk += max(need, 0)
                before = waiting(dialogue_id)
            walls, cpus = [], []
            for n in range(signups):
                form = {
                    "name": "Anna Andersson",
                    "email": f"anna.{level}.{n}@example.com",
                    "party_size": "1",
                    "privacy": "y",
                }
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.post(f"/dialoger/{dialogue_id}/anmalan", data=form)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 303, response.status_code
                assert "/reserv-" in response.location, response.location
            rows.append((before, statistics.median(walls), statistics.median(cpus)))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return rows


def main(argv: list[str] | None = None) -> int:
    """Print ms per waiting-list sign-up at each level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--signups", type=int, default=30)
    parser.add_argument("--levels", default="0,500,2000,5000")
    args = parser.parse_args(argv)
    levels = sorted(int(level) for level in args.levels.split(","))
    with database(args.postgres) as url:
        rows = run(url, levels, args.signups)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Waiting-list sign-up, {engine}, {args.signups} sign-ups per level (p50)")
    print(f"{'waiting':>8}  {'wall ms':>8}  {'CPU ms':>8}")
    for before, wall, cpu in rows:
        print(f"{before:>8}  {wall:>8.2f}  {cpu:>8.2f}")
    ratio = rows[-1][2] / rows[0][2] if rows[0][2] else float("nan")
    print(f"CPU at {rows[-1][0]} waiting / at {rows[0][0]}: {ratio:.2f}× (target ≤ 1.5×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
