"""The reporter's channel (issue 12 §3): a caseworker asks, the anonymous reporter reads the
question with the follow-up code and answers, the caseworker reads the answer. The question is
sealed to a key derived from the code: no database copy, outbox row or log holds it."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import clock, jobs, law
from intake.crypto import CryptoError, codekeys, sealing
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports import channel, followup, retention
from intake.reports.models import ChannelMessage, Report

from ..accounts.back_office import errors, fast_passwords, freeze, install, stockholm, text
from ..gallring_helpers import decide
from ..staff_helpers import Installation
from ..test_canary import assert_absent, database_copy
from .test_followup import FOLLOWUP, WRONG, send_report

BEA = "bea@alvsbyn.invalid"
VUXEN = "vuxen@alvsbyn.invalid"
REMINDER_START = "Uppgifter om enskildas personliga förhållanden inom socialtjänsten"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def office(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> Installation:
    """An installation with one caseworker in Barn och unga, at a fixed time."""
    installation = install(make_app)
    freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    return installation


def report_id(app: Flask) -> str:
    """The only report's id."""
    with app.app_context():
        return db.session.scalars(sa.select(Report.id)).one()


def flag(app: Flask) -> str | None:
    """The only report's channel flag."""
    with app.app_context():
        return db.session.scalars(sa.select(Report.channel_flag)).one()


def test_the_key_pair_comes_from_the_code_and_only_its_public_half_is_stored(
    office: Installation,
) -> None:
    app = office.app
    _resident, code = send_report(app)
    with app.app_context():
        report = db.session.scalars(sa.select(Report)).one()
        pair = codekeys.keypair_from_code(followup.normalise(code))
        assert report.channel_public_key == pair.public
        assert len(pair.private) == sealing.PRIVATE_LEN
        assert pair.private not in b"".join(
            v for v in (report.sealed, report.channel_public_key) if v
        )
        other = codekeys.keypair_from_code(followup.normalise(code)[:-1] + "2")
        assert other.public != pair.public


def test_question_answer_round_trip_and_the_canary_is_nowhere(
    office: Installation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    app = office.app
    canary = f"KANARIEFRÅGA-{uuid.uuid4().hex}"
    answer_canary = f"KANARIESVAR-{uuid.uuid4().hex}"
    question = f"Vilken skola går barnet i? {canary}"
    _resident, code = send_report(app)
    rid = report_id(app)
    # Given the caseworker sees the reminder of what must not be disclosed
    staff = app.test_client()
    office.login(staff, BEA)
    page = text(staff.get(f"/personal/anmalan/{rid}"))
    assert REMINDER_START in page and "26 kap. 1 §" in page
    # When she sends a question
    sent = staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": question})
    assert sent.status_code == 302
    page = text(staff.get(f"/personal/anmalan/{rid}"))
    assert canary in page and f"Fråga från {BEA}" in page
    assert flag(app) == channel.UNANSWERED
    inbox_list = text(staff.get("/personal/inkorg"))
    assert "Fråga obesvarad" in inbox_list
    # Then the reporter reads it with the code and answers
    reporter = app.test_client()
    status = text(reporter.post(FOLLOWUP, data={"code": code}))
    assert canary in status and "Från socialtjänsten" in status
    empty = reporter.post(f"{FOLLOWUP}svara", data={"code": code, "text": ""})
    assert errors(text(empty)) == ["Skriv ditt svar."]
    done = text(reporter.post(f"{FOLLOWUP}svara", data={"code": code, "text": answer_canary}))
    assert "Tack. Ditt svar är skickat till socialtjänsten." in done
    assert answer_canary in done and canary in done
    # And the inbox shows a new answer, which the digest counts
    assert flag(app) == channel.NEW
    assert "Nytt svar från anmälaren" in text(staff.get("/personal/inkorg"))
    with app.app_context():
        inbox = office.inbox("Barn och unga")
        assert channel.waiting_counts(inbox.id) == 1
        assert jobs.daily_digest(now=stockholm(2026, 3, 10, 9, 0)) >= 1
        digest = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "digest")
        ).one()
        assert digest.context["channel_answers"] == 1
    # And the caseworker reads the answer; opening the report clears "new"
    page = text(staff.get(f"/personal/anmalan/{rid}"))
    assert answer_canary in page and "Svar från anmälaren" in page
    assert flag(app) is None
    # And the question is in no database file, outbox row or log
    assert_absent([canary, answer_canary, "Vilken skola"], database_copy(app))
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert rows, "the digest and the new-report mail are queued"
        assert_absent([canary, answer_canary], {r.template: repr(r.context).encode() for r in rows})
    logs = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert canary not in logs and answer_canary not in logs


