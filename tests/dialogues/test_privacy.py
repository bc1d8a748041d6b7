"""Registrations are protected data: never in plain text at rest, shown to organisers, exported
safely, erased N days after the dialogue with the counts kept, and re-encrypted by a key
rotation while the service runs."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import appkeys, bootstrap, clock, jobs, secrets
from intake.accounts.models import User
from intake.crypto import protected
from intake.dialogues import erasure, service
from intake.dialogues.models import CONFIRMED, Dialogue, Registration
from intake.extensions import db
from intake.outbox import OutboxMessage

from ..accounts.back_office import freeze
from ..conftest import LiveServer, SMTPServer
from ..gallring_helpers import decide
from ..staff_helpers import Installation
from ..test_canary import assert_absent, database_copy
from .helpers import (
    BASE_URL,
    cancel_path,
    deliver,
    new_dialogue,
    only_to,
    outcome,
    registration,
    registrations,
    sign_in,
    sign_up,
    stockholm,
)

HEADER = ["status", "kö", "namn", "e-post", "telefon", "antal", "behov", "incheckad"]


def canaries() -> dict[str, str]:
    """A unique marker for each protected field."""
    mark = uuid.uuid4().hex
    return {
        "name": f"CANARY-namn-{mark}",
        "email": f"canary-epost-{mark}@example.com",
        "phone": f"070-{mark[:8]}",
        "needs": f"CANARY-behov-{mark}",
    }


def sign_up_canary(client: FlaskClient, dialogue_id: int, found: dict[str, str]) -> Any:
    """Sign up with the canaries as answers."""
    return sign_up(
        client, dialogue_id, found["email"], name=found["name"], phone=found["phone"],
        needs=found["needs"],
    )  # fmt: skip


def test_registrations_are_never_plain_text_at_rest(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    smtp: SMTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given SQL logging at its most talkative
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    # When a resident signs up with a canary in every field, and another is waitlisted
    dialogue_id = new_dialogue(site.app, capacity=1)
    first, second = canaries(), canaries()
    assert outcome(sign_up_canary(resident, dialogue_id, first)) == "bekraftad"
    assert outcome(sign_up_canary(resident, dialogue_id, second)) == "reserv-1"
    # Then the organiser sees every field of both
    page = organiser.get(f"/personal/dialoger/{dialogue_id}").get_data(as_text=True)
    for value in [*first.values(), *second.values()]:
        assert value in page
    exported = organiser.get(f"/personal/dialoger/{dialogue_id}/deltagare.csv")
    assert first["needs"] in exported.get_data(as_text=True)
    # But no copy of the database (before and after the mail went), nor any log, holds one
    everything = [*first.values(), *second.values()]
    assert "INSERT INTO registration" in caplog.text  # SQL logging really was on
    assert_absent(everything, {**database_copy(site.app), "logs": caplog.text.encode()})
    assert len(deliver(site.app, smtp)) == 2
    assert_absent(everything, database_copy(site.app))
    # And the only trace of the e-mail address is a keyed tag
    with site.app.app_context():
        tags = set(db.session.scalars(sa.select(Registration.email_tag)))
        assert all(tag and len(tag) == 64 for tag in tags)
        assert first["email"] not in str(tags)


def _csv(client: FlaskClient, dialogue_id: int) -> tuple[Any, list[list[str]]]:
    response = client.get(f"/personal/dialoger/{dialogue_id}/deltagare.csv")
    assert response.status_code == 200
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    return response, list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


@pytest.mark.parametrize(
    ("field", "typed", "exported"),
    [
        (
            "name",
            '=HYPERLINK("http://evil.example","Klicka")',
            '\'=HYPERLINK("http://evil.example"',
        ),
        ("name", "@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("name", "-2+3", "'-2+3"),
        ("phone", "+46 70 123 45 67", "'+46 70 123 45 67"),
        ("needs", "=1+1", "'=1+1"),
        ("needs", 'Rullstol; hörslinga, "gärna"', 'Rullstol; hörslinga, "gärna"'),
        ("email", "=1+2@example.com", "'=1+2@example.com"),
        ("name", "Åsa Öberg", "Åsa Öberg"),
    ],
)
def test_attendee_csv_defuses_formulas(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    field: str,
    typed: str,
    exported: str,
) -> None:
    # Given a registrant who typed something a spreadsheet would run
    dialogue_id = new_dialogue(site.app, capacity=5)
    answers = {"name": "Anna", "email": "anna@example.com", "phone": "", "needs": ""}
    answers[field] = typed
    email = answers.pop("email")
    assert outcome(sign_up(resident, dialogue_id, email, **answers)) == "bekraftad"
    # When the organiser exports the attendees
    response, rows = _csv(organiser, dialogue_id)
    # Then the file is a download, and the cell starts with an apostrophe if it could run
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dialog-{dialogue_id}-deltagare.csv"'
    )
    assert rows[0] == HEADER
    cell = rows[1][HEADER.index({"name": "namn", "email": "e-post", "phone": "telefon"}.get(
        field, "behov"))]  # fmt: skip
    assert cell.startswith(exported)
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row[2:5])


def test_attendee_csv_and_printable_list(
    site: Installation, resident: FlaskClient, organiser: FlaskClient, smtp: SMTPServer
) -> None:
    # Given two confirmed parties, one waiting, one cancelled
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "anna@example.com", name="Anna", party_size="2", needs="Hörsel")
    sign_up(resident, dialogue_id, "bo@example.com", name="Bo", phone="070-1")
    sign_up(resident, dialogue_id, "cia@example.com", name="Cia")
    sign_up(resident, dialogue_id, "dan@example.com", name="Dan")
    resident.post(cancel_path(only_to(deliver(site.app, smtp), "dan@example.com")))
    # When the organiser exports them
    _response, rows = _csv(organiser, dialogue_id)
    # Then every registration is a row with its status, place in the queue and party size
    assert rows[0] == HEADER
    assert sorted(rows[1:]) == sorted(
        [
            ["bekräftad", "", "Anna", "anna@example.com", "", "2", "Hörsel", ""],
            ["bekräftad", "", "Bo", "bo@example.com", "070-1", "1", "", ""],
            ["reserv", "1", "Cia", "cia@example.com", "", "1", "", ""],
            ["avbokad", "", "Dan", "dan@example.com", "", "1", "", ""],
        ]
    )
    # And the printable list has the confirmed only, with their needs
    page = organiser.get(f"/personal/dialoger/{dialogue_id}/deltagarlista").get_data(as_text=True)
    assert "Deltagarlista" in page
    assert "Anna" in page and "Hörsel" in page and "Bo" in page
    assert "Cia" not in page and "Dan" not in page


def test_check_in_toggles(
    site: Installation, resident: FlaskClient, organiser: FlaskClient
) -> None:
    # Given a confirmed registrant
    dialogue_id = new_dialogue(site.app, capacity=3)
    other_dialogue = new_dialogue(site.app, title="Annan dialog")
    sign_up(resident, dialogue_id, "anna@example.com", name="Anna")
    anna = registration(site.app, dialogue_id, "anna@example.com")
    url = f"/personal/dialoger/{dialogue_id}/incheckning/{anna.id}"
    # When the organiser checks her in
    response = organiser.post(url)
    # Then she is marked as arrived, on the page and in the export
    assert response.status_code == 302
    assert response.location.endswith(f"/personal/dialoger/{dialogue_id}#r{anna.id}")
    assert registration(site.app, dialogue_id, "anna@example.com").checked_in_at is not None
    page = organiser.get(f"/personal/dialoger/{dialogue_id}").get_data(as_text=True)
    assert "Incheckad – ångra" in page
    assert _csv(organiser, dialogue_id)[1][1][-1] == "ja"
    # When the organiser presses again, it is undone
    organiser.post(url)
    assert registration(site.app, dialogue_id, "anna@example.com").checked_in_at is None
    assert "Checka in" in organiser.get(f"/personal/dialoger/{dialogue_id}").get_data(as_text=True)
    # And a registration cannot be checked in under another dialogue, nor by GET
    wrong = organiser.post(f"/personal/dialoger/{other_dialogue}/incheckning/{anna.id}")
    assert wrong.status_code == 404
    assert organiser.post(f"/personal/dialoger/{dialogue_id}/incheckning/999999").status_code == 404
    assert organiser.get(url).status_code == 405
    assert registration(site.app, dialogue_id, "anna@example.com").checked_in_at is None


def _door(site: Installation, resident: FlaskClient, smtp: SMTPServer) -> int:
    """Three seats: Anna (two people) and Bo confirmed, Cia waiting, Dan cancelled."""
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "anna@example.com", name="Anna", party_size="2")
    sign_up(resident, dialogue_id, "bo@example.com", name="Bo")
    sign_up(resident, dialogue_id, "cia@example.com", name="Cia")
    sign_up(resident, dialogue_id, "dan@example.com", name="Dan")
    resident.post(cancel_path(only_to(deliver(site.app, smtp), "dan@example.com")))
    return dialogue_id


def _marks(organiser: FlaskClient, dialogue_id: int) -> tuple[dict[str, str], int, str]:
    """What each view says about arrival: the CSV's column by name, the ticked boxes of the
    printed list, and the held report's hint."""
    _response, rows = _csv(organiser, dialogue_id)
    exported = {row[2]: row[HEADER.index("incheckad")] for row in rows[1:]}
    printed = organiser.get(f"/personal/dialoger/{dialogue_id}/deltagarlista")
    report = organiser.get(f"/personal/dialoger/{dialogue_id}/rapport").get_data(as_text=True)
    hint = re.search(r"<p>(\d+ anmäld[^<]*? incheckade?\.)", report)
    return exported, printed.get_data(as_text=True).count("☑"), hint.group(1) if hint else ""


