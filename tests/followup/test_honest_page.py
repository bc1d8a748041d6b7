"""Issue 11 §5: an honest promise page and report. Years without any record say so; the
current year first and earlier years folded; plain status words; once-a-year targets with the
day they are due; targets prorated for part of a year; "done once" carried to a successive
promise; the joint-dialogue counting rule; the report's themes, shortfalls and addressees."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask

from intake.dialogues.models import HeldReport
from intake.extensions import db
from intake.followup import periods, progress, reporting, service
from intake.followup.models import ANY_DIALOGUE, BOTH_HOSTS

from .factories import (
    DIALOGUES,
    DRUGS,
    OROSANMALAN,
    SURVEY,
    TRAFFIC,
    add_activity,
    add_dialogue,
    commitment,
    commitment_id,
    ledger,
    row,
    seed_admin,
    seed_promise,
    utc,
)

TODAY = date(2026, 7, 2)
BASE = "/personal/uppfoljning"


def _admin(installation):  # type: ignore[no-untyped-def]
    installation.add_user("chef@example.com", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@example.com")
    return client


def _new_promise(valid_from: date) -> int:
    return service.start_new_promise(
        seed_promise(),
        title="Medborgarlöfte 2026–2027",
        valid_from=valid_from,
        valid_to=None,
        until_replaced=True,
        signed_on=None,
        user=seed_admin(),
    ).id


# --- The public page on a fresh install -------------------------------------------------------


def test_a_fresh_install_shows_no_not_done_for_years_without_data(installation) -> None:
    # Given a fresh install on 2 July 2026 (setup recorded only the e-service, today)
    page = installation.app.test_client().get("/medborgarloftet/").get_data(as_text=True)
    # Then no year is "not done" (the words appear only where they are explained): years
    # with nothing recorded say so
    years = page[page.index("<h2>2026</h2>") : page.index("Hållna medborgardialoger")]
    assert "Inte uppfyllt" not in years
    for year in range(2021, 2026):
        assert f"Ingen uppföljning registrerad för {year}." in page
    # And the promise says it is still in force past its date, and which years it covers
    assert "Det gäller fortfarande, tills ett nytt löfte tecknas." in page
    assert "Det omfattar åren 2021–2026." in page
    # And the current year comes first, open; every older year folded in <details>
    assert re.findall(r"<h2>(\d{4})</h2>", page) == [str(y) for y in range(2026, 2020, -1)]
    this_year = page[page.index("<h2>2026</h2>") : page.index("<h2>2025</h2>")]
    assert "<details>" not in this_year and "<table" in this_year
    for year in range(2025, 2020, -1):
        section = page[page.index(f"<h2>{year}</h2>") :].split("</section>", 1)[0]
        assert section.count("<details>") == 1 and section.index("<details>") < section.index(
            "<table"
        )
    # And the plain words: once a year, not done yet with its day; no "Pågående" without work
    assert "Ej gjort ännu, senast 2026-12-31" in this_year
    assert "Ingen aktivitet registrerad" in this_year and "Pågående" not in this_year
    assert "I fas" not in page and "Efter<" not in page
    assert "Vad betyder orden?" in page and "<script" not in page


def test_a_year_with_records_can_be_not_done(app: Flask, freeze) -> None:
    with app.app_context():
        # A traffic control recorded in 2025 makes 2025 a followed-up year
        add_activity(TRAFFIC, date(2025, 4, 1), count=3)
        assert row(TODAY, TRAFFIC, 2025).status == progress.NOT_DONE
        assert row(TODAY, SURVEY, 2025).status == progress.NOT_DONE
        assert row(TODAY, DRUGS, 2025).status == progress.NO_ACTIVITY
        # And a year with nothing stays "no follow-up recorded", even with a target
        assert row(TODAY, TRAFFIC, 2024).status == progress.NO_DATA
        assert row(TODAY, TRAFFIC, 2024).needs_reason


def test_a_written_reason_is_a_record(app: Flask, freeze) -> None:
    with app.app_context():
        service.save_note(commitment(TRAFFIC), 2024, "Ingen personal.", None, user=seed_admin())
        assert row(TODAY, TRAFFIC, 2024).status == progress.NOT_DONE


# --- "Pågående" and once a year --------------------------------------------------------------


@pytest.mark.parametrize(
    ("activities", "status"),
    [
        ([], progress.NO_ACTIVITY),
        ([date(2026, 1, 1)], progress.CONTINUING),
        ([date(2025, 12, 31)], progress.NO_ACTIVITY),  # last year's work is not this year's
    ],
)
def test_ongoing_needs_an_activity_in_the_year(
    app: Flask, freeze, activities: list[date], status: str
) -> None:
    with app.app_context():
        for day in activities:
            add_activity(DRUGS, day)
        assert row(TODAY, DRUGS, 2026).status == status


@pytest.mark.parametrize(
    ("valid_from", "due"),
    [
        (None, date(2026, 12, 31)),  # the seed promise, in force all year
        (date(2027, 1, 1), date(2026, 12, 31)),
    ],
)
def test_once_a_year_shows_the_day_it_is_due(
    app: Flask, freeze, valid_from: date | None, due: date
) -> None:
    with app.app_context():
        if valid_from is not None:
            _new_promise(valid_from)
        found = ledger(TODAY).progress(commitment(SURVEY, promise_id=seed_promise().id), 2026)
        assert found is not None
        assert (found.status, found.due_on, found.expected, found.on_pace) == (
            progress.NOT_YET,
            due,
            None,
            None,
        )


def test_dashboard_words_and_due_date(installation) -> None:
    client = _admin(installation)
    page = client.get(f"{BASE}/?ar=2026").get_data(as_text=True)
    assert "Ej gjort ännu, senast 2026-12-31" in page
    assert "Efter plan (5 väntat hittills)" in page
    assert "Vad betyder orden?" in page
    assert "I takt" not in page and "I fas" not in page


# --- Prorated yearly targets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "months", "prorated"),
    [
        (10, 12, 10),
        (10, 6, 5),
        (10, 7, 6),  # 5.83 rounded up
        (10, 1, 1),  # 0.83 rounded up
        (2, 6, 1),
        (2, 7, 2),  # 1.17 rounded up
        (2, 1, 1),
        (1, 3, 1),
        (0, 6, 0),
    ],
)
def test_prorated_target(target: int, months: int, prorated: int) -> None:
    assert periods.prorated(target, months) == prorated


@pytest.mark.parametrize(
    ("first", "last", "months"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), 12),
        (date(2026, 7, 1), date(2026, 12, 31), 6),
        (date(2026, 7, 15), date(2026, 12, 31), 6),  # a part month counts whole
        (date(2026, 1, 1), date(2026, 6, 30), 6),
        (date(2026, 3, 10), date(2026, 3, 20), 1),
    ],
)
def test_months_covered(first: date, last: date, months: int) -> None:
    assert periods.months_between(first, last) == months


@pytest.mark.parametrize(
    ("valid_from", "months", "traffic_target", "dogs_target"),
    [
        (date(2026, 7, 1), 6, 5, 1),
        (date(2026, 4, 1), 9, 8, 2),
        (date(2026, 12, 1), 1, 1, 1),
        (date(2026, 2, 15), 11, 10, 2),
    ],
)
def test_a_new_promise_for_part_of_the_year_gets_a_prorated_target(
    installation, valid_from: date, months: int, traffic_target: int, dogs_target: int
) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        new_id = _new_promise(valid_from)
        books = ledger(TODAY)
        traffic = books.progress(commitment(TRAFFIC, promise_id=new_id), 2026)
        dogs = books.progress(commitment(4, promise_id=new_id), 2026)
        assert traffic is not None and dogs is not None and traffic.part is not None
        assert (traffic.part.months, traffic.target, dogs.target) == (
            months,
            traffic_target,
            dogs_target,
        )
        traffic_id = commitment_id(TRAFFIC, promise_id=new_id)
    # And the staff page shows it as such
    page = client.get(f"{BASE}/atagande/{traffic_id}?ar=2026").get_data(as_text=True)
    if valid_from == date(2026, 7, 1):
        assert "10 per år; 5 för juli–dec 2026" in page


# --- "Done once" carried to a successive promise ----------------------------------------------


def test_done_once_starts_not_done_and_can_point_to_the_earlier_promise(installation) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        # Given the e-service introduced in 2021 under the seed promise
        add_activity(OROSANMALAN, date(2021, 9, 1))
        new_id = _new_promise(date(2027, 1, 1))
        new_service = commitment(OROSANMALAN, promise_id=new_id)
        service_id = new_service.id
        # When the new promise's year starts
        found = ledger(date(2027, 3, 1)).progress(new_service, 2027)
        # Then the copy is not done, but says when it was last done under the earlier promise
        assert found is not None and found.status == progress.NOT_YET
        assert found.earlier == (date(2026, 7, 2), "Medborgarlöfte 2021–2022")
    # And staff can mark it done by pointing to that
    page = client.get(f"{BASE}/atagande/{service_id}?ar=2027")
    assert page.status_code == 200  # 2027 is not a year yet on 2 July 2026: still rendered
    response = client.post(f"{BASE}/atagande/{service_id}/gjort-tidigare?ar=2027")
    assert response.status_code == 302
    with installation.app.app_context():
        done = ledger(date(2027, 3, 1)).progress(commitment(OROSANMALAN, promise_id=new_id), 2027)
        assert done is not None and done.status == progress.DONE
        assert done.carried_on == date(2026, 7, 2)


def test_nothing_earlier_cannot_be_pointed_to(app: Flask, freeze) -> None:
    with app.app_context():
        new_id = _new_promise(date(2027, 1, 1))
        survey = commitment(SURVEY, promise_id=new_id)
        with pytest.raises(service.NothingEarlier):
            service.mark_done_earlier(survey, user=seed_admin(), today=TODAY)


# --- The joint dialogue rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "hosts", "counted"),
    [
        (BOTH_HOSTS, ("polisen", "kommunen"), 1),
        (BOTH_HOSTS, ("polisen",), 0),
        (BOTH_HOSTS, ("kommunen",), 0),
        (BOTH_HOSTS, (), 0),
        (ANY_DIALOGUE, ("polisen",), 1),
        (ANY_DIALOGUE, ("kommunen",), 1),
        (ANY_DIALOGUE, ("polisen", "kommunen"), 1),
    ],
)
def test_the_joint_dialogue_rule(
    app: Flask, freeze, rule: str, hosts: tuple[str, ...], counted: int
) -> None:
    with app.app_context():
        dialogues = commitment(DIALOGUES)
        assert dialogues.counting_rule == BOTH_HOSTS  # the seed: "Polisen och kommunen"
        dialogues.counting_rule = rule
        db.session.commit()
        add_dialogue(utc(2026, 3, 12, 17, 0), hosts=hosts)
        assert row(TODAY, DIALOGUES, 2026).done == counted


def test_admins_set_the_counting_rule(installation) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        add_dialogue(utc(2026, 3, 12, 17, 0), hosts=("polisen",), title="Polisens dialog")
        dialogues_id = commitment_id(DIALOGUES)
    page = client.get(f"{BASE}/atagande/{dialogues_id}?ar=2026").get_data(as_text=True)
    assert "Hölls men räknas inte" in page and "Polisens dialog" in page
    response = client.post(
        f"{BASE}/atagande/{dialogues_id}/rakneregel?ar=2026", data={"rule": ANY_DIALOGUE}
    )
    assert response.status_code == 302
    with installation.app.app_context():
        assert row(TODAY, DIALOGUES, 2026).done == 1
    # A partner may not change it
    installation.add_user("polis@example.com", "partner")
    partner = installation.app.test_client()
    installation.login(partner, "polis@example.com")
    refused = partner.post(
        f"{BASE}/atagande/{dialogues_id}/rakneregel?ar=2026", data={"rule": BOTH_HOSTS}
    )
    assert refused.status_code == 403


# --- The report: themes, shortfalls, addressees, part of a year -------------------------------


def _held_with_themes(app: Flask) -> None:
    with app.app_context():
        dialogue_id = add_dialogue(utc(2026, 3, 12, 17, 0), title="Trygghet i centrum")
        report = (
            db.session.get(HeldReport, dialogue_id)
            or db.session.scalars(
                db.select(HeldReport).where(HeldReport.dialogue_id == dialogue_id)
            ).one()
        )
        report.themes_raised = "Belysning vid busstationen; mopeder."
        add_dialogue(utc(2025, 10, 2, 16, 0), title="Höstdialog", hosts=("kommunen",))
        later = db.session.scalars(db.select(HeldReport).order_by(HeldReport.id.desc())).first()
        assert later is not None
        later.themes_raised = "Narkotika vid skolan."
        db.session.commit()
        add_activity(TRAFFIC, date(2025, 4, 1), count=3)
        service.save_note(
            commitment(TRAFFIC), 2025, "Polisen saknade bilar.", None, user=seed_admin()
        )


def test_report_has_themes_shortfalls_and_addressees(installation) -> None:
    client = _admin(installation)
    _held_with_themes(installation.app)
    page = client.get(f"{BASE}/rapport?fran=2025-01-01&till=2026-06-30").get_data(as_text=True)
    y2025 = page[page.index("<h2>2025</h2>") : page.index("<h2>2026")]
    y2026 = page[page.index("<h2>2026") :]
    # Themes per year, from the held reports (any host)
    assert "Höstdialog: Narkotika vid skolan." in y2025
    assert "Trygghet i centrum: Belysning vid busstationen; mopeder." in y2026
    # Shortfalls per year with their recorded reasons, or that none was recorded
    assert "Orsaker till att åtaganden ligger efter 2025" in y2025
    assert "Polisen saknade bilar." in y2025 and "ingen orsak registrerad" in y2025
    # Part of a year: pace, never "not done"
    assert "2026, delår t.o.m. 2026-06-30</h2>" in page and "Inte uppfyllt" not in y2026
    # Addressees from the default configuration
    assert "<li>Chefen för lokalpolisområde Piteå älvdal</li>" in page
    # And in the CSV: the themes after the commitments
    raw = client.get(f"{BASE}/rapport.csv?fran=2025-01-01&till=2026-06-30").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    themes = rows[rows.index([]) + 1 :]
    assert themes == [
        ["år", "datum", "dialog", "arrangörer", "teman som togs upp"],
        ["2025", "2025-10-02", "Höstdialog", "Kommunen", "Narkotika vid skolan."],
        [
            "2026",
            "2026-03-12",
            "Trygghet i centrum",
            "Polisen och Kommunen",
            "Belysning vid busstationen; mopeder.",
        ],
    ]
    traffic_2025 = next(r for r in rows if r[:1] == ["2025"] and "trafikkontroller" in r[3])
    assert traffic_2025[6:9] == ["inte uppfyllt", traffic_2025[7], "Polisen saknade bilar."]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", ["Anna Berg, Lokalpolisområdeschef", "BRÅ Älvsbyn"]),
        ("en", ["Anna Berg, Head of the local police area", "BRÅ Älvsbyn"]),
    ],
)
def test_addressees_come_from_config(make_app, language: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(
        FOLLOWUP_REPORT_TO=[
            {
                "name": "Anna Berg",
                "sv": "Lokalpolisområdeschef",
                "en": "Head of the local police area",
            },
            {"sv": "BRÅ Älvsbyn"},
        ]
    )
    with app.test_request_context(headers={"Accept-Language": language}):
        from flask_babel import force_locale

        with force_locale(language):
            assert reporting.addressees() == expected
