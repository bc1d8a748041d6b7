"""The anonymous reporter's follow-up code: shown once, stored only as a slow hash, good for
a coarse status and for adding sealed information."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import clock, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports import followup, retention
from intake.reports.models import Report, ReportMessage

from ..accounts.back_office import (
    FAST_HASHER,
    errors,
    fast_passwords,
    freeze,
    install,
    stockholm,
    text,
)
from ..conftest import POSTGRES
from ..gallring_helpers import decide
from ..staff_helpers import Installation
from .journey_helpers import PRIVATE_ANONYMOUS_CHILD, walk

FOLLOWUP = "/orosanmalan/uppfoljning/"
WRONG = "Koden stämmer inte. Kontrollera att du har skrivit av den rätt."
BEA = "bea@alvsbyn.invalid"
ADDITION = "Pappan har flyttat tillbaka. KANARIE-tillägg."


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def send_report(app: Flask) -> tuple[FlaskClient, str]:
    """A resident sends a report; returns their browser and the code from the receipt."""
    resident = app.test_client()
    assert walk(resident, PRIVATE_ANONYMOUS_CHILD).status_code == 303
    receipt = text(resident.get("/orosanmalan/kvitto"))
    found = re.search(r'class="reference followup-code">([^<]+)</p>', receipt)
    assert found is not None, receipt
    return resident, found.group(1).strip()


def the_report(app: Flask) -> Report:
    """The only report (inside an app context)."""
    return db.session.scalars(sa.select(Report)).one()


def test_the_code_is_shown_once(installation: Installation) -> None:
    resident, code = send_report(installation.app)
    assert re.fullmatch(r"([2-9A-Z]{4}-){7}[2-9A-Z]{4}", code)
    again = text(resident.get("/orosanmalan/kvitto"))
    assert code not in again
    assert "Uppföljningskoden visades när anmälan skickades och visas inte igen." in again


def test_only_a_one_way_digest_of_the_code_is_stored(installation: Installation) -> None:
    app = installation.app
    _resident, code = send_report(app)
    plain = code.replace("-", "")
    lookup, secret = plain[:8], plain[8:]
    with app.app_context():
        report = the_report(app)
        # SHA-256 of the 120-bit secret, bound to its lookup id: it fits this code only.
        assert report.followup_hash is not None
        assert re.fullmatch(r"sha256\$[0-9a-f]{64}", report.followup_hash)
        assert followup.matches(report.followup_hash, lookup, secret)
        assert not followup.matches(report.followup_hash, "23456789", secret)
        other = "3" if secret.endswith("2") else "2"  # a secret differing in its last symbol
        assert not followup.matches(report.followup_hash, lookup, secret[:-1] + other)
        # The lookup half is in the clear to find the row; the secret half nowhere
        assert report.followup_lookup == lookup
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).mappings():
                stored = json.dumps({k: str(v) for k, v in row.items()})
                assert secret not in stored and code not in stored, table.name
        if not POSTGRES:
            url = db.engine.url
            db.session.remove()
            db.engine.dispose()
            raw = Path(str(url.database)).read_bytes()
            assert secret.encode() not in raw


def test_a_code_given_with_an_argon2id_hash_still_opens(installation: Installation) -> None:
    """Codes handed out before the digest scheme were stored as Argon2id hashes."""
    app = installation.app
    _resident, code = send_report(app)
    plain = code.replace("-", "")
    with app.app_context():
        report = the_report(app)
        report.followup_hash = FAST_HASHER.hash(plain[8:])
        db.session.commit()
    client = app.test_client()
    assert "Status: <strong>Mottagen</strong>" in text(client.post(FOLLOWUP, data={"code": code}))
    wrong = plain[:8] + "2" * 24
    assert WRONG in text(client.post(FOLLOWUP, data={"code": wrong}))


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("received", "Mottagen"),
        ("assessed", "Bedöms"),
        ("decided", "Färdigbehandlad i e-tjänsten"),
        ("registered", "Färdigbehandlad i e-tjänsten"),
    ],
)
def test_the_code_shows_a_coarse_status(
    installation: Installation, status: str, shown: str
) -> None:
    app = installation.app
    _resident, code = send_report(app)
    with app.app_context():
        report = the_report(app)
        report.status = status
        report.decision = "not_opened" if status in ("decided", "registered") else None
        report.case_reference = "SN 2026/99"
        db.session.commit()
    page = text(app.test_client().post(FOLLOWUP, data={"code": code}))
    assert f"Status: <strong>{shown}</strong>" in page
    # Never the decision itself or anything from the case
    for secret in ("inte inleds", "inleds inte", "SN 2026/99", "hungrigt", "Alva"):
        assert secret not in page
    # A word that reads as "nothing more will happen" is never shown (issue 13 §3)
    assert "Avslutad" not in page
    assert "Det betyder inte" in page


@pytest.mark.parametrize(
    "typed",
    [
        "{code}",
        "{lower}",  # typed in lower case
        "{spaced}",  # spaces instead of dashes
    ],
)
def test_the_code_may_be_typed_loosely(installation: Installation, typed: str) -> None:
    _resident, code = send_report(installation.app)
    variants = {"code": code, "lower": code.lower(), "spaced": code.replace("-", " ")}
    page = text(
        installation.app.test_client().post(FOLLOWUP, data={"code": typed.format(**variants)})
    )
    assert "Status: <strong>Mottagen</strong>" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Skriv din uppföljningskod."),
        ("ABCD", WRONG),
        ("{lookup}" + "2" * 24, WRONG),  # the right row, the wrong secret
        ("{code}X", WRONG),
        ("2222-2222-2222-2222-2222-2222-2222-2222", WRONG),
    ],
)
def test_a_wrong_code_gets_the_swedish_error(
    installation: Installation, typed: str, message: str
) -> None:
    _resident, code = send_report(installation.app)
    parts = {"code": code, "lookup": code.replace("-", "")[:8]}
    response = installation.app.test_client().post(FOLLOWUP, data={"code": typed.format(**parts)})
    assert response.status_code == 200
    assert errors(text(response)) == [message]
    assert "Status:" not in text(response)


def test_adding_information_with_a_wrong_code_is_refused(installation: Installation) -> None:
    app = installation.app
    send_report(app)
    response = app.test_client().post(
        f"{FOLLOWUP}lagg-till", data={"code": "2222-3333", "message": ADDITION}
    )
    assert errors(text(response)) == [WRONG]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportMessage)) == 0


def _bodies(message: Any) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_payload(decode=True).decode(part.get_content_charset()))
    return "".join(parts)


def test_the_reporter_adds_information_the_caseworker_reads(
    make_app: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a report sent through the journey, and its code
    installation = install(make_app, MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    app = installation.app
    freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    _resident, code = send_report(app)
    # When the reporter adds information with the code
    browser = app.test_client()
    status = text(browser.post(FOLLOWUP, data={"code": code}))
    assert "Status: <strong>Mottagen</strong>" in status
    too_long = browser.post(f"{FOLLOWUP}lagg-till", data={"code": code, "message": "x" * 8001})
    assert errors(text(too_long)) == ["Texten får vara högst 8000 tecken."]
    done = browser.post(f"{FOLLOWUP}lagg-till", data={"code": code, "message": ADDITION})
    assert "Tack. Uppgifterna är skickade till socialtjänsten." in text(done)
    # Then it is stored sealed
    with app.app_context():
        message = db.session.scalars(sa.select(ReportMessage)).one()
        assert message.sealed is not None and b"KANARIE" not in message.sealed
        report_id = the_report(app).id
        outbox.deliver_due()
    # And the caseworker reads it on the report page
    client = app.test_client()
    installation.login(client, BEA)
    assert ADDITION in text(client.get(f"/personal/anmalan/{report_id}"))
    # And the inbox was told, with nothing from the report
    mails = smtp.mailbox.wait_for(2)
    addition = [m for m in mails if "lagt till" in _bodies(m)]
    assert len(addition) == 1 and addition[0]["To"] == "barnochunga@alvsbyn.invalid"
    body = f"{addition[0].as_string()}{_bodies(addition[0])}"
    for secret in ("KANARIE", "Pappan", "flyttat", "Alva", "hungrigt", code):
        assert secret not in body
    with app.app_context():
        row = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.template == "report_addition")
        )
        # Once sent, the row forgets the address and the links.
        assert row is not None and row.sent_at is not None
        assert row.context == {} and row.recipient_protected is None


def test_the_code_stops_working_after_the_purge(installation: Installation) -> None:
    app = installation.app
    _resident, code = send_report(app)
    with app.app_context():
        report = the_report(app)
        report.registered_on, report.status = date(2026, 1, 1), "registered"
        db.session.commit()
        # A purge takes it 30 days after receipt at the earliest, under the recorded decision
        decide(app, "report_content", days=30)
        retention.purge(today=clock.local_date(report.received_at) + timedelta(days=30))
    response = app.test_client().post(FOLLOWUP, data={"code": code})
    assert errors(text(response)) == [WRONG]


@pytest.mark.parametrize("path", ["/", "/orosanmalan/"])
def test_the_follow_up_page_is_linked_from_the_start_pages(
    installation: Installation, path: str
) -> None:
    page = text(installation.app.test_client().get(path))
    assert f'href="{FOLLOWUP}"' in page


def test_the_receipt_names_both_codes_and_prints(installation: Installation) -> None:
    app = installation.app
    resident = app.test_client()
    assert walk(resident, PRIVATE_ANONYMOUS_CHILD).status_code == 303
    receipt = text(resident.get("/orosanmalan/kvitto"))
    assert "Referensnummer<br>" in receipt
    assert '<h2 class="heading-m">Uppföljningskod</h2>' in receipt
    assert f'href="{FOLLOWUP}"' in receipt
    # The printed page names where the code is used, in full
    assert re.search(r'class="print-only"> \(https?://[^)]+/orosanmalan/uppfoljning/\)', receipt)
    assert "Ctrl+P" in receipt
    css = resident.get("/static/print.css")
    sheet = css.get_data(as_text=True)
    css.close()
    section = sheet.split("/* === resident: receipt print === */", 1)[1]
    assert ".print-only" in section and ".followup-code" in section