@pytest.mark.parametrize(
    ("who", "refusal", "counted"),
    [
        ("anna@example.com", None, "2 anmälda personer är incheckade."),
        ("bo@example.com", None, "1 anmäld person är incheckad."),
        ("cia@example.com", "Anmälan står på reservlistan och kan inte checkas in.", ""),
        ("dan@example.com", "Anmälan är avbokad och kan inte checkas in.", ""),
    ],
)
def test_only_confirmed_registrations_can_be_checked_in(
    site: Installation,
    resident: FlaskClient,
    organiser: FlaskClient,
    smtp: SMTPServer,
    who: str,
    refusal: str | None,
    counted: str,
) -> None:
    # Given two confirmed parties, one waiting and one cancelled
    dialogue_id = _door(site, resident, smtp)
    before = {r.id: (r.status, r.checked_in_at) for r in registrations(site.app, dialogue_id)}
    target = registration(site.app, dialogue_id, who)
    # When the organiser checks one of them in
    response = organiser.post(f"/personal/dialoger/{dialogue_id}/incheckning/{target.id}")
    assert response.status_code == 302
    assert response.location.endswith(f"/personal/dialoger/{dialogue_id}#r{target.id}")
    page = organiser.get(response.location).get_data(as_text=True)
    after = {r.id: (r.status, r.checked_in_at) for r in registrations(site.app, dialogue_id)}
    exported, ticked, hint = _marks(organiser, dialogue_id)
    name = who.split("@")[0].title()
    if refusal is None:
        # Then a confirmed registration is marked as arrived, and nothing else changes
        assert after.pop(target.id)[1] is not None
        before.pop(target.id)
        assert after == before
        assert exported == {"Anna": "", "Bo": "", "Cia": "", "Dan": "", name: "ja"}
        assert "kan inte checkas in" not in page
    else:
        # Then the waiting list and the cancelled are refused with a message, nothing changed
        assert refusal in page
        assert after == before
        assert exported == {"Anna": "", "Bo": "", "Cia": "", "Dan": ""}
    # And the printed list and the held report's hint count the same arrivals
    assert (ticked, hint) == ((0, "") if refusal else (1, counted))


