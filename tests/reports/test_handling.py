"""Caseworkers handle reports: the inbox list, deadlines, the three steps, återkoppling,
moving between inboxes and linking reports about the same person."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import audit, bootstrap, outbox
from intake.crypto import CryptoError
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports import handling, linking
from intake.reports.identity import parse_identity_number
from intake.reports.models import Report
from intake.reports.service import open_answers

from ..accounts.back_office import (
    CHILD_PNR,
    Clock,
    errors,
    fast_passwords,
    freeze,
    install,
    stockholm,
    submit,
    submit_verified,
    text,
)
from ..staff_helpers import BEA, BOTH, VERA, Installation, seat_caseworkers, signed_in
from .journey_helpers import PROFESSIONAL_CHILD

NORA, NILS = "nora@alvsbyn.invalid", "nils@alvsbyn.invalid"
NORD = "Barn och unga Nord"  # a second inbox for children (moves stay within a kind)
ROW = re.compile(r'<tr class="([a-z-]*)">\s*<td><a href="/personal/anmalan/([0-9a-f-]{36})">')


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Monday 9 March 2026, 08:00 in Stockholm, moved only by the test."""
    return freeze(monkeypatch, stockholm(2026, 3, 9, 8, 0))


@pytest.fixture
def desk(installation: Installation, frozen: Clock) -> Installation:
    """Bea in "Barn och unga", Vera in "Vuxna", Bo in both."""
    return seat_caseworkers(installation)


def listed(client: FlaskClient, query: str = "") -> list[str]:
    """The report ids on an inbox page, in order."""
    return [
        report_id for _cls, report_id in ROW.findall(text(client.get(f"/personal/inkorg{query}")))
    ]


def set_status(app: Flask, report_id: str, status: str) -> None:
    """Put a report in a status directly (what the steps would have done)."""
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        report.status = status
        db.session.commit()


def test_acute_first_then_newest(desk: Installation, frozen: Clock) -> None:
    # Given reports arriving an hour apart, two of them acute
    ids = {}
    for label, acute in [("a", "nej"), ("b", "ja"), ("c", "nej"), ("d", "ja")]:
        ids[label] = submit(desk.app, acute_danger=acute)
        frozen.advance(hours=1)
    # Then the inbox shows the acute ones first, newest first within each group
    assert listed(signed_in(desk, BEA)) == [ids["d"], ids["b"], ids["c"], ids["a"]]


def test_counts_per_status_ignore_the_status_filter(desk: Installation) -> None:
    statuses = ["received"] * 3 + ["assessed"] * 2 + ["decided", "registered"]
    for status in statuses:
        set_status(desk.app, submit(desk.app), status)
    client = signed_in(desk, BEA)
    for query in ("", "?status=assessed"):
        html = text(client.get(f"/personal/inkorg{query}"))
        for label, count in [
            ("Mottagen", 3),
            ("Skyddsbedömd", 2),
            ("Beslut fattat", 1),
            ("Registrerad", 1),
            ("Gallrad", 0),
        ]:
            assert f"{label}: <strong>{count}</strong>" in html


@pytest.mark.parametrize(
    ("user", "query", "expected"),
    [
        (BOTH, "", {"barn", "barn_acute", "barn_assessed", "vuxen"}),
        (BOTH, "?status=assessed", {"barn_assessed"}),
        (BOTH, "?akut=ja", {"barn_acute"}),
        (BOTH, "?akut=nej", {"barn", "barn_assessed", "vuxen"}),
        (BOTH, "?inkorg={vuxna}", {"vuxen"}),
        (BOTH, "?inkorg={barn}&akut=nej", {"barn", "barn_assessed"}),
        (BOTH, "?status=nonsense", {"barn", "barn_acute", "barn_assessed", "vuxen"}),
        (BEA, "", {"barn", "barn_acute", "barn_assessed"}),
        # another inbox's id in the filter shows her own inboxes, never the other one
        (BEA, "?inkorg={vuxna}", {"barn", "barn_acute", "barn_assessed"}),
        (VERA, "?inkorg={barn}", {"vuxen"}),
    ],
)
def test_filters(desk: Installation, user: str, query: str, expected: set[str]) -> None:
    ids = {
        "barn": submit(desk.app),
        "barn_acute": submit(desk.app, acute_danger="ja"),
        "barn_assessed": submit(desk.app),
        "vuxen": submit(desk.app, subject_type="vuxen"),
    }
    set_status(desk.app, ids["barn_assessed"], "assessed")
    with desk.app.app_context():
        inboxes = {"barn": desk.inbox("Barn och unga").id, "vuxna": desk.inbox("Vuxna").id}
    shown = listed(signed_in(desk, user), query.format(**inboxes))
    assert sorted(shown) == sorted(ids[label] for label in expected)


