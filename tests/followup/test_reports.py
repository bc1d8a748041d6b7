"""Reports for the police area chief and BRÅ (CSV and a printable page), the activity form's
Swedish errors, and the public progress page at /medborgarloftet."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from intake.extensions import db
from intake.followup import service
from intake.followup.models import Activity

from .factories import (
    DIALOGUES,
    DOGS,
    SURVEY,
    TRAFFIC,
    add_activity,
    add_dialogue,
    commitment,
    commitment_id,
    seed_admin,
    seed_promise,
    utc,
)

BASE = "/personal/uppfoljning"
HEADER = [
    "år",
    "område",
    "ansvarig",
    "åtagande",
    "mål",
    "utfört",
    "status",
    "underlag",
    "orsak",
    "nästa planerade",
    "period",
]
NOTE = "Eleven Kalle Svensson pratade med hundföraren."


def _admin(installation):  # type: ignore[no-untyped-def]
    installation.add_user("chef@example.com", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@example.com")
    return client


def _evidence(app) -> None:  # type: ignore[no-untyped-def]
    """Traffic controls in 2025 and 2026, a dog search with a note, two held dialogues, one not
    held, and a reason with a next planned date for 2026."""
    with app.app_context():
        add_activity(TRAFFIC, date(2025, 11, 4), count=10, place="Centrumskolan")
        add_activity(TRAFFIC, date(2026, 3, 10), count=3, place="Lomma skola")
        add_activity(TRAFFIC, date(2026, 4, 2), count=1, place="Vidselskolan")
        add_activity(DOGS, date(2026, 2, 14), place="Älvåkraskolan", note=NOTE)
        add_dialogue(utc(2026, 3, 12, 17, 0), title="Trygghet i centrum")
        add_dialogue(utc(2025, 12, 31, 23, 30), title="Nyårsdialog")  # 1 Jan 2026 in Sweden
        add_dialogue(utc(2026, 5, 12, 17, 0), held=False, title="Inställd dialog")
        service.save_note(
            commitment(TRAFFIC),
            2026,
            "Personalbrist under våren.",
            date(2026, 8, 20),
            user=seed_admin(),
        )


def _csv(client, query: str) -> tuple[bytes, list[list[str]]]:  # type: ignore[no-untyped-def]
    response = client.get(f"{BASE}/rapport.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    raw = response.get_data()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def _commitment_rows(rows: list[list[str]]) -> list[list[str]]:
    """The CSV's first block: the header and one line per commitment and year (a blank line
    ends it; the dialogues' themes follow)."""
    return rows[: rows.index([])]


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_has_a_row_per_commitment_and_year(installation) -> None:
    # Given evidence in 2025 and 2026
    client = _admin(installation)
    _evidence(installation.app)
    # When the CSV for 2025–2026 is fetched
    raw, rows = _csv(client, "fran=2025-01-01&till=2026-12-31")
    response = client.get(f"{BASE}/rapport.csv?fran=2025-01-01&till=2026-12-31")
    # Then it is UTF-8 with a BOM, semicolon-separated, with the header first
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0] == ";".join(HEADER)
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="medborgarlofte-2025-01-01-2026-12-31.csv"'
    )
    assert rows[0] == HEADER
    # And one row per commitment and year, in the promise's order
    body = _commitment_rows(rows)[1:]
    with installation.app.app_context():
        texts = [commitment(position).text for position in range(1, 7)]
    assert [(r[0], r[3]) for r in body] == [(str(y), text) for y in (2025, 2026) for text in texts]
    traffic = {r[0]: dict(zip(HEADER, r, strict=True)) for r in body if "trafikkontroller" in r[3]}
    # And each row has the target, done, dated evidence with places, reason and next date
    assert traffic["2026"] == {
        "år": "2026",
        "område": "Trafik",
        "ansvarig": "Polisen",
        "åtagande": traffic["2026"]["åtagande"],
        "mål": "10",
        "utfört": "4",
        "status": "efter plan",
        "underlag": "2026-03-10 Lomma skola (3) | 2026-04-02 Vidselskolan (1)",
        "orsak": "Personalbrist under våren.",
        "nästa planerade": "2026-08-20",
        "period": "delår t.o.m. 2026-07-02",
    }
    assert traffic["2025"]["utfört"] == "10" and traffic["2025"]["status"] == "klart"
    assert traffic["2025"]["underlag"] == "2025-11-04 Centrumskolan (10)"
    assert traffic["2025"]["orsak"] == "" and traffic["2025"]["nästa planerade"] == ""
    assert traffic["2025"]["period"] == "helår"
    dialogues = {r[0]: r for r in body if "medborgardialoger" in r[3]}
    assert dialogues["2026"][4:6] == ["2", "2"]
    assert dialogues["2026"][7] == "2026-01-01 Nyårsdialog | 2026-03-12 Trygghet i centrum"
    assert dialogues["2025"][5] == "0" and dialogues["2025"][7] == ""
    ongoing = [r for r in body if r[0] == "2026" and "arbeta aktivt mot droger" in r[3]]
    assert ongoing[0][4:7] == ["", "0", "ingen aktivitet registrerad"]
    # And an activity's free-text note stays out of the export
    assert "Kalle" not in raw.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("query", "years", "traffic_evidence"),
    [
        ("fran=2026-03-01&till=2026-03-31", ["2026"], "2026-03-10 Lomma skola (3)"),
        ("fran=2026-04-01&till=2026-03-01", ["2026"], "2026-03-10 Lomma skola (3)"),  # swapped
        ("fran=2025-11-01&till=2026-01-31", ["2025", "2026"], ""),
        ("", ["2026"], "2026-03-10 Lomma skola (3) | 2026-04-02 Vidselskolan (1)"),  # this year
        (
            "fran=inte-ett-datum",
            ["2026"],
            "2026-03-10 Lomma skola (3) | 2026-04-02 Vidselskolan (1)",
        ),
    ],
)
def test_csv_evidence_follows_the_chosen_period(
    installation, query: str, years: list[str], traffic_evidence: str
) -> None:
    client = _admin(installation)
    _evidence(installation.app)
    _raw, rows = _csv(client, query)
    body = _commitment_rows(rows)[1:]
    assert sorted({r[0] for r in body}) == years
    traffic = [r for r in body if "trafikkontroller" in r[3] and r[0] == "2026"]
    assert traffic[0][7] == traffic_evidence