def test_a_cancellation_takes_the_check_in_away(
    site: Installation, resident: FlaskClient, organiser: FlaskClient, smtp: SMTPServer
) -> None:
    # Given Anna, confirmed and checked in
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "anna@example.com", name="Anna", party_size="2")
    link = cancel_path(only_to(deliver(site.app, smtp), "anna@example.com"))
    anna = registration(site.app, dialogue_id, "anna@example.com")
    organiser.post(f"/personal/dialoger/{dialogue_id}/incheckning/{anna.id}")
    assert _marks(organiser, dialogue_id) == (
        {"Anna": "ja"},
        1,
        "2 anmälda personer är incheckade.",
    )
    # When she cancels by the link in her mail
    resident.post(link)
    # Then she is no longer counted as arrived anywhere
    assert registration(site.app, dialogue_id, "anna@example.com").checked_in_at is None
    assert _marks(organiser, dialogue_id) == ({"Anna": ""}, 0, "")
    # And she cannot be checked in again
    organiser.post(f"/personal/dialoger/{dialogue_id}/incheckning/{anna.id}")
    assert registration(site.app, dialogue_id, "anna@example.com").checked_in_at is None


def _protected_plaintexts(app: Flask) -> bytes:
    """Every protected value in the database, decrypted with the application keys."""
    chunks: list[bytes] = []
    with app.app_context():
        keys = appkeys.keys()
        for spec in appkeys.protected_columns():
            column = spec.table.c[spec.column]
            for row in db.session.execute(
                sa.select(spec.table.c.id, column).where(column.is_not(None))
            ):
                chunks.append(protected.unprotect(row[1], keys, aad=spec.aad(row)))
    return b"\n".join(chunks)