NEXT = re.compile(r'<a href="(/personal/inkorg\?[^"]*efter=[^"]*)">Nästa</a>')
PREVIOUS = re.compile(r'<a href="(/personal/inkorg\?[^"]*fore=[^"]*)">Föregående</a>')


def _link(pattern: re.Pattern[str], html: str) -> str:
    found = pattern.search(html)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def test_pagination(desk: Installation, frozen: Clock) -> None:
    # Given 30 reports, one a minute
    ids = []
    for _ in range(30):
        ids.append(submit(desk.app))
        frozen.advance(minutes=1)
    newest_first = list(reversed(ids))
    client = signed_in(desk, BEA)
    # Then they come 25 to a page, newest first, with a way on and back
    first = text(client.get("/personal/inkorg"))
    assert "Sida 1 av 2, 30 anmälningar" in first and "Nästa" in first
    assert "Föregående" not in first
    assert listed(client) == newest_first[:25]
    second_url = _link(NEXT, first)
    second = text(client.get(second_url))
    assert "Sida 2 av 2, 30 anmälningar" in second and "Nästa" not in second
    assert listed(client, second_url.removeprefix("/personal/inkorg")) == newest_first[25:]
    back_url = _link(PREVIOUS, second)
    assert listed(client, back_url.removeprefix("/personal/inkorg")) == newest_first[:25]
    assert "Sida 1 av 2" in text(client.get(back_url))
    # And page numbers without a cursor, or out of range, land on the first page
    for query in ("?sida=2", "?sida=99", "?sida=-3", "?sida=abc"):
        assert listed(client, query) == newest_first[:25]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "",
        "%%%",
        "MXwyMDI2LTAzLTA5VDEwOjAwOjAwfDxzY3JpcHQ-",  # 1|2026-03-09T10:00:00|<script>
        "OXwyMDI2LTAzLTA5VDEwOjAwOjAwKzAwOjAwfGFi",  # rank 9
        "MXxub3QgYSBkYXRlfGFi",  # 1|not a date|ab
        "MXwyMDI2LTAzLTA5VDEwOjAwOjAwfGFi",  # a naive time
        "x" * 500,
    ],
)
@pytest.mark.parametrize("direction", ["efter", "fore"])
def test_an_invalid_cursor_gives_the_first_page(
    desk: Installation, frozen: Clock, cursor: str, direction: str
) -> None:
    ids = []
    for _ in range(27):
        ids.append(submit(desk.app))
        frozen.advance(minutes=1)
    client = signed_in(desk, BEA)
    response = client.get(f"/personal/inkorg?{direction}={cursor}&sida=2")
    assert response.status_code == 200
    assert "Sida 1 av 2" in text(response)
    assert listed(client, f"?{direction}={cursor}") == list(reversed(ids))[:25]


