"""Counting rules of intake.followup.progress.Ledger (see its docstring): Stockholm years,
held dialogues only, counts, promises "until a new one", a new promise taking over mid-year,
on-pace maths through the clock seam, reasons, roll-ups."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap
from intake.dialogues import questions as dialogues
from intake.dialogues.models import CANCELLED, PLANNED, Dialogue
from intake.extensions import db
from intake.followup import progress, service
from intake.followup.models import Promise

from .factories import (
    DIALOGUES,
    DOGS,
    DRUGS,
    OROSANMALAN,
    SURVEY,
    TRAFFIC,
    add_activity,
    add_dialogue,
    commitment,
    ledger,
    row,
    seed_admin,
    seed_promise,
    utc,
)

TODAY = date(2026, 7, 2)


# --- What setup loads -------------------------------------------------------------------------


def test_setup_loads_the_seed_promise_once(app: Flask) -> None:
    with app.app_context():
        # When setup runs a second time
        bootstrap.run_setup()
        promises = db.session.scalars(sa.select(Promise)).all()
        # Then there is still one promise, with the seed's six commitments in order
        assert [(p.title, p.valid_from, p.signed_on) for p in promises] == [
            ("Medborgarlöfte 2021–2022", date(2021, 1, 1), date(2021, 2, 16))
        ]
        assert [
            (c.party, c.target_type, c.target, c.source, c.area) for c in promises[0].commitments
        ] == [
            ("bada", "per_year", 2, "dialogues", "Tillgänglighet & trygghet"),
            ("kommunen", "once", None, "activities", "Tillgänglighet & trygghet"),
            ("bada", "ongoing", None, "activities", "Droger"),
            ("polisen", "per_year", 2, "activities", "Droger"),
            ("kommunen", "once_per_year", None, "activities", "Droger"),
            ("polisen", "per_year", 10, "activities", "Trafik"),
        ]
        assert "minst två gånger per år genomföra medborgardialoger" in commitment(DIALOGUES).text
        # And this service is the digital orosanmälan: done from the day setup ran
        assert row(TODAY, OROSANMALAN, 2026).status == progress.DONE
        # And 2025, when nothing at all was recorded, says so instead of "not done"
        assert row(TODAY, OROSANMALAN, 2025).status == progress.NO_DATA


# --- Years are Stockholm calendar years ------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "counts_for"),
    [
        # 2025-12-31 23:30 UTC is 00:30 on New Year's Day in Stockholm (UTC+1).
        (utc(2025, 12, 31, 23, 30), 2026),
        (utc(2025, 12, 31, 23, 0), 2026),
        (utc(2025, 12, 31, 22, 59), 2025),
        (utc(2025, 1, 1, 0, 30), 2025),
        (utc(2024, 12, 31, 22, 30), 2024),
        # Summer time: 22:30 UTC on 30 June is 00:30 on 1 July; still the same year.
        (utc(2026, 6, 30, 22, 30), 2026),
    ],
)
def test_a_held_dialogue_counts_for_its_stockholm_year(
    app: Flask, freeze, starts_at: datetime, counts_for: int
) -> None:
    with app.app_context():
        add_dialogue(starts_at)
        books = ledger(TODAY)
        dialogue_commitment = commitment(DIALOGUES)
        done = {y: books.progress(dialogue_commitment, y).done for y in (2024, 2025, 2026)}
    assert done == {y: int(y == counts_for) for y in (2024, 2025, 2026)}


@pytest.mark.parametrize(
    ("occurred_on", "counts_for"),
    [
        (date(2025, 12, 31), 2025),
        (date(2026, 1, 1), 2026),
        (date(2021, 1, 1), 2021),
        (date(2024, 2, 29), 2024),
    ],
)
def test_an_activity_counts_for_the_year_of_its_date(
    app: Flask, freeze, occurred_on: date, counts_for: int
) -> None:
    with app.app_context():
        add_activity(TRAFFIC, occurred_on, count=2)
        books = ledger(TODAY)
        traffic = commitment(TRAFFIC)
        done = {y: books.progress(traffic, y).done for y in books.years}
    assert done == {y: 2 if y == counts_for else 0 for y in range(2021, 2027)}


# --- Only dialogues with a report marked held count ------------------------------------------


@pytest.mark.parametrize(
    ("status", "held", "counted"),
    [
        (PLANNED, None, 0),  # planned (or over) but no report yet
        (CANCELLED, None, 0),
        (PLANNED, False, 0),  # the report says it was not held
        (CANCELLED, False, 0),
        (PLANNED, True, 1),
    ],
)
def test_only_a_report_marked_held_counts(
    app: Flask, freeze, status: str, held: bool | None, counted: int
) -> None:
    with app.app_context():
        add_dialogue(utc(2026, 3, 12, 17, 0), held=held, status=status)
        assert row(TODAY, DIALOGUES, 2026).done == counted


def test_a_dialogue_later_marked_not_held_stops_counting(app: Flask, freeze) -> None:
    with app.app_context():
        # Given two dialogues reported held through the dialogues service
        admin = seed_admin()
        ids = [add_dialogue(utc(2026, m, 12, 17, 0), held=None) for m in (3, 5)]
        for dialogue_id in ids:
            dialogues.record_held(
                db.session.get(Dialogue, dialogue_id),
                held=True,
                attendees=12,
                summary="",
                themes_raised="",
                follow_up_actions="",
                by_id=admin.id,
                by=admin.email,
            )
        assert row(TODAY, DIALOGUES, 2026).done == 2
        assert row(TODAY, DIALOGUES, 2026).status == progress.DONE
        # When the organiser corrects one report to "not held"
        dialogues.record_held(
            db.session.get(Dialogue, ids[0]),
            held=False,
            attendees=0,
            summary="",
            themes_raised="",
            follow_up_actions="",
            by_id=admin.id,
            by=admin.email,
        )
        # Then it no longer counts
        after = row(TODAY, DIALOGUES, 2026)
    assert (after.done, after.status) == (1, progress.ON_TRACK)


def test_activities_on_the_dialogue_commitment_are_not_counted_twice(app: Flask, freeze) -> None:
    with app.app_context():
        add_dialogue(utc(2026, 3, 12, 17, 0))
        # An activity row on the dialogue commitment (the service refuses them; an old row)
        add_activity(DIALOGUES, date(2026, 3, 12), count=5)
        assert row(TODAY, DIALOGUES, 2026).done == 1


# --- Counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "done", "percent"),
    [
        ((1,), 1, 10),
        ((3, 4), 7, 70),
        ((6, 6), 12, 100),  # capped at 100 %
        ((), 0, 0),
    ],
)
def test_activity_counts_add_up(
    app: Flask, freeze, counts: tuple[int, ...], done: int, percent: int
) -> None:
    with app.app_context():
        for day, count in enumerate(counts, start=1):
            add_activity(TRAFFIC, date(2026, 3, day), count=count)
        found = row(TODAY, TRAFFIC, 2026)
    assert (found.done, found.target, found.percent) == (done, 10, percent)


# --- A promise "until a new one is given" ----------------------------------------------------


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025, 2026])
def test_the_seed_promise_still_applies_with_no_newer_promise(
    app: Flask, freeze, year: int
) -> None:
    with app.app_context():
        # Given the seed promise (valid to 2022-12-31 "or until a new promise is given")
        promise = seed_promise()
        assert (promise.valid_to, promise.until_replaced) == (date(2022, 12, 31), True)
        add_activity(DOGS, date(year, 9, 1))
        # Then it covers every year since 2021, and its activities count
        books = ledger(TODAY)
        assert books.years == list(range(2021, 2027))
        assert progress.in_force(books.promises, date(year, 9, 1)) is not None
        assert [p.commitment.position for p in books.year(year)] == [1, 2, 3, 4, 5, 6]
        assert books.progress(commitment(DOGS), year).done == 1


def test_a_promise_not_until_replaced_ends_at_valid_to(app: Flask, freeze) -> None:
    with app.app_context():
        seed_promise().until_replaced = False
        db.session.commit()
        add_activity(DOGS, date(2023, 3, 1))
        books = ledger(TODAY)
        assert books.years == [2021, 2022]
        assert books.progress(commitment(DOGS), 2023) is None
        assert progress.in_force(books.promises, date(2023, 3, 1)) is None


# --- A new promise taking over mid-year ------------------------------------------------------


def _new_promise(valid_from: date = date(2026, 7, 1)) -> Promise:
    return service.start_new_promise(
        seed_promise(),
        title="Medborgarlöfte 2026–2027",
        valid_from=valid_from,
        valid_to=date(2027, 12, 31),
        until_replaced=True,
        signed_on=date(2026, 6, 15),
        user=seed_admin(),
    )


def test_a_new_promise_takes_over_mid_year(app: Flask, freeze) -> None:
    freeze(utc(2026, 9, 30, 10, 0))
    today = date(2026, 9, 30)
    with app.app_context():
        # Given a new promise from 1 July 2026, copying the seed's commitments
        old_id = seed_promise().id
        new_id = _new_promise().id
        old_traffic, new_traffic = (
            commitment(TRAFFIC, promise_id=old_id).id,
            commitment(TRAFFIC, promise_id=new_id).id,
        )
        # And activities before and after the change, on both commitments
        add_activity(old_traffic, date(2026, 6, 30), count=3, by_id=True)
        add_activity(old_traffic, date(2026, 7, 1), count=50, by_id=True)  # outside: no count
        add_activity(new_traffic, date(2026, 6, 30), count=70, by_id=True)  # outside: no count
        add_activity(new_traffic, date(2026, 7, 1), count=4, by_id=True)
        # And dialogues either side of midnight 30 June/1 July, Stockholm summer time
        add_dialogue(utc(2026, 6, 30, 21, 30))  # 23:30 local: the old promise
        add_dialogue(utc(2026, 6, 30, 22, 30))  # 00:30 local on 1 July: the new one
        add_dialogue(utc(2026, 9, 1, 16, 0))
        books = ledger(today)
        old = db.session.get(Promise, old_id)

        # Then the old promise closes the day before, and each date has one promise in force
        assert old.closed_on == date(2026, 6, 30)
        assert books.windows[old_id] == progress.Window(date(2021, 1, 1), date(2026, 6, 30))
        assert books.windows[new_id] == progress.Window(date(2026, 7, 1), None)
        assert progress.in_force(books.promises, date(2026, 6, 30)).id == old_id
        assert progress.in_force(books.promises, date(2026, 7, 1)).id == new_id
        # And activities count for the commitment of the promise in force on their date
        assert books.progress(commitment(TRAFFIC, promise_id=old_id), 2026).done == 3
        assert books.progress(commitment(TRAFFIC, promise_id=new_id), 2026).done == 4
        assert books.progress(commitment(DIALOGUES, promise_id=old_id), 2026).done == 1
        assert books.progress(commitment(DIALOGUES, promise_id=new_id), 2026).done == 2
        # And 2026 shows both promises' commitments; earlier years only the old ones
        assert len(books.year(2026)) == 12
        assert {p.commitment.promise_id for p in books.year(2025)} == {old_id}
        assert books.progress(commitment(TRAFFIC, promise_id=new_id), 2025) is None
        # And the new promise's target is prorated to its six months (10 a year: 5 for
        # Jul–Dec) and its pace judged on its part of the year (1 Jul–31 Dec: 184 days; 92
        # have passed by 30 Sep, so half of 5, rounded down, is expected)
        new_row = books.progress(commitment(TRAFFIC, promise_id=new_id), 2026)
        assert (new_row.target, new_row.expected, new_row.status) == (5, 2, progress.ON_TRACK)
        # And the old promise's part of the year is over: its prorated target was due by 30 June
        old_row = books.progress(commitment(TRAFFIC, promise_id=old_id), 2026)
        assert (old_row.target, old_row.expected, old_row.status) == (5, 5, progress.NOT_DONE)


def test_history_stays_when_a_new_promise_starts(app: Flask, freeze) -> None:
    with app.app_context():
        add_activity(TRAFFIC, date(2023, 5, 5), count=11)
        old_id = seed_promise().id
        _new_promise()
        books = ledger(TODAY)
        assert books.years == list(range(2021, 2027))
        found = books.progress(commitment(TRAFFIC, promise_id=old_id), 2023)
    assert (found.done, found.status) == (11, progress.DONE)


@pytest.mark.parametrize("valid_from", [date(2021, 1, 1), date(2020, 6, 1)])
def test_a_new_promise_must_start_after_the_current_one(
    app: Flask, freeze, valid_from: date
) -> None:
    with app.app_context(), pytest.raises(ValueError):
        _new_promise(valid_from)


# --- On pace, through the clock seam ---------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "today", "year", "activities", "expected", "status"),
    [
        # At least 10 a year (traffic controls). Expected = floor(10 × elapsed share of year).
        (TRAFFIC, date(2026, 1, 1), 2026, [], 0, progress.ON_TRACK),
        (TRAFFIC, date(2026, 7, 2), 2026, [(date(2026, 3, 1), 3)], 5, progress.BEHIND),
        (TRAFFIC, date(2026, 7, 2), 2026, [(date(2026, 3, 1), 5)], 5, progress.ON_TRACK),
        (TRAFFIC, date(2026, 7, 2), 2026, [(date(2026, 3, 1), 10)], 5, progress.DONE),
        (TRAFFIC, date(2026, 12, 31), 2026, [(date(2026, 3, 1), 9)], 10, progress.BEHIND),
        (TRAFFIC, date(2027, 1, 1), 2026, [(date(2026, 3, 1), 9)], 10, progress.NOT_DONE),
        (TRAFFIC, date(2026, 7, 2), 2025, [(date(2025, 3, 1), 9)], 10, progress.NOT_DONE),
        (TRAFFIC, date(2026, 7, 2), 2025, [(date(2025, 3, 1), 12)], 10, progress.DONE),
        # At least 2 a year (police dogs)
        (DOGS, date(2026, 3, 31), 2026, [], 0, progress.ON_TRACK),
        (DOGS, date(2026, 7, 2), 2026, [], 1, progress.BEHIND),
        (DOGS, date(2026, 7, 2), 2026, [(date(2026, 2, 1), 1)], 1, progress.ON_TRACK),
        # A year that is over with nothing recorded at all: no follow-up, not "not done"
        (DOGS, date(2026, 7, 2), 2024, [], 2, progress.NO_DATA),
        # Once a year (drug survey): no pace, "not done yet" until the day it is due
        (SURVEY, date(2026, 12, 30), 2026, [], None, progress.NOT_YET),
        (SURVEY, date(2026, 12, 31), 2026, [], None, progress.NOT_YET),
        (SURVEY, date(2027, 1, 1), 2026, [], 1, progress.NOT_DONE),
        (SURVEY, date(2026, 7, 2), 2026, [(date(2026, 4, 1), 1)], 0, progress.DONE),
        (SURVEY, date(2026, 7, 2), 2025, [(date(2026, 4, 1), 1)], 1, progress.NO_DATA),
        # Once (the digital orosanmälan service): done in 2021, done in every later year
        (OROSANMALAN, date(2026, 7, 2), 2021, [(date(2021, 9, 1), 1)], 1, progress.DONE),
        (OROSANMALAN, date(2026, 7, 2), 2024, [(date(2021, 9, 1), 1)], 1, progress.DONE),
        (OROSANMALAN, date(2026, 7, 2), 2026, [(date(2021, 9, 1), 1)], 1, progress.DONE),
        (OROSANMALAN, date(2026, 7, 2), 2022, [(date(2023, 9, 1), 1)], 1, progress.NO_DATA),
        (OROSANMALAN, date(2026, 7, 2), 2024, [(date(2023, 9, 1), 1)], 1, progress.DONE),
        # Ongoing (drugs around schools): no number, no pace; "ongoing" only with an activity
        (DRUGS, date(2026, 7, 2), 2026, [(date(2026, 2, 1), 4)], None, progress.CONTINUING),
        (DRUGS, date(2026, 7, 2), 2026, [], None, progress.NO_ACTIVITY),
        (DRUGS, date(2026, 7, 2), 2025, [(date(2025, 5, 1), 1)], None, progress.CONTINUING),
        (DRUGS, date(2026, 7, 2), 2025, [], None, progress.NO_DATA),
    ],
)
def test_on_pace(
    app: Flask,
    freeze,
    position: int,
    today: date,
    year: int,
    activities: list[tuple[date, int]],
    expected: int | None,
    status: str,
) -> None:
    freeze(utc(today.year, today.month, today.day, 10, 0))
    with app.app_context():
        for day, count in activities:
            add_activity(position, day, count=count)
        found = row(today, position, year)
    assert (found.expected, found.status) == (expected, status)
    assert found.on_pace == (None if expected is None else found.done >= expected)


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (utc(2026, 12, 31, 22, 59), 2026),  # 23:59 on New Year's Eve in Stockholm
        (utc(2026, 12, 31, 23, 0), 2027),  # already 1 January in Stockholm
    ],
)
def test_the_dashboard_year_follows_the_stockholm_date(
    installation, freeze, moment: datetime, year: int
) -> None:
    freeze(moment)
    installation.add_user("chef@example.com", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@example.com")
    page = client.get("/personal/uppfoljning/").get_data(as_text=True)
    assert f"Uppföljning av medborgarlöftet {year}</h1>" in page


def test_ongoing_has_no_number(app: Flask, freeze) -> None:
    with app.app_context():
        add_activity(DRUGS, date(2026, 2, 1), count=4)
        found = row(TODAY, DRUGS, 2026)
    assert (found.done, found.target, found.percent, found.on_pace) == (4, None, None, None)
    assert not found.needs_reason


# --- A reason is required when behind ---------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "year", "count", "status", "needs_reason"),
    [
        (TODAY, 2026, 3, progress.BEHIND, True),
        (TODAY, 2025, 3, progress.NOT_DONE, True),
        (TODAY, 2026, 5, progress.ON_TRACK, False),
        (TODAY, 2026, 10, progress.DONE, False),
    ],
)
def test_needs_reason_when_behind_or_not_done(
    app: Flask, freeze, today: date, year: int, count: int, status: str, needs_reason: bool
) -> None:
    with app.app_context():
        add_activity(TRAFFIC, date(year, 3, 1), count=count)
        found = row(today, TRAFFIC, year)
    assert (found.status, found.needs_reason) == (status, needs_reason)


def test_a_saved_reason_clears_needs_reason(app: Flask, freeze) -> None:
    with app.app_context():
        # Given traffic controls behind in 2026 and no reason
        add_activity(TRAFFIC, date(2026, 3, 1), count=3)
        assert row(TODAY, TRAFFIC, 2026).needs_reason
        # When a reason and the next planned date are saved
        service.save_note(
            commitment(TRAFFIC),
            2026,
            "Personalbrist i våras.",
            date(2026, 8, 20),
            user=seed_admin(),
        )
        # Then the reason is shown and no longer missing — for that year only
        found = row(TODAY, TRAFFIC, 2026)
        assert (found.reason, found.next_planned_on, found.needs_reason) == (
            "Personalbrist i våras.",
            date(2026, 8, 20),
            False,
        )
        assert row(TODAY, TRAFFIC, 2025).needs_reason
        # And a blank reason does not count as one
        service.save_note(commitment(TRAFFIC), 2026, "  ", None, user=seed_admin())
        assert row(TODAY, TRAFFIC, 2026).needs_reason


# --- Roll-ups by party and area ---------------------------------------------------------------


def test_rollups_by_party_and_area(app: Flask, freeze) -> None:
    with app.app_context():
        # Given, on 2 July 2026: no dialogue held (behind), the e-service done in 2021,
        # one dog search (on track), no survey yet (not done yet), no activity against drugs,
        # 3 traffic controls (behind)
        add_activity(OROSANMALAN, date(2021, 9, 1))
        add_activity(DOGS, date(2026, 2, 1))
        add_activity(TRAFFIC, date(2026, 3, 1), count=3)
        rows = ledger(TODAY).year(2026)
        by_party = progress.rollup(rows, "party")
        by_area = progress.rollup(rows, "area")
    assert by_party == [
        progress.Rollup("bada", 2, 0, 0, 1, 0, ongoing=0, no_activity=1),
        progress.Rollup(
            "kommunen", 2, done=1, on_track=0, behind=0, not_done=0, ongoing=0, not_yet=1
        ),
        progress.Rollup("polisen", total=2, done=0, on_track=1, behind=1, not_done=0, ongoing=0),
    ]
    assert by_area == [
        progress.Rollup(
            "Droger", 3, 0, on_track=1, behind=0, not_done=0, ongoing=0, not_yet=1, no_activity=1
        ),
        progress.Rollup("Tillgänglighet & trygghet", 2, 1, 0, 1, 0, 0),
        progress.Rollup("Trafik", total=1, done=0, on_track=0, behind=1, not_done=0, ongoing=0),
    ]


def test_an_empty_database_has_no_years(make_app) -> None:
    app = make_app()
    with app.app_context():
        books = progress.Ledger(today=TODAY)
        assert (books.years, books.year(2026)) == ([], [])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Promise)) == 0


@pytest.mark.parametrize("position", [DIALOGUES, OROSANMALAN, DRUGS, DOGS, SURVEY, TRAFFIC])
def test_history_is_progress_year_by_year(app: Flask, freeze, position: int) -> None:
    freeze(utc(2026, 9, 30, 10, 0))
    with app.app_context():
        # Given two promises (a new one from 1 July 2026) and something done in some years
        old_id = seed_promise().id
        _new_promise()
        add_activity(OROSANMALAN, date(2022, 5, 1))
        add_activity(TRAFFIC, date(2023, 5, 1), count=4)
        add_activity(DRUGS, date(2026, 8, 1), count=2)
        add_dialogue(utc(2024, 3, 12, 17, 0))
        books = ledger(date(2026, 9, 30))
        for found in (commitment(position, promise_id=old_id), commitment(position)):
            # Then the chart's history is what progress says for each year in force
            expected = [
                (year, row.done, row.target)
                for year in books.years
                if (row := books.progress(found, year)) is not None
            ]
            assert books.history(found) == expected
            assert [year for year, _, _ in expected] == (
                list(range(2021, 2027)) if found.promise_id == old_id else [2026]
            )