def test_erasure_removes_personal_data_and_keeps_counts(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide(site.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    # Given a dialogue that ended on 10 March 20:00, three confirmed (four people), one waiting
    frozen = freeze(monkeypatch, stockholm(2031, 3, 1, 10, 0))
    dialogue_id = new_dialogue(site.app, capacity=4, starts_at=stockholm(2031, 3, 10, 18, 0))
    other_id = new_dialogue(site.app, title="Senare", starts_at=stockholm(2031, 4, 1, 18, 0))
    people = [canaries() for _ in range(4)]
    for n, found in enumerate(people):
        sign_up(resident, dialogue_id, found["email"], name=found["name"], phone=found["phone"],
                needs=found["needs"], party_size="2" if n == 0 else "1")  # fmt: skip
    sign_up(resident, other_id, "kvar@example.com", name="Kvar Kvarsson")
    deliver(site.app, smtp)
    secrets_typed = [value for found in people for value in found.values()]
    assert people[0]["name"].encode() in _protected_plaintexts(site.app)

    def erase_at(moment: Any) -> None:
        frozen.set(moment)
        with site.app.app_context():
            jobs.run_due()

    # When the jobs run just under 30 days after, nothing is erased
    erase_at(stockholm(2031, 4, 9, 21, 0))
    assert registration(site.app, dialogue_id, people[1]["email"]).protected is not None
    # When they run the next day, after 30 days
    erase_at(stockholm(2031, 4, 10, 21, 0))
    # Then every registration of that dialogue has lost its personal data and e-mail tag
    rows = registrations(site.app, dialogue_id)
    assert [(r.protected, r.email_tag) for r in rows] == [(None, None)] * 4
    # But the counts remain: four people confirmed, one waiting
    with site.app.app_context():
        assert service.seats_taken(dialogue_id) == 4
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None and dialogue.personal_data_erased_at == frozen.moment
    assert [r.status for r in rows].count(CONFIRMED) == 3 and len(rows) == 4
    # And the later dialogue's registrant is untouched
    assert registration(site.app, other_id, "kvar@example.com").protected is not None
    # And the canaries are gone from the database, even to someone holding the keys
    assert_absent(secrets_typed, {"protected, decrypted": _protected_plaintexts(site.app)})
    assert_absent(secrets_typed, database_copy(site.app))
    # And the organiser sees counts, not people
    organiser = sign_in(site)
    page = organiser.get(f"/personal/dialoger/{dialogue_id}").get_data(as_text=True)
    assert "Personuppgifterna raderades" in page and "Anmälda: 4 / 4" in page
    assert_absent(secrets_typed, {"organiser page": page.encode()})
    overview = organiser.get("/personal/dialoger/").get_data(as_text=True)
    assert "<td>4 / 4</td>" in overview
    _response, csv_rows = _csv(organiser, dialogue_id)
    assert [row[2:5] for row in csv_rows[1:]] == [["", "", ""]] * 4
    # And erasure is done once: a later run changes nothing
    erase_at(stockholm(2031, 4, 20, 21, 0))
    with site.app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        assert dialogue.personal_data_erased_at == stockholm(2031, 4, 10, 21, 0)


@pytest.mark.parametrize(("days", "erased"), [(29, 0), (30, 0), (31, 1)])
def test_erasure_waits_the_configured_days(site: Installation, days: int, erased: int) -> None:
    decide(site.app, days=30)  # gallringsbeslut: 30 days after the dialogue
    ends = clock.now() - timedelta(days=days, hours=-1)
    new_dialogue(site.app, starts_at=ends - timedelta(hours=2))
    with site.app.app_context():
        count = len(erasure.erase_registrants(now=clock.now()))
    assert count == erased


def _blob_versions(app: Flask) -> dict[str, set[int]]:
    with app.app_context():
        found: dict[str, set[int]] = {}
        for spec in appkeys.protected_columns():
            column = spec.table.c[spec.column]
            blobs = db.session.scalars(sa.select(column).where(column.is_not(None)))
            found[spec.table.name] = {protected.key_version(blob) for blob in blobs}
        return found


def test_key_rotation_while_the_service_runs(
    make_app: Any, instance_path: Path, smtp: SMTPServer
) -> None:
    # Given the instance's secrets file, and two workers that read their keys from it
    secrets.create(instance_path)
    config = {
        "APP_KEYS": None,
        "APP_KEYS_FROM_FILE": True,
        "WTF_CSRF_ENABLED": False,
        "MAIL_PORT": smtp.port,
        "MAIL_SUPPRESS_SEND": False,
        "BASE_URL": BASE_URL,
    }
    app, other = make_app(**config), make_app(**config)
    assert list(app.config["APP_KEYS"]) == [1] and app.config["APP_KEYS_FROM_FILE"]
    with app.app_context():
        site = Installation(app=app, recovery_codes=bootstrap.run_setup().recovery_codes)
    organiser = sign_in(site)
    # And registrations written by both workers under key version 1
    dialogue_id = new_dialogue(app, capacity=2)
    resident, elsewhere = app.test_client(), other.test_client()
    assert outcome(sign_up(resident, dialogue_id, "anna@example.com", name="Anna")) == "bekraftad"
    assert outcome(sign_up(elsewhere, dialogue_id, "bo@example.com", name="Bo")) == "bekraftad"
    assert outcome(sign_up(resident, dialogue_id, "cia@example.com", name="Cia")) == "reserv-1"
    assert _blob_versions(app) == {
        "registration": {1},
        "user_account": {1},
        "outbox_message": {1},
        "channel_message": set(),  # no återkoppling here (intake.reports.feedback)
    }
    # When the keys are rotated from the command line, the service still running
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    # Then a new key version exists and every protected value is under it
    assert result.exit_code == 0, result.output
    assert "Ny nyckelversion 2" in result.output
    found = secrets.load(instance_path)
    assert found is not None and sorted(found.app_keys) == [1, 2]
    assert _blob_versions(app) == {
        "registration": {2},
        "user_account": {2},
        "outbox_message": {2},
        "channel_message": set(),  # no återkoppling here (intake.reports.feedback)
    }
    # And the same running app still reads the registrations and signs organisers in
    page = organiser.get(f"/personal/dialoger/{dialogue_id}").get_data(as_text=True)
    assert all(name in page for name in ("Anna", "Bo", "Cia", "anna@example.com"))
    assert sign_in(site, "ny.organisator@example.com")
    # And the worker built before the rotation reads them too, and writes under version 2
    with other.app_context():
        keys = appkeys.keys()
        assert sorted(keys) == [1, 2]
        people = [service.person_of(r, keys) for r in db.session.scalars(sa.select(Registration))]
        assert sorted(p.name for p in people if p) == ["Anna", "Bo", "Cia"]
    assert outcome(sign_up(elsewhere, dialogue_id, "dan@example.com", name="Dan")) == "reserv-2"
    dan = registration(app, dialogue_id, "dan@example.com")
    assert dan.protected is not None and protected.key_version(dan.protected) == 2
    with app.app_context():
        person = service.person_of(dan, appkeys.keys())
        assert person is not None and person.name == "Dan"
    # And mail queued before the rotation is delivered by either worker
    mails = deliver(other, smtp)
    assert sorted(m["To"] for m in mails) == [
        "anna@example.com",
        "bo@example.com",
        "cia@example.com",
        "dan@example.com",
    ]
    # And a cancel link from before the rotation still works and promotes under version 2
    elsewhere.post(cancel_path(only_to(mails, "anna@example.com")))
    assert registration(app, dialogue_id, "cia@example.com").status == CONFIRMED
    assert {m["To"] for m in deliver(app, smtp)} == {"anna@example.com", "cia@example.com"}
    assert _blob_versions(app)["registration"] == {2}


def test_key_rotation_during_sign_ups_over_http(make_app: Any, instance_path: Path) -> None:
    # Given the service served over HTTP with keys from the instance file
    secrets.create(instance_path)
    app = make_app(APP_KEYS=None, APP_KEYS_FROM_FILE=True, WTF_CSRF_ENABLED=False)
    with app.app_context():
        bootstrap.run_setup()
    dialogue_id = new_dialogue(app)
    statuses: list[int] = []
    stop = threading.Event()

    def keep_signing_up(url: str) -> None:
        import http.client
        from urllib.parse import urlencode, urlsplit

        n = 0
        while not stop.is_set() or n < 5:
            conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
            body = urlencode(
                {"name": f"P{n}", "email": f"p{n}@example.com", "party_size": "1", "privacy": "y"}
            )
            conn.request(
                "POST",
                f"/dialoger/{dialogue_id}/anmalan",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            statuses.append(conn.getresponse().status)
            conn.close()
            n += 1

    with LiveServer(app) as server:
        thread = threading.Thread(target=keep_signing_up, args=(server.url,))
        thread.start()
        try:
            # When the keys are rotated while residents keep signing up
            result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        finally:
            stop.set()
            thread.join(timeout=60)
        assert not thread.is_alive()
    assert result.exit_code == 0, result.output
    # Then no sign-up failed, and after a final re-encryption everything is under version 2
    assert statuses and set(statuses) == {303}
    again = app.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert again.exit_code == 0, again.output
    assert _blob_versions(app)["registration"] == {2}
    with app.app_context():
        keys = appkeys.keys()
        rows = list(db.session.scalars(sa.select(Registration)))
        assert len(rows) == len(statuses)
        assert all(service.person_of(r, keys) is not None for r in rows)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == len(
            statuses
        )