def test_pages_keep_the_filters_and_the_acute_first_order(
    desk: Installation, frozen: Clock
) -> None:
    # Given 30 reports in two inboxes, every third acute, and a few "vet inte"
    answers = ["ja", "nej", "nej", "vet_ej", "nej", "nej"] * 5
    ids: dict[str, list[str]] = {"ja": [], "nej": [], "vet_ej": []}
    order: list[tuple[int, str]] = []
    for n, answer in enumerate(answers):
        subject = "vuxen" if n % 5 == 0 else "barn"
        report_id = submit(desk.app, acute_danger=answer, subject_type=subject)
        ids[answer].append(report_id)
        order.append((1 if answer != "nej" else 0, report_id))
        frozen.advance(minutes=1)
    client = signed_in(desk, BOTH)
    # Then walking the pages forward shows each report once, acute and "vet inte" first
    seen: list[str] = []
    url = "/personal/inkorg"
    for _ in range(3):
        seen += listed(client, url.removeprefix("/personal/inkorg"))
        html = text(client.get(url))
        if "Nästa" not in html:
            break
        url = _link(NEXT, html)
    expected = [rid for _rank, rid in sorted(order, key=lambda o: (-o[0], -order.index(o)))]
    assert seen == expected
    # And a filter stays on the next page
    first = text(client.get("/personal/inkorg?akut=nej&status=received"))
    assert "Sida 1 av 1, 20 anmälningar" in first
    set_status(desk.app, ids["nej"][0], "assessed")
    many = [submit(desk.app, acute_danger="nej") for _ in range(10)]
    html = text(client.get("/personal/inkorg?akut=nej&status=received"))
    nxt = _link(NEXT, html)
    assert "akut=nej" in nxt and "status=received" in nxt
    shown = listed(client, "?akut=nej&status=received") + listed(
        client, nxt.removeprefix("/personal/inkorg")
    )
    assert sorted(shown) == sorted([*ids["nej"][1:], *many])


@pytest.mark.parametrize(
    ("received", "today", "assessed", "row", "mark"),
    [
        # Monday morning: the skyddsbedömning is due the same day
        ((2026, 3, 9, 10, 0), (2026, 3, 9, 12, 0), False, "row-due", "i dag"),
        ((2026, 3, 9, 10, 0), (2026, 3, 10, 9, 0), False, "row-overdue", "försenad"),
        # Friday after closing: due on Monday, so nothing is urgent over the weekend
        ((2026, 3, 6, 17, 0), (2026, 3, 7, 12, 0), False, "", ""),
        ((2026, 3, 6, 17, 0), (2026, 3, 9, 9, 0), False, "row-due", "i dag"),
        # Maundy Thursday evening: Good Friday and Easter Monday are holidays
        ((2026, 4, 2, 17, 0), (2026, 4, 6, 9, 0), False, "", ""),
        ((2026, 4, 2, 17, 0), (2026, 4, 7, 9, 0), False, "row-due", "i dag"),
        # Assessed: only the förhandsbedömning (14 days) counts
        ((2026, 3, 9, 10, 0), (2026, 3, 10, 9, 0), True, "", ""),
        ((2026, 3, 9, 10, 0), (2026, 3, 23, 9, 0), True, "row-due", "i dag"),
        ((2026, 2, 2, 10, 0), (2026, 3, 9, 9, 0), True, "row-overdue", "försenad"),
    ],
)
def test_overdue_and_due_today_are_highlighted(
    desk: Installation,
    frozen: Clock,
    received: tuple[int, ...],
    today: tuple[int, ...],
    assessed: bool,
    row: str,
    mark: str,
) -> None:
    frozen.set(stockholm(*received))
    report_id = submit(desk.app)
    if assessed:
        with desk.app.app_context():
            report = db.session.get(Report, report_id)
            assert report is not None
            report.assessed_at, report.status = frozen(), "assessed"
            db.session.commit()
    frozen.set(stockholm(*today))
    client = signed_in(desk, BEA)
    html = text(client.get("/personal/inkorg"))
    assert ROW.findall(html) == [(row, report_id)]
    if mark:
        assert f"<strong>{mark}</strong>" in html
    else:
        assert "<strong>i dag</strong>" not in html and "<strong>försenad</strong>" not in html