def test_csv_defuses_spreadsheet_formulas(installation) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        service.save_note(
            commitment(TRAFFIC), 2026, '=HYPERLINK("http://example.com")', None, user=seed_admin()
        )
    _raw, rows = _csv(client, "fran=2026-01-01&till=2026-12-31")
    traffic = [r for r in _commitment_rows(rows)[1:] if "trafikkontroller" in r[3]]
    assert traffic[0][8] == '\'=HYPERLINK("http://example.com")'


# --- The printable report ---------------------------------------------------------------------


def test_printable_report_for_a_period(installation) -> None:
    client = _admin(installation)
    _evidence(installation.app)
    page = client.get(f"{BASE}/rapport?fran=2026-01-01&till=2026-06-30").get_data(as_text=True)
    assert "Uppföljning av medborgarlöftet</h1>" not in page  # the heading names the period
    assert "Uppföljning av medborgarlöftet, 2026-01-01–2026-06-30</h1>" in page
    # Addressed to those the configuration names (the default: the area chief and BRÅ)
    assert "<li>Chefen för lokalpolisområde Piteå älvdal</li>" in page
    assert "<li>Brottsförebyggande rådet (BRÅ) i Älvsbyn</li>" in page
    # A period that ends before its year does: a "delår", judged by pace
    assert "2026, delår t.o.m. 2026-06-30</h2>" in page
    assert "Inte uppfyllt" not in page
    # Evidence with dates and places, the reason and the next planned date
    for text in (
        "2026-03-10, Lomma skola (3 tillfällen)",
        "2026-04-02, Vidselskolan",
        "Orsak: Personalbrist under våren.",
        "Nästa planerade tillfälle: 2026-08-20",
        "2026-01-01: Nyårsdialog",
        "2026-03-12: Trygghet i centrum",
    ):
        assert text in page, text
    assert "Inställd dialog" not in page  # held=False
    assert "2025-11-04" not in page  # outside the period
    assert "Orsak saknas." not in page  # the one commitment behind has its reason
    # The page links the same period as CSV, and prints on A4
    assert "rapport.csv?fran=2026-01-01&amp;till=2026-06-30" in page
    assert 'media="print"' in page
    assert 'class="filters no-print"' in page
    css = Path(installation.app.static_folder, "print.css").read_text(encoding="utf-8")
    assert "size: A4" in css
    # A past period: what was not done without a reason is called out
    past = client.get(f"{BASE}/rapport?fran=2025-01-01&till=2025-06-30").get_data(as_text=True)
    assert "Uppföljning av medborgarlöftet, 2025-01-01–2025-06-30</h1>" in past
    assert "Orsak saknas." in past and "2025-11-04" not in past


