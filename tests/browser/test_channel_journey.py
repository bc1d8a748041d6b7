"""The reporter's channel in Debian Chromium (issue 12 §3): a caseworker asks, the anonymous
reporter reads the question with the follow-up code and answers, the caseworker reads the
answer; axe on every new page and state; the question is in no database file."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake.extensions import db
from intake.reports.models import Report

from ..test_canary import assert_absent, database_copy
from .person import child_journey_to_check, send
from .site import Site
from .test_axe import audit
from .test_staff_axe import errors_after, visit
from .test_staff_journey import sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASEWORKER = "handlaggare@alvsbyn.invalid"


def test_question_and_answer_round_trip(
    page: Page, watch: Watch, site: Site, live_app: Flask
) -> None:
    canary = f"KANARIE-{uuid.uuid4().hex}"
    answer_text = f"SVARKANARIE-{uuid.uuid4().hex}"
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    # Given an anonymous report about a child and its follow-up code
    child_journey_to_check(page)
    send(page)
    code = page.locator(".followup-code").inner_text().strip()
    with live_app.app_context():
        report_id = db.session.scalars(sa.select(Report.id)).one()
    page.context.clear_cookies()
    # When the caseworker reads the reminder and sends a question
    sign_in(page, site, CASEWORKER)
    visit(page, watch, f"/personal/anmalan/{report_id}", "report with the channel")
    expect(page.get_by_text("Tänk på sekretessen innan du skickar.")).to_be_visible()
    errors_after(page, "Skicka frågan")
    audit(page, watch, "report with an empty question")
    page.get_by_label("Fråga till anmälaren").fill(f"Vilken skola? {canary}")
    page.get_by_role("button", name="Skicka frågan").click()
    expect(page.get_by_text("Frågan är skickad.", exact=False)).to_be_visible()
    audit(page, watch, "report with a question sent")
    visit(page, watch, "/personal/inkorg", "inbox with an unanswered question")
    expect(page.get_by_text("Fråga obesvarad")).to_be_visible()
    page.context.clear_cookies()
    # Then the reporter reads it with the code and answers
    page.goto("/orosanmalan/uppfoljning/")
    page.get_by_label("Uppföljningskod", exact=True).fill(code)
    page.get_by_role("button", name="Fortsätt", exact=True).click()
    expect(page.get_by_text(canary, exact=False)).to_be_visible()
    audit(page, watch, "follow-up status with a question")
    errors_after(page, "Skicka svar")
    audit(page, watch, "follow-up status with an empty answer")
    page.get_by_label("Ditt svar").fill(answer_text)
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.get_by_text("Tack. Ditt svar är skickat till socialtjänsten.")).to_be_visible()
    audit(page, watch, "follow-up status after answering")
    page.context.clear_cookies()
    # And the caseworker sees a new answer in the inbox and reads it (the next TOTP code: a
    # code is good once)
    sign_in(page, site, CASEWORKER, offset=1)
    visit(page, watch, "/personal/inkorg", "inbox with a new answer")
    expect(page.get_by_text("Nytt svar från anmälaren")).to_be_visible()
    visit(page, watch, f"/personal/anmalan/{report_id}", "report with the answer")
    expect(page.get_by_text(answer_text)).to_be_visible()
    # And neither text is in any database file
    assert_absent([canary, answer_text], database_copy(live_app))


def test_mina_anmalningar_without_a_broker(page: Page, watch: Watch) -> None:
    visit(page, watch, "/orosanmalan/mina-anmalningar/", "mina anmälningar without a broker")
    expect(page.get_by_text("kräver inloggning med e-legitimation", exact=False)).to_be_visible()