def test_assessment_decision_and_registration(desk: Installation, frozen: Clock) -> None:
    frozen.set(stockholm(2026, 3, 10, 9, 0))
    report_id = submit(desk.app)
    client = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    # Given a new report, the later steps are refused in Swedish
    early = client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-10"})
    assert early.status_code == 200
    assert errors(text(early)) == ["Registrera skyddsbedömningen först."]
    early = client.post(
        f"{base}/registrerad", data={"registered_on": "2026-03-10", "case_reference": "SN 1"}
    )
    assert errors(text(early)) == ["Registrera beslutet först."]
    # When the skyddsbedömning is recorded, its note is sealed
    note = "Ingen akut fara. KANARIE-anteckning."
    assert client.post(f"{base}/skyddsbedomning", data={"note": note}).status_code == 302
    with desk.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None and report.status == "assessed"
        assert report.assessment_note is not None and b"KANARIE" not in report.assessment_note
    assert note in text(client.get(base))
    # Then the decision form checks its fields
    for data, message in [
        ({"decided_on": "2026-03-10"}, "Välj ett beslut."),
        ({"decision": "opened", "decided_on": "2026-03-11"}, "Datumet kan inte vara i framtiden."),
        ({"decision": "opened", "decided_on": "10/3"}, None),
    ]:
        response = client.post(f"{base}/beslut", data=data)
        assert response.status_code == 200
        if message:
            assert message in errors(text(response))
    data = {"decision": "not_opened", "decided_on": "2026-03-10"}
    assert client.post(f"{base}/beslut", data=data).status_code == 302
    data = {"registered_on": "2026-03-10", "case_reference": " SN 2026/17 "}
    assert client.post(f"{base}/registrerad", data=data).status_code == 302
    # And the report is registered, every step audited without content
    with desk.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        assert (report.status, report.decision, report.case_reference) == (
            "registered",
            "not_opened",
            "SN 2026/17",
        )
        events = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.target_id == report_id)
        ).all()
        assert {e.action for e in events} >= {
            "report_viewed",
            "assessment_recorded",
            "decision_recorded",
            "registered",
        }
        assert "KANARIE" not in repr([(e.details, e.target_id) for e in events])


def _bodies(message: Message) -> list[str]:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return parts


@pytest.mark.parametrize(
    ("decision", "sentence"),
    [
        ("opened", "Socialtjänsten har inlett en utredning."),
        ("not_opened", "Socialtjänsten har beslutat att inte inleda en utredning."),
        ("ongoing", "En utredning pågår redan."),
    ],
)
def test_aterkoppling_mail_says_only_that_a_message_waits(
    make_app: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch, decision: str, sentence: str
) -> None:
    # Given a verified professional's report about a child that asks for återkoppling
    installation = install(make_app, MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    installation.add_user(VERA, "caseworker", inboxes=("Barn och unga",))
    steps = {k: v for step in PROFESSIONAL_CHILD.values() for k, v in step.items()}
    report_id = submit_verified(installation.app, **steps)
    client = signed_in(installation, VERA)
    base = f"/personal/anmalan/{report_id}"
    assert "Skicka återkoppling" not in text(client.get(base))  # no decision yet
    client.post(f"{base}/skyddsbedomning", data={"note": "Hemlig KANARIE-bedömning."})
    client.post(f"{base}/beslut", data={"decision": decision, "decided_on": "2026-03-10"})
    assert "Skicka återkoppling" in text(client.get(base))
    # When the caseworker sends it
    assert client.post(f"{base}/aterkoppling").status_code == 302
    with installation.app.app_context():
        outbox.deliver_due()
    # Then exactly one mail reaches the reporter's address on the real SMTP server
    messages = smtp.mailbox.wait_for(2)
    feedback = [m for m in messages if m["To"] == "larare@skola.example"]
    assert len(feedback) == 1 and len(messages) == 2  # + the inbox's new-report notice
    # And it says only that a message waits and where: not even the decision (issue 12 §2)
    plain, html = _bodies(feedback[0])
    lines = {line.strip() for line in plain.splitlines() if line.strip()}
    assert lines == {
        "Du har gjort en orosanmälan i din yrkesroll och bett om återkoppling.",
        "Ett meddelande från socialtjänsten väntar på dig. Logga in med e-legitimation för att"
        " läsa det:",
        "http://127.0.0.1:5000/orosanmalan/mina-anmalningar",
        "Det här mejlet innehåller inga uppgifter om anmälan.",
    }
    everything = f"{feedback[0].as_string()}{plain}{html}"
    for secret in [
        sentence,
        "utredning",
        "Bo verkar",
        "Lärare Lärarsson",
        "Lärarsson",
        "Älvåkraskolan",
        "Alva",
        "KANARIE",
        "2026-01-10",
        "198112189876",
    ]:
        assert secret not in everything
    assert not re.search(r"(?<!\d)0929(?!\d)", everything)
    # And it cannot be sent twice
    client.post(f"{base}/aterkoppling")
    assert "Återkoppling kan inte skickas för den här anmälan." in text(client.get(base))
    with installation.app.app_context():
        sent = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "feedback")
        ).all()
        assert len(sent) == 1