def test_report_lists_each_promises_dialogues_when_a_new_promise_takes_over(installation) -> None:
    client = _admin(installation)
    app = installation.app
    with app.app_context():
        service.start_new_promise(
            seed_promise(),
            title="Medborgarlöfte 2026–2027",
            valid_from=date(2026, 4, 1),
            valid_to=None,
            until_replaced=True,
            signed_on=None,
            user=seed_admin(),
        )
        add_dialogue(utc(2026, 3, 12, 17, 0), title="Före bytet")
        add_dialogue(utc(2026, 5, 12, 17, 0), title="Efter bytet")
    _raw, rows = _csv(client, "fran=2026-01-01&till=2026-06-30")
    dialogues = [r for r in _commitment_rows(rows)[1:] if "medborgardialoger" in r[3]]
    assert [(r[5], r[7]) for r in dialogues] == [
        ("1", "2026-03-12 Före bytet"),
        ("1", "2026-05-12 Efter bytet"),
    ]


# --- The activity form: Swedish errors, typed values back ----------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"occurred_on": "2026-07-03", "count": "2"},
            "occurred_on",
            "Datumet kan inte vara i framtiden.",
        ),
        ({"occurred_on": "2026-07-01", "count": "0"}, "count", "Skriv ett tal mellan 1 och 1000."),
        (
            {"occurred_on": "2026-07-01", "count": "1001"},
            "count",
            "Skriv ett tal mellan 1 och 1000.",
        ),
        ({"occurred_on": "2026-07-01", "count": ""}, "count", "Skriv ett antal."),
        ({"occurred_on": "", "count": "2"}, "occurred_on", "Skriv ett datum som ÅÅÅÅ-MM-DD."),
        ({"occurred_on": "10/3/2026", "count": "2"}, "occurred_on", "Inte ett giltigt datum"),
        ({"occurred_on": "2026-07-01", "count": "två"}, "count", "Inte ett giltigt heltal"),
        (
            {"occurred_on": "2020-12-31", "count": "2"},
            "occurred_on",
            "Löftet gällde inte det datumet. Det gällde 2021-01-01–tills vidare.",
        ),
    ],
)
def test_activity_form_errors_are_swedish_and_keep_the_values(
    installation, form: dict[str, str], field: str, message: str
) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        target = commitment_id(TRAFFIC)
    typed = {**form, "place": "Lomma skola", "note": "Kontroll vid skolstart"}
    # When the form is sent with one wrong value
    response = client.post(f"{BASE}/atagande/{target}/aktiviteter", data=typed)
    page = response.get_data(as_text=True)
    # Then the page comes back with the error in Swedish, at the field and in the summary
    assert response.status_code == 200
    assert "<title>Fel:" in page
    assert 'class="error-summary"' in page
    assert f'<a href="#{field}">{message}' in page
    assert re.search(rf'id="{field}-error">.*?{re.escape(message)}', page, re.S)
    # And every typed value is back in the form
    for name, value in typed.items():
        if name == "note":
            assert f">{value}</textarea>" in page
        else:
            assert re.search(rf'name="{name}"[^>]*\s+value="{re.escape(value)}"', page), name
    # And nothing was stored
    with installation.app.app_context():
        stored = sa.select(sa.func.count()).where(Activity.commitment_id == target)
        assert db.session.scalar(stored) == 0


def test_editing_keeps_the_values_on_an_error(installation) -> None:
    client = _admin(installation)
    with installation.app.app_context():
        activity = add_activity(SURVEY, date(2026, 3, 1), place="Älvåkraskolan")
    response = client.post(
        f"{BASE}/aktivitet/{activity}",
        data={"occurred_on": "2026-07-03", "count": "0", "place": "Vidselskolan"},
    )
    page = response.get_data(as_text=True)
    assert "Datumet kan inte vara i framtiden." in page
    assert "Skriv ett tal mellan 1 och 1000." in page
    assert 'value="Vidselskolan"' in page and 'value="2026-07-03"' in page
    with installation.app.app_context():
        stored = db.session.get(Activity, activity)
        assert (stored.occurred_on, stored.count, stored.place) == (
            date(2026, 3, 1),
            1,
            "Älvåkraskolan",
        )


