"""The caseworker's case file (issue 13 §2): sealed append-only case notes, who made each
handling step, search by reference and (for children) by personnummer through the blind
index without an oracle, caseworker headings, moves within a kind, and an assessment that
must say something."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import audit, bootstrap
from intake.crypto import CryptoError
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports import casenotes, moving, retention, search
from intake.reports.models import CaseNote, CaseNoteImmutable, Inbox, Report, RoutingRule

from ..accounts.back_office import (
    CHILD_PNR,
    Clock,
    fast_passwords,
    freeze,
    stockholm,
    submit,
    text,
)
from ..gallring_helpers import decide
from ..staff_helpers import BEA, BOTH, VERA, Installation, seat_caseworkers, signed_in
from ..test_canary import assert_absent, database_copy, instance_files

NORD = "Barn och unga Nord"
OTHER_PNR = "20150317-2387"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Tuesday 10 March 2026, 09:00 in Stockholm, moved only by the test."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


@pytest.fixture
def desk(installation: Installation, frozen: Clock) -> Installation:
    """Bea in "Barn och unga", Vera in "Vuxna", Bo in both."""
    return seat_caseworkers(installation)


def notes_section(html: str) -> str:
    """The case notes section of a report page."""
    return html.split('id="h-notes"', 1)[1].split("</section>", 1)[0]


# --- case notes -----------------------------------------------------------------------------


def test_notes_are_a_history_with_who_and_when(desk: Installation, frozen: Clock) -> None:
    report_id = submit(desk.app)
    bea, bo = signed_in(desk, BEA), signed_in(desk, BOTH)
    base = f"/personal/anmalan/{report_id}"
    # When Bea and then Bo each add a note
    response = bea.post(f"{base}/anteckning", data={"case_note": "Ringde skolan."})
    assert response.status_code == 302 and response.location.endswith("#h-notes")
    frozen.advance(minutes=5)
    bo.post(f"{base}/anteckning", data={"case_note": "  Pratade med mamman.  "})
    # Then the page shows both, oldest first, each with its author and time
    section = notes_section(text(bea.get(base)))
    assert section.index("Ringde skolan.") < section.index("Pratade med mamman.")
    assert BEA in section and BOTH in section
    assert "09:00" in section and "09:05" in section
    # And the print view has the history too
    printed = text(bea.get(f"{base}/utskrift"))
    assert "Ringde skolan." in printed and "Pratade med mamman." in printed


@pytest.mark.parametrize("typed", ["", "   ", "\n\t \n"])
def test_an_empty_note_is_refused_with_a_field_error(desk: Installation, typed: str) -> None:
    report_id = submit(desk.app)
    url = f"/personal/anmalan/{report_id}/anteckning"
    page = signed_in(desk, BEA).post(url, data={"case_note": typed})
    assert page.status_code == 200
    assert "Skriv en anteckning." in text(page) and 'aria-invalid="true"' in text(page)
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == 0


def test_a_too_long_note_is_refused_and_kept(desk: Installation) -> None:
    report_id = submit(desk.app)
    typed = "Lång anteckning " + "x" * 8000
    url = f"/personal/anmalan/{report_id}/anteckning"
    page = signed_in(desk, BEA).post(url, data={"case_note": typed})
    assert page.status_code == 200 and "högst 8000 tecken" in text(page)
    assert typed in text(page)


def test_notes_are_sealed_to_the_inbox_and_bound_to_their_row(desk: Installation) -> None:
    report_id = submit(desk.app)
    signed_in(desk, BEA).post(
        f"/personal/anmalan/{report_id}/anteckning", data={"case_note": "Förseglad anteckning."}
    )
    with desk.app.app_context():
        note = db.session.scalar(sa.select(CaseNote))
        assert note is not None and "Förseglad".encode() not in note.sealed
        assert note.author_label == BEA
        report = db.session.get(Report, report_id)
        assert report is not None
        barn = bootstrap.recover_inbox_secret(
            desk.inbox("Barn och unga"), desk.recovery_codes["Barn och unga"]
        )
        vuxna = bootstrap.recover_inbox_secret(desk.inbox("Vuxna"), desk.recovery_codes["Vuxna"])
        assert [n.text for n in casenotes.history(report, barn)] == ["Förseglad anteckning."]
        with pytest.raises(CryptoError):
            casenotes.history(report, vuxna)
        # Bound to its own row: the ciphertext copied to another note does not open
        twin = CaseNote(
            id=str(uuid.uuid4()),
            report_id=report_id,
            written_at=note.written_at + timedelta(seconds=1),
            author_id=None,
            author_label="x",
            sealed=note.sealed,
        )
        db.session.add(twin)
        db.session.commit()
        with pytest.raises(CryptoError):
            casenotes.history(report, barn)


def test_notes_are_append_only(desk: Installation) -> None:
    report_id = submit(desk.app)
    bea = signed_in(desk, BEA)
    bea.post(f"/personal/anmalan/{report_id}/anteckning", data={"case_note": "Första."})
    # There is no route that edits or deletes a note
    with desk.app.app_context():
        rules = [r for r in desk.app.url_map.iter_rules() if "anteckning" in r.rule]
        assert [sorted(r.methods or set()) for r in rules] == [["OPTIONS", "POST"]]
    with desk.app.app_context():
        note = db.session.scalar(sa.select(CaseNote))
        assert note is not None
        note_id = note.id
        # And the model refuses to change a stored note
        note.sealed = b"forged"
        with pytest.raises(CaseNoteImmutable):
            db.session.commit()
        db.session.rollback()
    # A second post appends: the first note is still there, unchanged
    bea.post(f"/personal/anmalan/{report_id}/anteckning", data={"case_note": "Andra."})
    with desk.app.app_context():
        ids = db.session.scalars(sa.select(CaseNote.id).order_by(CaseNote.written_at)).all()
        assert len(ids) == 2 and note_id in ids
    section = notes_section(text(bea.get(f"/personal/anmalan/{report_id}")))
    assert "Första." in section and "Andra." in section


def test_adding_a_note_is_audited_without_its_text(desk: Installation) -> None:
    report_id = submit(desk.app)
    signed_in(desk, BEA).post(
        f"/personal/anmalan/{report_id}/anteckning", data={"case_note": "KANARIE-revision"}
    )
    with desk.app.app_context():
        event = db.session.scalar(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "case_note_added")
        )
        assert event is not None
        assert (event.actor, event.target_type, event.target_id) == (BEA, "report", report_id)
        assert "KANARIE" not in repr(event.details)


def test_a_non_member_cannot_add_a_note(desk: Installation) -> None:
    report_id = submit(desk.app)
    vera = signed_in(desk, VERA)
    response = vera.post(
        f"/personal/anmalan/{report_id}/anteckning", data={"case_note": "Intrång."}
    )
    assert response.status_code == 404
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == 0


def test_the_purge_deletes_the_notes(desk: Installation, frozen: Clock) -> None:
    app = desk.app
    decide(app, "report_content", days=30)
    report_id = submit(app)
    bea = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    bea.post(f"{base}/anteckning", data={"case_note": "Gallras med anmälan."})
    bea.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    bea.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-10"})
    data = {"registered_on": "2026-03-10", "case_reference": "SN 1"}
    assert bea.post(f"{base}/registrerad", data=data).status_code == 302
    with app.app_context():
        gone = retention.purge(today=date(2026, 3, 10) + timedelta(days=30))
        assert [g.report_id for g in gone] == [report_id]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == 0
    # And a purged report takes no new notes
    assert bea.post(f"{base}/anteckning", data={"case_note": "Efteråt."}).status_code == 404


def test_no_note_text_reaches_a_database_file_a_log_or_a_mail(
    desk: Installation, frozen: Clock, instance_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given logging at its most talkative, SQL statements included
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    app = desk.app
    desk.add_inbox(NORD, subject_type="barn")
    marker = f"CANARY-note-{uuid.uuid4().hex}"
    report_id = submit(app)
    bea = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    # When Bea writes a note with a canary, reads it, prints it and moves the report (a mail)
    bea.post(f"{base}/anteckning", data={"case_note": marker})
    assert marker in text(bea.get(base)) and marker in text(bea.get(f"{base}/utskrift"))
    with app.app_context():
        nord = desk.inbox(NORD).id
    assert bea.post(f"{base}/flytta", data={"inbox_id": nord}).status_code == 302
    # Then the canary is in no database file, log or queued mail
    logs = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "INSERT INTO case_note" in logs  # SQL logging really was on
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMessage)).all()
        assert mails  # the move notified the target inbox
        rendered = repr([(m.template, m.context, m.recipient) for m in mails])
    assert_absent(
        [marker],
        {
            **database_copy(app),
            **instance_files(instance_path),
            "logs": logs.encode(),
            "mail": rendered.encode(),
        },
    )


# --- who made it ----------------------------------------------------------------------------


def test_each_step_shows_who_recorded_it(desk: Installation) -> None:
    report_id = submit(desk.app)
    bea, bo = signed_in(desk, BEA), signed_in(desk, BOTH)
    base = f"/personal/anmalan/{report_id}"
    bea.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    bo.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-10"})
    data = {"registered_on": "2026-03-10", "case_reference": "SN 3"}
    assert bea.post(f"{base}/registrerad", data=data).status_code == 302
    with desk.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        bea_id, bo_id = desk.user(BEA).id, desk.user(BOTH).id
        assert (report.assessed_by_id, report.decided_by_id, report.registered_by_id) == (
            bea_id,
            bo_id,
            bea_id,
        )
    page = text(bo.get(base))
    assessment = page.split('id="h-assessment"', 1)[1].split("</section>", 1)[0]
    decision = page.split('id="h-decision"', 1)[1].split("</section>", 1)[0]
    register = page.split('id="h-register"', 1)[1].split("</section>", 1)[0]
    assert f"av Bea ({BEA})" in assessment
    assert f"Registrerat av Bo ({BOTH})" in decision
    assert f"Markerad av Bea ({BEA})" in register
    printed = text(bo.get(f"{base}/utskrift"))
    assert f"Bea ({BEA})" in printed and f"Bo ({BOTH})" in printed


def test_an_adults_handling_state_shows_who_recorded_it(desk: Installation) -> None:
    report_id = submit(desk.app, subject_type="vuxen")
    vera = signed_in(desk, VERA)
    base = f"/personal/anmalan/{report_id}"
    vera.get(base)
    vera.post(f"{base}/handlaggning", data={"outcome": "Kontakt tagen"})
    page = text(vera.get(base))
    assert f"Registrerat av Vera ({VERA})" in page.split('id="h-outcome"', 1)[1]


# --- the empty skyddsbedömning --------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", "\r\n\t"])
def test_an_empty_assessment_is_refused_and_nothing_recorded(desk: Installation, note: str) -> None:
    report_id = submit(desk.app)
    bea = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    # Given a typed decision date elsewhere on the page is not lost either (own form)
    page = bea.post(f"{base}/skyddsbedomning", data={"note": note})
    assert page.status_code == 200
    html = text(page)
    assert "Skriv vad skyddsbedömningen kom fram till" in html
    assert 'id="note-error"' in html and "Fel: Anmälan" in html
    with desk.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None and report.assessed_at is None
        assert report.assessment_note is None and report.status == "received"


def test_a_refused_assessment_keeps_what_was_typed_in_other_fields(desk: Installation) -> None:
    report_id = submit(desk.app)
    bea = signed_in(desk, BEA)
    long_note = "Bedömning " + "y" * 8000
    base = f"/personal/anmalan/{report_id}"
    page = text(bea.post(f"{base}/skyddsbedomning", data={"note": long_note}))
    assert long_note in page and "högst 8000 tecken" in page


# --- moving within a kind -------------------------------------------------------------------


def _move_choices(html: str) -> set[str]:
    if 'id="inbox_id"' not in html:
        return set()
    select = html.split('id="inbox_id"', 1)[1].split("</select>", 1)[0]
    return set(re.findall(r"<option value=\"\d+\">([^<]+)</option>", select))


def test_flytta_offers_only_inboxes_of_the_same_kind(desk: Installation) -> None:
    desk.add_inbox(NORD, subject_type="ung_vuxen")
    desk.add_inbox("Vuxna Syd", subject_type="aldre")
    child = submit(desk.app)
    adult = submit(desk.app, subject_type="vuxen")
    bo = signed_in(desk, BOTH)
    assert _move_choices(text(bo.get(f"/personal/anmalan/{child}"))) == {NORD}
    assert _move_choices(text(bo.get(f"/personal/anmalan/{adult}"))) == {"Vuxna Syd"}


def test_move_targets_are_the_inboxes_whose_rules_give_the_kind(desk: Installation) -> None:
    """moving.targets reads the rules in SQL; it must agree with inbox_kinds, rule by rule
    (a rule for any subject, NULL, makes an inbox of both kinds)."""
    desk.add_inbox(NORD, subject_type="ung_vuxen")
    desk.add_inbox("Vuxna Syd", subject_type="aldre")
    desk.add_inbox("Alla", subject_type="barn")
    with desk.app.app_context():
        alla = desk.inbox("Alla")
        db.session.execute(
            sa.update(RoutingRule).where(RoutingRule.inbox_id == alla.id).values(subject_type=None)
        )
        db.session.commit()
        kinds = moving.inbox_kinds()
        for inbox in db.session.scalars(sa.select(Inbox)):
            for subject in ("barn", "ung_vuxen", "vuxen", "aldre"):
                report = Report(inbox_id=inbox.id, subject_type=subject)
                expected = {
                    inbox_id
                    for inbox_id, its in kinds.items()
                    if moving.report_kind(report) in its and inbox_id != inbox.id
                }
                assert {i.id for i in moving.targets(report)} == expected, (inbox.name, subject)
        assert alla.id in kinds and kinds[alla.id] == {moving.CHILDREN, moving.ADULTS}


def test_no_other_inbox_of_the_kind_says_so(desk: Installation) -> None:
    child = submit(desk.app)
    page = text(signed_in(desk, BEA).get(f"/personal/anmalan/{child}"))
    assert _move_choices(page) == set()
    assert "Det finns ingen annan inkorg för barn och unga att flytta anmälan till." in page


@pytest.mark.parametrize(
    ("subject", "target", "message"),
    [
        ("barn", "Vuxna", "kan bara flyttas till en inkorg för barn och unga"),
        ("ung_vuxen", "Vuxna", "kan bara flyttas till en inkorg för barn och unga"),
        ("vuxen", "Barn och unga", "kan bara flyttas till en inkorg för vuxna"),
        ("barn", "Medborgardialog", "kan bara flyttas till en inkorg för barn och unga"),
    ],
)
def test_the_server_refuses_a_move_across_kinds(
    desk: Installation, subject: str, target: str, message: str
) -> None:
    report_id = submit(desk.app, subject_type=subject)
    bo = signed_in(desk, BOTH)
    base = f"/personal/anmalan/{report_id}"
    with desk.app.app_context():
        before = db.session.get(Report, report_id)
        assert before is not None
        source, target_id = before.inbox_id, desk.inbox(target).id
    response = bo.post(f"{base}/flytta", data={"inbox_id": target_id})
    assert response.status_code == 302 and response.location.endswith(base)
    assert message in text(bo.get(base))
    with desk.app.app_context():
        after = db.session.get(Report, report_id)
        assert after is not None and after.inbox_id == source
        assert not db.session.scalar(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "report_moved")
        )


# --- search ---------------------------------------------------------------------------------


def _found(client: FlaskClient, **query: str) -> list[str]:
    html = text(client.get("/personal/sok", query_string=query))
    if 'id="h-results"' not in html:
        return []
    return re.findall(r'href="/personal/anmalan/([0-9a-f-]{36})"', html.split('id="h-results"')[1])


def _reference(installation: Installation, report_id: str) -> str:
    with installation.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        return report.reference


@pytest.mark.parametrize(
    "spelling",
    [
        lambda r: r,
        lambda r: r.lower(),
        lambda r: f"  {r}  ",
        lambda r: r.replace("-", ""),
        lambda r: r.replace("-", " ").lower(),
    ],
)
def test_search_by_reference_normalises(desk: Installation, spelling: Any) -> None:
    report_id = submit(desk.app)
    bea = signed_in(desk, BEA)
    assert _found(bea, referens=spelling(_reference(desk, report_id))) == [report_id]


# A page's CSRF tokens carry the second they were signed: two pages asked for a second apart
# differ there and nowhere else.
CSRF_VALUE = re.compile(r'(<input[^>]*name="csrf_token"[^>]*value=")[^"]*(")')


def _without_csrf_tokens(page: str) -> str:
    return CSRF_VALUE.sub(r"\1…\2", page)


def test_a_reference_in_another_inbox_answers_like_none(desk: Installation) -> None:
    adult = submit(desk.app, subject_type="vuxen")
    bea = signed_in(desk, BEA)
    reference = _reference(desk, adult)
    elsewhere = text(bea.get("/personal/sok", query_string={"referens": reference}))
    nowhere = text(bea.get("/personal/sok", query_string={"referens": "2026-ZZZZ-ZZZZ"}))
    assert "Ingen anmälan i dina inkorgar matchar sökningen." in elsewhere
    assert CSRF_VALUE.search(elsewhere)  # the sign-out form's token, masked below
    assert _without_csrf_tokens(elsewhere.replace(reference, "X")) == _without_csrf_tokens(
        nowhere.replace("2026-ZZZZ-ZZZZ", "X")
    )


def test_a_malformed_reference_gets_a_swedish_error_and_keeps_the_text(
    desk: Installation,
) -> None:
    page = text(signed_in(desk, BEA).get("/personal/sok", query_string={"referens": "abc<1>"}))
    assert "Skriv referensnumret som ÅÅÅÅ-XXXX-XXXX." in page
    assert 'value="abc&lt;1&gt;"' in page


def test_search_by_personnummer_finds_opened_childrens_reports_in_own_inboxes(
    desk: Installation,
) -> None:
    app = desk.app
    desk.add_inbox(NORD, subject_type="barn")
    desk.add_user("nils@alvsbyn.invalid", "caseworker", inboxes=(NORD,))
    # Given reports about the same child in Bea's inbox (one typed differently, one unopened)
    # and in an inbox she cannot read, and one about someone else
    first = submit(app, identity_number=CHILD_PNR)
    second = submit(app, identity_number="160505-1232")
    unopened = submit(app, identity_number=CHILD_PNR)
    other = submit(app, identity_number=OTHER_PNR)
    bea = signed_in(desk, BEA)
    for report_id in (first, second, other):
        bea.get(f"/personal/anmalan/{report_id}")
    nils = signed_in(desk, "nils@alvsbyn.invalid")
    with app.app_context():
        nord = desk.inbox(NORD).id
    elsewhere = submit(app, identity_number=CHILD_PNR)
    bea.get(f"/personal/anmalan/{elsewhere}")
    bea.post(f"/personal/anmalan/{elsewhere}/flytta", data={"inbox_id": nord})
    nils.get(f"/personal/anmalan/{elsewhere}")
    # When Bea searches by the personnummer, typed in any of its forms
    for typed in (CHILD_PNR, "201605051232", "1605051232", " 160505-1232 "):
        found = _found(bea, personnummer=typed)
        # Then she finds the opened reports in her own inbox, never the one she cannot read
        assert set(found) == {first, second}, typed
        assert unopened not in found and elsewhere not in found
    # And Nils finds only the one in his inbox
    assert _found(nils, personnummer=CHILD_PNR) == [elsewhere]


def test_a_personnummer_outside_ones_inboxes_answers_like_an_unknown_one(
    desk: Installation,
) -> None:
    app = desk.app
    desk.add_inbox(NORD, subject_type="barn")
    desk.add_user("nils@alvsbyn.invalid", "caseworker", inboxes=(NORD,))
    # Given a report about a child known only in an inbox Bea cannot read
    report_id = submit(app, identity_number=CHILD_PNR)
    bea = signed_in(desk, BEA)
    bea.get(f"/personal/anmalan/{report_id}")
    with app.app_context():
        nord = desk.inbox(NORD).id
    moved = bea.post(f"/personal/anmalan/{report_id}/flytta", data={"inbox_id": nord})
    bea.get(moved.location)  # the flash is shown once
    signed_in(desk, "nils@alvsbyn.invalid").get(f"/personal/anmalan/{report_id}")
    # Then her search for it answers exactly as for a number nobody reported
    known = text(bea.get("/personal/sok", query_string={"personnummer": CHILD_PNR}))
    unknown = text(bea.get("/personal/sok", query_string={"personnummer": OTHER_PNR}))
    assert _without_csrf_tokens(known.replace(CHILD_PNR, "N")) == _without_csrf_tokens(
        unknown.replace(OTHER_PNR, "N")
    )


def test_adults_are_never_searchable_by_personnummer(desk: Installation) -> None:
    # Given a report about an adult in Vera's inbox, opened
    report_id = submit(desk.app, subject_type="vuxen", identity_number="19800101-0008")
    vera = signed_in(desk, VERA)
    vera.get(f"/personal/anmalan/{report_id}")
    # Then her inbox takes no linkable reports: the field is not offered and a typed number
    # is refused
    page = text(vera.get("/personal/sok"))
    assert 'name="personnummer"' not in page
    refused = text(vera.get("/personal/sok", query_string={"personnummer": "19800101-0008"}))
    assert "får sökas på personnummer" in refused and 'id="h-results"' not in refused
    with desk.app.app_context():
        assert search.linkable_inboxes([desk.inbox("Vuxna").id]) == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("20160505-1233", "Personnumret stämmer inte"),
        ("2016-05-05", "Skriv personnumret som ÅÅÅÅMMDD-NNNN"),
        ("hej", "Skriv personnumret som ÅÅÅÅMMDD-NNNN"),
        ("20990505-1232", "framtiden"),
    ],
)
def test_a_bad_personnummer_gets_a_swedish_error_and_keeps_the_text(
    desk: Installation, typed: str, message: str
) -> None:
    page = text(signed_in(desk, BEA).get("/personal/sok", query_string={"personnummer": typed}))
    assert message in page and f'value="{typed}"' in page
    assert 'id="h-results"' not in page


def test_a_search_is_audited_without_what_was_typed(desk: Installation) -> None:
    report_id = submit(desk.app, identity_number=CHILD_PNR)
    bea = signed_in(desk, BEA)
    bea.get(f"/personal/anmalan/{report_id}")
    reference = _reference(desk, report_id)
    bea.get("/personal/sok", query_string={"personnummer": CHILD_PNR})
    bea.get("/personal/sok", query_string={"referens": reference})
    with desk.app.app_context():
        events = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "report_search")
        ).all()
        assert [(e.details["by"], e.details["found"]) for e in events] == [
            ("personnummer", 1),
            ("reference", 1),
        ]
        stored = repr([(e.actor, e.target_id, e.details) for e in events])
    for secret in ("160505", "1232", reference):
        assert secret not in stored


def test_search_is_rate_limited_per_caseworker(make_app: Any, frozen: Clock) -> None:
    from ..accounts.back_office import install

    installation = install(make_app, RATELIMIT_ENABLED=True, RATELIMIT_STAFF_SEARCH="3 per minute")
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    bea = signed_in(installation, BEA)
    statuses = [
        bea.get("/personal/sok", query_string={"referens": "2026-AAAA-BBBB"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=st.dictionaries(
        st.sampled_from(["referens", "personnummer", "sida", "x"]),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
        max_size=3,
    )
)
def test_no_query_string_gives_a_server_error(desk: Installation, query: dict[str, str]) -> None:
    client = _search_client(desk)
    response = client.get("/personal/sok", query_string=query)
    assert response.status_code in (200, 400), (query, response.status_code)


_CLIENTS: dict[int, FlaskClient] = {}


def _search_client(installation: Installation) -> FlaskClient:
    """One signed-in client per installation (signing in for each example is slow)."""
    key = id(installation)
    if key not in _CLIENTS:
        _CLIENTS.clear()
        _CLIENTS[key] = signed_in(installation, BEA)
    return _CLIENTS[key]


# --- caseworker headings --------------------------------------------------------------------


def test_the_report_page_speaks_the_caseworkers_language(desk: Installation) -> None:
    report_id = submit(desk.app, acute_danger="ja", acute_how="Hot i hemmet.")
    page = text(signed_in(desk, BEA).get(f"/personal/anmalan/{report_id}"))
    headings = re.findall(r'<h3 class="heading-s" id="h-answers-[a-z]+">([^<]+)</h3>', page)
    assert headings[:2] == ["Akut", "Anmälare"]
    assert {"Barnet", "Oro"} <= set(headings)
    # And not the resident's steps or questions
    for question in (
        "Om dig som anmäler",
        "Personen du är orolig för",
        "Din oro",
        "Vad gäller din oro?",
        "Är personen i akut fara just nu?",
        "Beskriv vad som gör dig orolig",
    ):
        assert question not in page, question
    assert "Akut fara enligt anmälaren" in page and "Hot i hemmet." in page


def test_an_adults_report_is_headed_personen(desk: Installation) -> None:
    report_id = submit(desk.app, subject_type="vuxen")
    page = text(signed_in(desk, VERA).get(f"/personal/anmalan/{report_id}"))
    assert 'id="h-answers-personen">Personen</h3>' in page
    assert ">Barnet</h3>" not in page and ">Vårdnadshavare</h3>" not in page