@pytest.mark.parametrize(
    ("overrides", "verified", "offered"),
    [
        ({}, False, False),  # an anonymous private person
        ({"reporter_type": "privat", "anonymous": "nej", "wants_feedback": "ja"}, True, False),
        (
            {"reporter_type": "yrkesverksam", "anonymous": "nej", "wants_feedback": "nej"},
            True,
            False,
        ),
        (
            {"reporter_type": "yrkesverksam", "anonymous": "nej", "wants_feedback": "ja"},
            False,
            False,
        ),
        ({"reporter_type": "yrkesverksam", "anonymous": "nej", "wants_feedback": "ja"}, True, True),
    ],
)
def test_aterkoppling_is_offered_only_to_verified_professionals_who_asked(
    desk: Installation, frozen: Clock, overrides: dict[str, str], verified: bool, offered: bool
) -> None:
    send = submit_verified if verified else submit
    report_id = send(desk.app, reporter_email="anmalare@example.org", **overrides)
    client = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    client.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-09"})
    assert ("Skicka återkoppling" in text(client.get(base))) is offered
    client.post(f"{base}/aterkoppling")
    with desk.app.app_context():
        queued = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "feedback")
        ).all()
        assert len(queued) == int(offered)
    if not offered:
        assert "Återkoppling kan inte skickas för den här anmälan." in text(client.get(base))


def test_the_feedback_address_does_not_stay_in_a_plain_column(
    desk: Installation, frozen: Clock
) -> None:
    overrides = {"reporter_type": "yrkesverksam", "anonymous": "nej", "wants_feedback": "ja"}
    report_id = submit_verified(desk.app, reporter_email="anmalare@example.org", **overrides)
    client = signed_in(desk, BEA)
    base = f"/personal/anmalan/{report_id}"
    client.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-09"})
    client.post(f"{base}/aterkoppling")
    with desk.app.app_context():
        stored = db.session.scalars(sa.select(OutboxMessage.recipient_protected)).all()
        assert stored and all(b"anmalare@example.org" not in (blob or b"") for blob in stored)
        # The address is still there for the worker, protected under the application key.
        queued = db.session.scalars(sa.select(OutboxMessage)).all()
        assert "anmalare@example.org" in [message.recipient for message in queued]


def test_moving_a_report_reseals_it_for_the_target_inbox(desk: Installation) -> None:
    app = desk.app
    # Given a second inbox for children, Nora in it, and a report in "Barn och unga" with a
    # sealed note, a case note and an addition from the reporter
    desk.add_inbox(NORD, subject_type="barn")
    desk.add_user(NORA, "caseworker", inboxes=(NORD,))
    report_id = submit(app, what_happened="Flyttad KANARIE-text.")
    bea, vera = signed_in(desk, BEA), signed_in(desk, NORA)
    base = f"/personal/anmalan/{report_id}"
    bea.post(f"{base}/skyddsbedomning", data={"note": "Anteckning följer med."})
    bea.post(f"{base}/anteckning", data={"case_note": "Journalanteckning följer med."})
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        handling.add_message(report, "Tillägg följer med.", base_url="http://test")
        vuxna_id = desk.inbox(NORD).id
    assert vera.get(base).status_code == 404
    # When Bea moves it to the other children's inbox
    response = bea.post(f"{base}/flytta", data={"inbox_id": vuxna_id})
    assert response.status_code == 302 and response.location == "/personal/inkorg"
    # Then Nora reads all of it, and Bea no longer can
    page = vera.get(base)
    assert page.status_code == 200
    for part in (
        "Flyttad KANARIE-text.",
        "Anteckning följer med.",
        "Tillägg följer med.",
        "Journalanteckning följer med.",
    ):
        assert part in text(page)
    assert bea.get(base).status_code == 404
    # And with the keys themselves: the source inbox's key opens nothing any more
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        barn = bootstrap.recover_inbox_secret(
            desk.inbox("Barn och unga"), desk.recovery_codes["Barn och unga"]
        )
        vuxna = bootstrap.recover_inbox_secret(desk.inbox(NORD), desk.recovery_codes[NORD])
        with pytest.raises(CryptoError):
            open_answers(report, barn.private)
        assert open_answers(report, vuxna.private)["what_happened"] == "Flyttad KANARIE-text."
        moved = db.session.scalar(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "report_moved")
        )
        assert moved is not None and moved.details["target"] == vuxna_id


