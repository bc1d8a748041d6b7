"""The monthly activity totals (models.ActivityTotal) that the dashboard sums instead of every
activity: kept in the same transaction as each change, through the service or straight
through the session, from the row as stored (not a stale object), under concurrent writers;
rebuilt after a bulk load and by migration 0006; and the ledger's counts from them equal to
summing the activities inside each promise's window, whether or not it cuts a month."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from intake import create_app
from intake.extensions import db
from intake.followup import progress, service
from intake.followup.models import Activity, ActivityTotal, MonthOf, Promise

from ..conftest import POSTGRES, RUN_ID, base_config
from .factories import (
    DIALOGUES,
    DOGS,
    OROSANMALAN,
    TRAFFIC,
    add_activity,
    add_dialogue,
    commitment,
    commitment_id,
    ledger,
    seed_admin,
    seed_promise,
    utc,
)

TODAY = date(2026, 7, 2)


def _kept() -> dict[tuple[int, date], int]:
    """The totals as kept (months that came back to zero left out)."""
    rows = db.session.execute(
        sa.select(ActivityTotal.commitment_id, ActivityTotal.month, ActivityTotal.total)
    )
    return {(found, month): total for found, month, total in rows if total}


def _summed() -> dict[tuple[int, date], int]:
    """The same, summed from the activities themselves."""
    month = MonthOf(Activity.occurred_on)
    rows = db.session.execute(
        sa.select(Activity.commitment_id, month, sa.func.sum(Activity.count)).group_by(
            Activity.commitment_id, month
        )
    )
    return {(found, month): int(total) for found, month, total in rows if total}


def _traffic_totals() -> dict[date, int]:
    traffic = commitment_id(TRAFFIC)
    return {month: total for (found, month), total in _kept().items() if found == traffic}


# --- Kept with every change -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "delete", "expected"),
    [
        (None, False, {date(2026, 3, 1): 3}),  # added
        (service.ActivityInput(date(2026, 3, 1), 5, "", ""), False, {date(2026, 3, 1): 5}),
        (service.ActivityInput(date(2026, 3, 31), 3, "", ""), False, {date(2026, 3, 1): 3}),
        (service.ActivityInput(date(2026, 4, 1), 3, "", ""), False, {date(2026, 4, 1): 3}),
        (service.ActivityInput(date(2025, 12, 31), 3, "", ""), False, {date(2025, 12, 1): 3}),
        (service.ActivityInput(date(2024, 2, 29), 7, "", ""), False, {date(2024, 2, 1): 7}),
        (
            service.ActivityInput(date(2026, 3, 1), 3, "Skolgatan", "Ny"),
            False,
            {date(2026, 3, 1): 3},
        ),
        (None, True, {}),
    ],
    ids=[
        "added",
        "count",
        "same-month",
        "next-month",
        "year",
        "year-and-count",
        "place-and-note",
        "deleted",
    ],
)
def test_totals_follow_each_change_through_the_service(
    app: Flask, freeze, change: service.ActivityInput | None, delete: bool, expected: dict
) -> None:
    with app.app_context():
        # Given 3 traffic controls recorded on 1 March 2026
        admin = seed_admin()
        activity = service.add_activity(
            commitment(TRAFFIC),
            service.ActivityInput(date(2026, 3, 1), 3, "Älvåkraskolan", ""),
            user=admin,
        )
        # When the activity is changed or removed
        if change is not None:
            service.update_activity(activity, change, user=admin)
        if delete:
            service.delete_activity(activity, user=admin)
        # Then the monthly totals say what summing the activities says
        assert _traffic_totals() == expected
        assert _kept() == _summed()


def test_totals_follow_changes_made_straight_through_the_session(app: Flask, freeze) -> None:
    with app.app_context():
        # Given activities stored without the service (as setup, demo data or a script would)
        first = add_activity(TRAFFIC, date(2026, 2, 1), count=2)
        second = add_activity(TRAFFIC, date(2026, 2, 2), count=4)
        add_activity(DOGS, date(2025, 5, 5), count=1)
        assert _traffic_totals() == {date(2026, 2, 1): 6}
        # When one moves to another commitment and year, and the other is deleted
        moved = db.session.get(Activity, first)
        moved.commitment_id, moved.occurred_on = commitment_id(DOGS), date(2025, 5, 6)
        db.session.delete(db.session.get(Activity, second))
        db.session.commit()
        # Then both commitments' totals moved with them
        assert _traffic_totals() == {}
        assert (
            _kept()
            == _summed()
            == {
                (commitment_id(DOGS), date(2025, 5, 1)): 3,
                (commitment_id(OROSANMALAN), date(2026, 7, 1)): 1,  # the e-service, by setup
            }
        )


def test_a_rolled_back_change_leaves_the_totals(app: Flask, freeze) -> None:
    with app.app_context():
        add_activity(TRAFFIC, date(2026, 2, 1), count=2)
        db.session.add(
            Activity(
                commitment_id=commitment_id(TRAFFIC),
                occurred_on=date(2026, 2, 3),
                count=9,
                recorded_at=utc(2026, 2, 3, 9, 0),
            )
        )
        db.session.flush()
        db.session.rollback()
        assert _traffic_totals() == {date(2026, 2, 1): 2}


@pytest.mark.parametrize("stale", ["update", "delete"])
def test_a_stale_object_takes_away_what_is_stored(app: Flask, freeze, stale: str) -> None:
    with app.app_context():
        # Given an activity of 1, loaded by a second session
        activity_id = add_activity(TRAFFIC, date(2026, 2, 1), count=1)
        with sa.orm.Session(db.engine, expire_on_commit=False) as other:
            old = other.get(Activity, activity_id)
            assert old is not None and old.count == 1
            # When the first session changes it to 5 and commits
            service.update_activity(
                db.session.get(Activity, activity_id),
                service.ActivityInput(date(2026, 2, 1), 5, "", ""),
                user=seed_admin(),
            )
            # And the second, still holding count 1, changes or removes it
            if stale == "update":
                old.count = 7
            else:
                other.delete(old)
            other.commit()
        # Then the 5 stored was taken away, not the 1 the second session had loaded
        db.session.expire_all()
        assert _traffic_totals() == ({date(2026, 2, 1): 7} if stale == "update" else {})
        assert _kept() == _summed()


def test_concurrent_additions_are_all_counted(app: Flask, freeze) -> None:
    # Given four writers adding to the same commitment and year at the same moment
    writers, each = 4, 10
    start, failures = threading.Barrier(writers), []

    def work(offset: int) -> None:
        try:
            with app.app_context():
                traffic, admin = commitment(TRAFFIC), seed_admin()
                start.wait()
                for n in range(each):
                    day = date(2026, 1, 1) + timedelta(days=offset * each + n)
                    service.add_activity(traffic, service.ActivityInput(day, 1, "", ""), user=admin)
        except BaseException as error:  # reported below, with the database it happened on
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Then every one of them is in the year's total
    assert not failures, f"{'PostgreSQL' if POSTGRES else 'SQLite'}: {failures!r}"
    with app.app_context():
        assert sum(_traffic_totals().values()) == writers * each
        assert _kept() == _summed()


def test_recount_after_a_bulk_insert(app: Flask, freeze) -> None:
    with app.app_context():
        # Given a bulk insert, which fires no mapper events
        rows = [
            {
                "commitment_id": commitment_id(TRAFFIC),
                "occurred_on": date(year, 4, 1),
                "count": 2,
                "place": "",
                "note": "",
                "recorded_at": utc(2026, 7, 1, 8, 0),
            }
            for year in (2024, 2025, 2025)
        ]
        db.session.execute(sa.insert(Activity), rows)
        db.session.commit()
        assert _traffic_totals() == {}
        # When the totals are recounted
        service.recount_totals()
        # Then they match the activities again
        assert _traffic_totals() == {date(2024, 4, 1): 2, date(2025, 4, 1): 4}
        assert _kept() == _summed()


# --- The ledger's counts from the totals ------------------------------------------------------


def _inside(windows: dict[int, progress.Window], promise_id: int, day: date) -> bool:
    window = windows[promise_id]
    return window.start <= day and (window.end is None or day <= window.end)


def _month_edges(day: date) -> list[date]:
    """The day before, the day itself, and the first and last day of its month."""
    last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return [day - timedelta(days=1), day, day.replace(day=1), last]


@pytest.mark.parametrize(
    ("starts", "takeover"),
    [
        (date(2021, 1, 1), date(2026, 7, 1)),  # both on the first of a month
        (date(2021, 3, 15), date(2026, 7, 1)),  # the seed starts mid-month
        (date(2021, 1, 1), date(2026, 7, 15)),  # the takeover cuts July in two
        (date(2021, 3, 15), date(2021, 3, 20)),  # the seed in force for five days
    ],
)
def test_counts_equal_the_activities_inside_each_window(
    app: Flask, freeze, starts: date, takeover: date
) -> None:
    freeze(utc(2026, 9, 30, 10, 0))
    with app.app_context():
        # Given the seed promise moved to start on `starts`, a new one taking over
        seed = seed_promise()
        seed.valid_from = starts
        db.session.commit()
        old_id = seed.id
        new_id = service.start_new_promise(
            seed,
            title="Medborgarlöfte 2026–2027",
            valid_from=takeover,
            valid_to=date(2027, 12, 31),
            until_replaced=True,
            signed_on=date(2021, 1, 1),
            user=seed_admin(),
        ).id
        # And activities on both promises' commitments around every edge, and at year ends
        days = sorted(
            {
                *_month_edges(starts),
                *_month_edges(takeover),
                date(2021, 1, 1),
                date(2021, 12, 31),
                date(2024, 1, 1),
                date(2026, 12, 31),
                date(2027, 2, 1),
            }
        )
        stored = []
        for promise_id in (old_id, new_id):
            for position in (DOGS, TRAFFIC):
                target = commitment_id(position, promise_id=promise_id)
                for number, day in enumerate(days, start=1):
                    add_activity(target, day, count=number, by_id=True)
                    stored.append((promise_id, target, day, number))
        # Then each commitment counts exactly its activities inside its promise's window
        books = ledger(date(2026, 9, 30))
        expected: dict[tuple[int, int], int] = {}
        for promise_id, target, day, number in stored:
            if _inside(books.windows, promise_id, day):
                key = (target, day.year)
                expected[key] = expected.get(key, 0) + number
        counted = {
            key: value
            for key, value in books.counts.items()
            if key[0] in {target for _, target, _, _ in stored} and value
        }
    assert counted == expected


@pytest.mark.parametrize(
    ("first", "last", "done"),
    [
        (date(2021, 3, 1), date(2021, 9, 30), 2 + 4 + 8 + 16 + 32 + 64 + 128),
        (date(2021, 3, 10), date(2021, 9, 20), 8 + 16 + 32),
        (date(2021, 3, 10), date(2021, 3, 20), 8 + 16),
    ],
)
def test_a_window_inside_one_year(app: Flask, freeze, first: date, last: date, done: int) -> None:
    with app.app_context():
        # Given a promise in force only from `first` to `last` in 2021
        seed = seed_promise()
        seed.valid_from, seed.valid_to, seed.until_replaced = first, last, False
        db.session.commit()
        for count, day in enumerate(
            [
                date(2021, 2, 28),
                date(2021, 3, 1),
                date(2021, 3, 9),
                date(2021, 3, 10),
                date(2021, 3, 20),
                date(2021, 9, 20),
                date(2021, 9, 21),
                date(2021, 9, 30),
                date(2021, 10, 1),
            ]
        ):
            add_activity(TRAFFIC, day, count=2**count)
        books = ledger(TODAY)
        # Then only the days inside count, and later years are not the promise's
        assert books.progress(commitment(TRAFFIC), 2021).done == done
        assert books.progress(commitment(TRAFFIC), 2022) is None


def test_a_promise_closed_before_it_began_counts_nothing(app: Flask, freeze) -> None:
    with app.app_context():
        seed = seed_promise()
        seed.closed_on = date(2020, 12, 31)
        db.session.commit()
        add_activity(TRAFFIC, date(2021, 5, 1), count=3)
        books = ledger(TODAY)
        assert books.years == [2021]
        assert dict(books.counts) == {}


def test_held_dialogues_count_per_promise_and_year(app: Flask, freeze) -> None:
    freeze(utc(2026, 9, 30, 10, 0))
    with app.app_context():
        # Given held dialogues in several years, either side of a new promise from 1 July 2026
        old_id = seed_promise().id
        new_id = service.start_new_promise(
            seed_promise(),
            title="Medborgarlöfte 2026–2027",
            valid_from=date(2026, 7, 1),
            valid_to=date(2027, 12, 31),
            until_replaced=True,
            signed_on=date(2026, 6, 15),
            user=seed_admin(),
        ).id
        for moment in [
            utc(2021, 2, 1, 17, 0),
            utc(2021, 11, 1, 17, 0),
            utc(2023, 5, 1, 16, 0),
            utc(2026, 6, 1, 16, 0),
            utc(2026, 8, 1, 16, 0),
            utc(2026, 9, 1, 16, 0),
            utc(2026, 9, 2, 16, 0),
        ]:
            add_dialogue(moment)
        add_dialogue(utc(2026, 9, 3, 16, 0), held=False)
        books = ledger(date(2026, 9, 30))
        old, new = (
            commitment(DIALOGUES, promise_id=old_id),
            commitment(DIALOGUES, promise_id=new_id),
        )
        # Then each counts for its own promise's dialogue commitment in its own year
        assert {y: books.progress(old, y).done for y in books.years} == {
            2021: 2,
            2022: 0,
            2023: 1,
            2024: 0,
            2025: 0,
            2026: 1,
        }
        assert books.progress(new, 2026).done == 3


def test_a_new_promise_changes_what_counts_at_once(app: Flask, freeze) -> None:
    freeze(utc(2026, 9, 30, 10, 0))
    with app.app_context():
        # Given an activity after 1 July on the seed promise, counted
        old_id = seed_promise().id
        add_activity(TRAFFIC, date(2026, 8, 1), count=4)
        assert ledger(date(2026, 9, 30)).progress(commitment(TRAFFIC), 2026).done == 4
        # When a new promise takes over from 1 July
        service.start_new_promise(
            seed_promise(),
            title="Medborgarlöfte 2026–2027",
            valid_from=date(2026, 7, 1),
            valid_to=date(2027, 12, 31),
            until_replaced=True,
            signed_on=date(2026, 6, 15),
            user=seed_admin(),
        )
        # Then the next ledger no longer counts it for the old promise (nor for the new one)
        books = ledger(date(2026, 9, 30))
        assert books.progress(commitment(TRAFFIC, promise_id=old_id), 2026).done == 0
        assert books.progress(commitment(TRAFFIC), 2026).done == 0


# --- Migration 0006 totals what is already there ----------------------------------------------


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base = sa.make_url(os.environ["INTAKE_DATABASE_URL"])
    name = f"intake_totals_{RUN_ID}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_0006_totals_the_activities_already_recorded(
    empty_url: str, instance_path: Path
) -> None:
    app = create_app(base_config(empty_url))
    try:
        with app.app_context():
            # Given a database at 0005 with a promise, two commitments and their activities
            # (bulk inserts: the ORM events would write to a table 0005 does not have yet)
            upgrade(revision="0005")
            moment = utc(2026, 7, 1, 8, 0)
            db.session.execute(
                sa.insert(Promise),
                [
                    {
                        "id": 1,
                        "title": "Löfte",
                        "municipality": "Älvsbyn",
                        "police_area": "Piteå",
                        "valid_from": date(2021, 1, 1),
                        "valid_to": None,
                        "signed_on": None,
                        "closed_on": None,
                        "created_at": moment,
                    }
                ],
            )
            # (the table as 0005 has it: the model has columns later migrations add)
            columns = (
                "id", "promise_id", "position", "text", "area", "party", "target_type", "target",
                "counts_what", "source",
            )  # fmt: skip
            db.session.execute(
                sa.insert(sa.table("commitment", *(sa.column(name) for name in columns))),
                [
                    {
                        "id": found,
                        "promise_id": 1,
                        "position": found,
                        "text": "",
                        "area": "",
                        "party": "polisen",
                        "target_type": "per_year",
                        "target": 2,
                        "counts_what": "",
                        "source": "activities",
                    }
                    for found in (1, 2)
                ],
            )
            db.session.execute(
                sa.insert(Activity),
                [
                    {
                        "commitment_id": found,
                        "occurred_on": day,
                        "count": count,
                        "place": "",
                        "note": "",
                        "recorded_at": moment,
                    }
                    for found, day, count in [
                        (1, date(2025, 12, 31), 2),
                        (1, date(2026, 1, 1), 3),
                        (1, date(2026, 6, 1), 4),
                        (2, date(2024, 2, 29), 1),
                    ]
                ],
            )
            db.session.commit()
            # When it is upgraded to 0006
            upgrade(revision="0006")
            # Then the totals hold what was there, month by month
            assert (
                _kept()
                == _summed()
                == {
                    (1, date(2025, 12, 1)): 2,
                    (1, date(2026, 1, 1)): 3,
                    (1, date(2026, 6, 1)): 4,
                    (2, date(2024, 2, 1)): 1,
                }
            )
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
