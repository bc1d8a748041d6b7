"""Återkoppling only to whom it belongs (issue 12 §2), against the real OpenID Provider: a
verified professional reports about a child, the caseworker sends återkoppling, the mail says
only that a message waits, the professional signs in again and reads it; an impostor signed in
as another person sees nothing; an unverified professional gets no återkoppling by mail."""

from __future__ import annotations

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
from ..reports.journey_helpers import PROFESSIONAL_CHILD, walk
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
    client = app.test_client()
    client.post("/orosanmalan/om-dig", data=PROFESSIONAL_CHILD["om-dig"])
    if account:
        to_broker = client.post("/orosanmalan/e-legitimation/logga-in", data={"steg": "om-dig"})
        _back(client, op.sign_in_at(to_broker.headers["Location"], account))
    assert walk(client, PROFESSIONAL_CHILD).status_code == 303
    with app.app_context():
        found = db.session.scalars(sa.select(Report).order_by(Report.received_at.desc())).first()
        assert found is not None
        return found.id, found.reference


def decide(office: Installation, report_id: str) -> tuple[FlaskClient, str]:
    """The caseworker records the assessment and that an investigation is opened."""
    staff = office.app.test_client()
    office.login(staff, VERA)
    base = f"/personal/anmalan/{report_id}"
    staff.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    staff.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-12-02"})
    return staff, base


def mine_as(app: Flask, account: str) -> str:
    """Sign in at Mina anmälningar as `account`; the page shown afterwards."""
    client = app.test_client()
    assert "Logga in med e-legitimation" in text(client.get(MINE))
    to_broker = client.post(f"{MINE}logga-in")
    assert to_broker.status_code == 303
    back = _back(client, op.sign_in_at(to_broker.headers["Location"], account, callback=CALLBACK))
    assert back.status_code == 303
    return text(client.get(MINE))


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