def test_moving_to_the_same_inbox_is_refused(desk: Installation) -> None:
    report_id = submit(desk.app)
    bea = signed_in(desk, BEA)
    with desk.app.app_context():
        barn_id = desk.inbox("Barn och unga").id
    bea.post(f"/personal/anmalan/{report_id}/flytta", data={"inbox_id": barn_id})
    assert "Anmälan finns redan i den inkorgen." in text(bea.get(f"/personal/anmalan/{report_id}"))


def _linked(client: FlaskClient, report_id: str) -> set[str]:
    html = text(client.get(f"/personal/anmalan/{report_id}"))
    if "Tidigare anmälningar om samma person" not in html:
        return set()
    section = html.split("Tidigare anmälningar om samma person", 1)[1].split("</ul>", 1)[0]
    return set(re.findall(r"/personal/anmalan/([0-9a-f-]{36})", section))


def test_reports_about_the_same_person_are_linked_where_the_user_can_read_both(
    desk: Installation,
) -> None:
    app = desk.app
    # Given two reports about the same child (the number typed differently), one of them moved
    # to a second children's inbox, and one about someone else
    desk.add_inbox(NORD, subject_type="barn")
    desk.add_user(NILS, "caseworker", inboxes=("Barn och unga", NORD))
    barn = submit(app, identity_number=CHILD_PNR)
    vuxna = submit(app, identity_number="160505-1232")
    other = submit(app, identity_number="201605061231")
    bo, bea = signed_in(desk, NILS), signed_in(desk, BEA)
    with app.app_context():
        vuxna_inbox = desk.inbox(NORD).id
    assert (
        bea.post(f"/personal/anmalan/{vuxna}/flytta", data={"inbox_id": vuxna_inbox}).status_code
        == 302
    )
    # Then nothing is linked before the reports were opened (no tag without the key)
    assert _linked(bo, barn) == set()
    # When Nils, who reads both inboxes, has opened both
    assert _linked(bo, vuxna) == {barn}
    assert _linked(bo, barn) == {vuxna}
    assert _linked(bo, other) == set()
    # Then Bea, who reads only "Barn och unga", sees no link to the report in the other one
    assert _linked(bea, barn) == set()
    # And a later report in her own inbox about the same child is linked for her
    later = submit(app, identity_number="201605051232")
    assert _linked(bea, later) == {barn}


def test_the_link_tag_is_no_plain_hash_of_the_personnummer(desk: Installation) -> None:
    app = desk.app
    report_id = submit(app, identity_number=CHILD_PNR)
    signed_in(desk, BEA).get(f"/personal/anmalan/{report_id}")
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None and report.link_tag is not None
        tag = report.link_tag
        # Everything a copy of the database plus the server's configuration can compute
        number = parse_identity_number(CHILD_PNR, today=datetime(2026, 3, 9).date())
        spellings = {number.canonical(), CHILD_PNR, "201605051232", "1605051232", "160505-1232"}
        spellings |= {f"intake:link:v1:{s}" for s in set(spellings)}
        keys = [str(app.config["SECRET_KEY"]).encode(), *app.config["APP_KEYS"].values(), b""]
        candidates = set()
        for spelling in spellings:
            raw = spelling.encode()
            for algorithm in ("sha256", "sha1", "md5", "sha512", "sha3_256", "blake2b"):
                candidates.add(hashlib.new(algorithm, raw).hexdigest())
            for key in keys:
                candidates.add(hmac.new(key, raw, hashlib.sha256).hexdigest())
        assert tag not in candidates
        assert CHILD_PNR.replace("-", "") not in tag
        # Only the linking key inside the inbox secret reproduces it
        secret = bootstrap.recover_inbox_secret(
            desk.inbox("Barn och unga"), desk.recovery_codes["Barn och unga"]
        )
        assert linking.tag_for(CHILD_PNR, secret.link_key, today=number.birth_date) == tag
