"""The caseworker's report page with case notes, the search page and the print view in a real
browser at 390 px and 1280 px: axe (WCAG 2.1 AA), no sideways scrolling, notes kept in order,
field errors that keep what was typed; nothing leaves 127.0.0.1 and CSP is never violated."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake.extensions import db
from intake.reports.models import Report

from ..accounts.back_office import CHILD_PNR, submit
from .person import ERROR_SUMMARY
from .site import Site
from .test_axe import audit
from .test_staff_journey import sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASEWORKER = "handlaggare@alvsbyn.invalid"


def no_sideways_scroll(page: Page, what: str) -> None:
    """The page fits its viewport's width (WCAG 1.4.10 reflow)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what}: {overflow}px sideways"


def check(page: Page, watch: Watch, what: str) -> None:
    """axe, watch and reflow."""
    audit(page, watch, what)
    no_sideways_scroll(page, what)


@pytest.mark.parametrize("width", [390, 1280])
def test_report_page_with_notes(
    page: Page, watch: Watch, site: Site, live_app: Flask, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    report_id = submit(live_app, identity_number=CHILD_PNR, acute_danger="ja")
    with live_app.app_context():
        reference = db.session.scalar(sa.select(Report.reference).where(Report.id == report_id))
    sign_in(page, site, CASEWORKER)
    page.goto(f"/personal/anmalan/{report_id}")
    expect(page.get_by_role("heading", name="Anmälare", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Barnet", exact=True)).to_be_visible()
    check(page, watch, "report page")
    # An empty skyddsbedömning: a field error, the page otherwise intact
    page.get_by_role("button", name="Registrera skyddsbedömningen").click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    expect(page.get_by_text("Skriv vad skyddsbedömningen kom fram till").first).to_be_visible()
    check(page, watch, "report page with an empty skyddsbedömning")
    page.get_by_label("Bedömning och åtgärder").fill("Ingen akut fara. Kontakt med skolan.")
    page.get_by_role("button", name="Registrera skyddsbedömningen").click()
    expect(page.get_by_text("Skyddsbedömningen är registrerad.")).to_be_visible()
    # An empty note, then two notes
    page.get_by_role("button", name="Spara anteckningen").click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    check(page, watch, "report page with an empty note")
    for note in ("Ringde mentorn.", "Pratade med mamman, som bekräftar oron."):
        page.get_by_label("Ny anteckning").fill(note)
        page.get_by_role("button", name="Spara anteckningen").click()
        expect(page.get_by_text("Anteckningen är sparad.")).to_be_visible()
    notes = page.locator("ol.case-notes > li")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("Ringde mentorn.")
    expect(notes.nth(1)).to_contain_text(CASEWORKER)
    expect(page.get_by_text(re.compile(r"Gjord .* av Handlaggare"))).to_be_visible()
    check(page, watch, "report page with notes")
    # The print view carries the history
    page.goto(f"/personal/anmalan/{report_id}/utskrift")
    expect(page.get_by_text("Pratade med mamman, som bekräftar oron.")).to_be_visible()
    check(page, watch, "print view with notes")
    # The search page: a bad personnummer keeps what was typed; a reference finds the report
    page.goto("/personal/sok")
    check(page, watch, "search")
    page.get_by_label("Personnummer").fill("20160505-1233")
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    expect(page.get_by_label("Personnummer")).to_have_value("20160505-1233")
    check(page, watch, "search with an error")
    page.get_by_label("Personnummer").fill("")
    page.get_by_label("Referensnummer").fill(reference.lower() if reference else "")
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.get_by_role("link", name=str(reference))).to_be_visible()
    check(page, watch, "search with a result")