def test_the_server_alone_cannot_open_the_question(office: Installation) -> None:
    app = office.app
    _resident, code = send_report(app)
    rid = report_id(app)
    staff = app.test_client()
    office.login(staff, BEA)
    staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": "Hemlig fråga"})
    with app.app_context():
        message = db.session.scalars(sa.select(ChannelMessage)).one()
        assert message.sealed_reporter is not None and message.sealed is not None
        assert message.author_label == BEA and message.direction == channel.TO_REPORTER
        # A wrong code's key opens nothing; the right one does (derived here from the code).
        wrong = codekeys.private_from_code("2" * 32)
        right = codekeys.private_from_code(followup.normalise(code))
        context = f"intake:channel:v1:reporter:{rid}:{message.id}".encode()
        with pytest.raises(CryptoError):
            sealing.open_sealed(message.sealed_reporter, wrong, context=context)
        assert sealing.open_sealed(message.sealed_reporter, right, context=context) == (
            "Hemlig fråga".encode()
        )


@pytest.mark.parametrize(
    "typed", ["", "2222-2222-2222-2222-2222-2222-2222-2222", "inte en kod", "x" * 200]
)
def test_a_wrong_code_sees_nothing_and_cannot_answer(office: Installation, typed: str) -> None:
    app = office.app
    send_report(app)
    rid = report_id(app)
    staff = app.test_client()
    office.login(staff, BEA)
    staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": "Fråga KANARIE-wrong"})
    browser = app.test_client()
    shown = text(browser.post(FOLLOWUP, data={"code": typed}))
    assert "KANARIE-wrong" not in shown
    answered = browser.post(f"{FOLLOWUP}svara", data={"code": typed, "text": "svar"})
    assert answered.status_code == 200
    assert errors(text(answered)) == [WRONG]
    assert flag(app) == channel.UNANSWERED


def test_no_answer_form_before_a_question_and_no_mail_to_the_reporter(
    office: Installation,
) -> None:
    app = office.app
    _resident, code = send_report(app)
    status = text(app.test_client().post(FOLLOWUP, data={"code": code}))
    assert "Skicka svar" not in status
    rid = report_id(app)
    staff = app.test_client()
    office.login(staff, BEA)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": "En fråga"})
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert after == before


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Skriv frågan."), ("x" * (channel.MAX_LENGTH + 1), "Texten får vara högst 4000 tecken.")],
)
def test_a_bad_question_is_refused_and_kept(office: Installation, typed: str, message: str) -> None:
    app = office.app
    send_report(app)
    rid = report_id(app)
    staff = app.test_client()
    office.login(staff, BEA)
    page = staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": typed})
    assert page.status_code == 200
    assert errors(text(page)) == [message]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChannelMessage)) == 0


def test_the_purge_removes_both_sealed_copies(office: Installation) -> None:
    app = office.app
    # Content is purged only under a recorded gallringsbeslut (intake.gallring)
    decide(app, "report_content", days=30)
    send_report(app)
    rid = report_id(app)
    staff = app.test_client()
    office.login(staff, BEA)
    staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": "En fråga"})
    with app.app_context():
        report = db.session.get(Report, rid)
        assert report is not None
        received_on = clock.local_date(report.received_at)
        report.registered_on, report.status = received_on, "registered"
        db.session.commit()
        # Past the decision's 30 days, counted from registration and never before receipt
        retention.purge(today=received_on + timedelta(days=31))
        message = db.session.scalars(sa.select(ChannelMessage)).one()
        assert message.sealed is None and message.sealed_reporter is None
        assert db.session.get(Report, rid).channel_public_key is None  # type: ignore[union-attr]


def test_the_reminder_cites_the_secrecy_provision(app: Flask) -> None:
    with app.test_request_context():
        assert law.cite("osl_26_1") in law.channel_reminder()


def test_a_moved_report_keeps_its_conversation_for_the_new_inbox(office: Installation) -> None:
    app = office.app
    _resident, code = send_report(app)
    rid = report_id(app)
    office.add_inbox("Barn och unga Nord", subject_type="barn")
    office.add_user(VUXEN, "caseworker", inboxes=("Barn och unga", "Barn och unga Nord"))
    staff = app.test_client()
    office.login(staff, VUXEN)
    staff.post(f"/personal/anmalan/{rid}/fraga", data={"text": "Flyttad fråga"})
    with app.app_context():
        target = office.inbox("Barn och unga Nord").id
    assert (
        staff.post(f"/personal/anmalan/{rid}/flytta", data={"inbox_id": target}).status_code == 302
    )
    assert "Flyttad fråga" in text(staff.get(f"/personal/anmalan/{rid}"))
    # The reporter still reads it with the code
    assert "Flyttad fråga" in text(app.test_client().post(FOLLOWUP, data={"code": code}))


def test_an_answer_without_a_question_is_not_stored(office: Installation) -> None:
    app = office.app
    _resident, code = send_report(app)
    page = app.test_client().post(f"{FOLLOWUP}svara", data={"code": code, "text": "Hej"})
    assert page.status_code == 200 and "Skicka svar" not in text(page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChannelMessage)) == 0