def test_an_activity_after_its_promise_closed_is_refused(installation) -> None:
    client = _admin(installation)
    app = installation.app
    with app.app_context():
        old = commitment(TRAFFIC)
        old_id = old.id
        service.start_new_promise(
            old.promise,
            title="Medborgarlöfte 2026–2027",
            valid_from=date(2026, 7, 1),
            valid_to=None,
            until_replaced=True,
            signed_on=None,
            user=seed_admin(),
        )
        new_id = commitment_id(TRAFFIC)
    refused = client.post(
        f"{BASE}/atagande/{old_id}/aktiviteter", data={"occurred_on": "2026-07-01", "count": "1"}
    ).get_data(as_text=True)
    assert "Löftet gällde inte det datumet. Det gällde 2021-01-01–2026-06-30." in refused
    assert (
        client.post(
            f"{BASE}/atagande/{new_id}/aktiviteter",
            data={"occurred_on": "2026-07-01", "count": "1"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{BASE}/atagande/{old_id}/aktiviteter",
            data={"occurred_on": "2026-06-30", "count": "1"},
        ).status_code
        == 302
    )


# --- The dashboard -------------------------------------------------------------------------------


def test_dashboard_shows_pace_reasons_rollups_and_charts(installation) -> None:
    client = _admin(installation)
    _evidence(installation.app)
    page = client.get(f"{BASE}/?ar=2026").get_data(as_text=True)
    assert "4 av 10 (40 %)" in page
    assert "Efter plan (5 väntat hittills)" in page
    assert "Personalbrist under våren." in page
    assert "<svg" in page and "<title" in page and "<script" not in page
    assert "Per ansvarig" in page and "Per område" in page
    # Earlier years are one link away
    assert 'href="/personal/uppfoljning/?ar=2025"' in page
    page_2025 = client.get(f"{BASE}/?ar=2025").get_data(as_text=True)
    assert "Uppföljning av medborgarlöftet 2025</h1>" in page_2025
    assert "10 av 10 (100 %)" in page_2025
    assert "Orsak saknas" in page_2025  # no dog search in 2025, and no reason given


# --- The public page -----------------------------------------------------------------------------


def test_public_page_shows_progress_without_personal_data(installation) -> None:
    # Given staff who recorded evidence, with notes, and a reason
    app = installation.app
    installation.add_user("kerstin.polis@example.com", "partner")
    staff = app.test_client()
    installation.login(staff, "kerstin.polis@example.com")
    with app.app_context():
        dogs = commitment_id(DOGS)
    staff.post(
        f"{BASE}/atagande/{dogs}/aktiviteter",
        data={"occurred_on": "2026-02-14", "count": "1", "place": "Skolan", "note": NOTE},
    )
    _evidence(app)
    # When a resident opens the page without signing in
    response = app.test_client().get("/medborgarloftet/")
    page = response.get_data(as_text=True)
    # Then it shows the promise and this and earlier years' progress
    assert response.status_code == 200
    assert "Medborgarlöfte 2021–2022" in page
    assert (
        "Löftet skrevs för att gälla till 2022-12-31. Det gäller fortfarande, tills ett nytt "
        "löfte tecknas." in page
    )
    assert "Det omfattar åren 2021–2026." in page
    headings = re.findall(r"<h2>(\d{4})</h2>", page)
    assert headings == ["2026", "2025", "2024", "2023", "2022", "2021"]
    this_year = page[page.index("<h2>2026</h2>") : page.index("<h2>2025</h2>")]
    assert "4 av 10" in this_year and "2 av 2" in this_year
    last_year = page[page.index("<h2>2025</h2>") : page.index("<h2>2024</h2>")]
    assert "10 av 10" in last_year
    # And held dialogues, but not the one that was not held
    assert "Trygghet i centrum" in page and "Inställd dialog" not in page
    # And no personal data: no staff names or e-mails, no notes, no reasons
    for secret in (
        "kerstin.polis@example.com",
        "Kerstin",
        "chef@example.com",
        "admin@alvsbyn.invalid",
        "Administratör",
        "Kalle",
        "Personalbrist",
        "Skolan",
        "Lomma skola",
        "Vidselskolan",
        "@example.com",
    ):
        assert secret not in page, secret
    assert "<script" not in page


def test_public_page_in_an_empty_installation(make_app) -> None:
    response = make_app().test_client().get("/medborgarloftet/")
    assert response.status_code == 200
    assert "Inget medborgarlöfte är publicerat." in response.get_data(as_text=True)


def test_public_page_follows_the_dialogue_commitment(installation) -> None:
    with installation.app.app_context():
        add_dialogue(utc(2026, 3, 12, 17, 0))
        dialogue_text = commitment(DIALOGUES).text
    page = installation.app.test_client().get("/medborgarloftet/").get_data(as_text=True)
    this_year = page[page.index("<h2>2026</h2>") : page.index("<h2>2025</h2>")]
    assert dialogue_text in this_year and "1 av 2" in this_year
