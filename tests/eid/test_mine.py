"""Återkoppling only to whom it belongs (issue 12 §2), against the real OpenID Provider: a
verified professional reports about a child, the caseworker sends återkoppling, the mail says
only that a message waits, the professional signs in again and reads it; an impostor signed in
as another person sees nothing; an unverified professional gets no återkoppling by mail."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import ChannelMessage, Report

from ..accounts.back_office import fast_passwords, text
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_CHILD, walk
from ..staff_helpers import Installation
from ..test_canary import assert_absent, database_copy
from . import provider as op
from .conftest import eid_settings

MINE = "/orosanmalan/mina-anmalningar/"
CALLBACK = "/orosanmalan/mina-anmalningar/retur"
VERA = "vera@alvsbyn.invalid"
OPENED = "Socialtjänsten har inlett en utredning."


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def office(make_app: Any, broker: op.Provider) -> Installation:
    """The app with e-legitimation against the test OP and one caseworker."""
    app: Flask = make_app(WTF_CSRF_ENABLED=False, **eid_settings(broker.issuer))
    with app.app_context():
        codes = bootstrap.run_setup().recovery_codes
    installation = Installation(app=app, recovery_codes=codes)
    installation.add_user(VERA, "caseworker", inboxes=("Barn och unga",))
    return installation


def _back(client: FlaskClient, url: str) -> Any:
    return client.get(url.removeprefix("http://127.0.0.1:5000"))


def report_as(app: Flask, account: str | None) -> tuple[str, str]:
    """A professional reports about a child (signed in as `account`, or not); id, reference."""
    with app.app_context():
        before = set(db.session.scalars(sa.select(Report.id)))
    client = app.test_client()
    client.post("/orosanmalan/om-dig", data=PROFESSIONAL_CHILD["om-dig"])
    if account:
        to_broker = client.post("/orosanmalan/e-legitimation/logga-in", data={"steg": "om-dig"})
        _back(client, op.sign_in_at(to_broker.headers["Location"], account))
    assert walk(client, PROFESSIONAL_CHILD).status_code == 303
    with app.app_context():
        # The new one (received_at is coarse: two reports may share it)
        found = db.session.scalars(sa.select(Report).where(Report.id.not_in(before))).one()
        return found.id, found.reference


def decide(office: Installation, report_id: str) -> tuple[FlaskClient, str]:
    """The caseworker records the assessment and that an investigation is opened."""
    staff = office.app.test_client()
    office.login(staff, VERA)
    base = f"/personal/anmalan/{report_id}"
    staff.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    staff.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-12-02"})
    return staff, base


def signed_in_client(app: Flask, account: str) -> FlaskClient:
    """A browser signed in at Mina anmälningar as `account`."""
    client = app.test_client()
    assert "Logga in med e-legitimation" in text(client.get(MINE))
    to_broker = client.post(f"{MINE}logga-in")
    assert to_broker.status_code == 303
    back = _back(client, op.sign_in_at(to_broker.headers["Location"], account, callback=CALLBACK))
    assert back.status_code == 303
    return client


def mine_as(app: Flask, account: str) -> str:
    """Sign in at Mina anmälningar as `account`; the page shown afterwards."""
    return text(signed_in_client(app, account).get(MINE))


def test_the_verified_professional_reads_aterkoppling_and_an_impostor_sees_nothing(
    office: Installation,
) -> None:
    app = office.app
    report_id, reference = report_as(app, "anna")
    staff, base = decide(office, report_id)
    page = text(staff.get(base))
    assert "Skicka återkoppling" in page and "Återkoppling senast" in page
    assert staff.post(f"{base}/aterkoppling").status_code == 302
    assert "Återkoppling från" in text(staff.get(base))
    # The mail says only that a message is waiting, and where
    with app.app_context():
        mail = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "feedback")
        ).one()
        assert mail.context == {"url": "http://127.0.0.1:5000/orosanmalan/mina-anmalningar"}
        assert db.session.get(Report, report_id).feedback_sent_at is not None  # type: ignore[union-attr]
        message = db.session.scalars(sa.select(ChannelMessage)).one()
        assert message.direction == "feedback" and message.reporter_tag
        assert b"opened" not in (message.protected or b"")
        assert "198112189876" not in message.reporter_tag
    # The professional reads it after signing in as herself
    anna = mine_as(app, "anna")
    assert OPENED in anna and reference in anna
    # Another person signed in sees nothing
    bertil = mine_as(app, "bertil")
    assert OPENED not in bertil and reference not in bertil
    assert "Det finns inga meddelanden till dig." in bertil
    # Nothing of it in a database copy: no personnummer, no decision text
    assert_absent(["198112189876", "19811218-9876", OPENED], database_copy(app))


def test_an_unverified_professional_gets_no_aterkoppling_by_mail(office: Installation) -> None:
    app = office.app
    report_id, _reference = report_as(app, None)
    staff, base = decide(office, report_id)
    page = text(staff.get(base))
    assert "Skicka återkoppling" not in page
    assert "Kontakta anmälaren per telefon" in page
    staff.post(f"{base}/aterkoppling")
    assert "Återkoppling kan inte skickas för den här anmälan." in text(staff.get(base))
    with app.app_context():
        assert not db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "feedback")
        ).all()


def test_without_sign_in_the_page_shows_nothing_but_the_button(office: Installation) -> None:
    page = text(office.app.test_client().get(MINE))
    assert "Logga in med e-legitimation" in page and "Anmälan " not in page


def test_the_verified_professional_reads_and_answers_a_question_signed_in(
    office: Installation,
) -> None:
    app = office.app
    question, reply = f"FRAGEKANARIE-{uuid.uuid4().hex}", f"SVARSKANARIE-{uuid.uuid4().hex}"
    # Given a verified professional's report and a caseworker's question
    report_id, reference = report_as(app, "anna")
    staff, base = decide(office, report_id)
    assert staff.post(f"{base}/fraga", data={"text": question}).status_code == 302
    # Then the mail to the typed address says only that a message is waiting, and where
    with app.app_context():
        mail = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "channel_waiting")
        ).one()
        assert mail.context == {"url": "http://127.0.0.1:5000/orosanmalan/mina-anmalningar"}
    # When she signs in at Mina anmälningar
    anna = signed_in_client(app, "anna")
    page = text(anna.get(MINE))
    assert "Frågor från socialtjänsten" in page and reference in page
    assert "En fråga väntar på ditt svar." in page
    conversation = f"{MINE}fragor/{report_id}"
    assert question in text(anna.get(conversation))
    # An empty answer is refused with a Swedish message; then she answers
    empty = anna.post(conversation, data={"text": "  "})
    assert empty.status_code == 200 and "Skriv ditt svar." in text(empty)
    answered = anna.post(conversation, data={"text": reply})
    assert answered.status_code == 303
    after = text(anna.get(conversation))
    assert "Tack. Ditt svar är skickat till socialtjänsten." in after
    assert reply not in after  # sealed to the inbox: not readable by the server afterwards
    assert "Du har svarat." in text(anna.get(MINE))
    # And the caseworker reads the answer
    assert reply in text(staff.get(base))
    # Another person signed in sees nothing of it, and cannot reach or answer it
    bertil = signed_in_client(app, "bertil")
    assert reference not in text(bertil.get(MINE))
    assert bertil.get(conversation).status_code == 404
    assert bertil.post(conversation, data={"text": "Mallory"}).status_code == 404
    # Nobody signed in is sent to the sign-in page, learning nothing about the report
    assert app.test_client().get(conversation).status_code == 303
    # Neither text in a database copy
    assert_absent([question, reply, "198112189876"], database_copy(app))


def test_an_unverified_reporter_gets_no_signed_in_copy_and_no_mail(office: Installation) -> None:
    app = office.app
    report_id, _reference = report_as(app, None)
    staff, base = decide(office, report_id)
    assert staff.post(f"{base}/fraga", data={"text": "Vilken klass?"}).status_code == 302
    with app.app_context():
        message = db.session.scalars(sa.select(ChannelMessage)).one()
        assert message.protected is None and message.reporter_tag is None
        assert not db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "channel_waiting")
        ).all()
    assert "Det finns inga meddelanden till dig." in mine_as(app, "anna")


VERIFIED_LINE = "Identitet verifierad med e-legitimation"
UNVERIFIED_LINE = "Uppgiven identitet, inte verifierad"


def test_the_report_page_says_whether_the_reporter_was_verified(office: Installation) -> None:
    app = office.app
    verified_id, _ = report_as(app, "anna")
    unverified_id, _ = report_as(app, None)
    staff = app.test_client()
    office.login(staff, VERA)
    # A verified professional: verified, and reachable at Mina anmälningar
    page = text(staff.get(f"/personal/anmalan/{verified_id}"))
    assert VERIFIED_LINE in page and UNVERIFIED_LINE not in page
    assert "under Mina anmälningar" in page
    # An unverified professional who wants återkoppling: stated, and phone suggested before
    # the decision as well as after it (one message at a time)
    base = f"/personal/anmalan/{unverified_id}"
    page = text(staff.get(base))
    assert UNVERIFIED_LINE in page and VERIFIED_LINE not in page
    assert "Ring anmälaren och kontrollera vem du talar med." in page
    staff.post(f"{base}/skyddsbedomning", data={"note": "Inget akut skyddsbehov."})
    staff.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-12-02"})
    page = text(staff.get(base))
    assert UNVERIFIED_LINE in page and "Kontakta anmälaren per telefon" in page
    assert "Ring anmälaren och kontrollera" not in page


def test_an_anonymous_report_says_nothing_about_identity(office: Installation) -> None:
    app = office.app
    client = app.test_client()
    assert walk(client, PRIVATE_ANONYMOUS_CHILD).status_code == 303
    with app.app_context():
        report_id = db.session.scalars(sa.select(Report.id)).one()
    staff = app.test_client()
    office.login(staff, VERA)
    page = text(staff.get(f"/personal/anmalan/{report_id}"))
    assert VERIFIED_LINE not in page and UNVERIFIED_LINE not in page
