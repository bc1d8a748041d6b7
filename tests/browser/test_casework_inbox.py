"""The caseworker's inbox in a real browser at a phone's and a desktop's width (issue 13 §2):
triage columns in a focusable table region, filters as a GET form, assignment without
JavaScript, and axe (WCAG 2.1 AA) on each state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..accounts.back_office import submit
from .site import Site
from .test_axe import audit
from .test_staff_journey import sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASEWORKER = "handlaggare@alvsbyn.invalid"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_inbox_triages_filters_and_assigns(
    page: Page, watch: Watch, site: Site, width: int
) -> None:
    # Given a caseworker in "Barn och unga" and three reports there
    app = site.installation.app
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    submit(app, categories=["fysiskt_vald"], acute_danger="vet_ej")
    submit(app, reporter_type="yrkesverksam", anonymous="nej", categories=["omsorgssvikt"])
    submit(app, subject_type="ung_vuxen", categories=["eget_beteende"])
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, site, CASEWORKER)
    # When she opens the inbox, each row tells age group, reporter, concern and deadline
    page.goto("/personal/inkorg")
    region = page.get_by_role("region", name="Anmälningar, akuta och vet inte först")
    expect(region).to_be_visible()
    assert region.get_attribute("tabindex") == "0"
    table = region.get_by_role("table")
    for header in ("Ålder", "Anmälare", "Oro", "Handläggare", "Närmaste frist"):
        expect(table.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="Våld eller övergrepp")).to_be_visible()
    expect(table.get_by_role("cell", name="Yrkesverksam")).to_be_visible()
    expect(table.get_by_role("cell", name="Ung vuxen 18–20")).to_be_visible()
    audit(page, watch, f"inbox at {width} px")
    # And she filters with the form (a GET: the filters are in the address)
    page.get_by_label("Oro", exact=True).select_option("vald")
    page.get_by_role("button", name="Filtrera").click()
    expect(page).to_have_url(re.compile(r"oro=vald"))
    expect(page.get_by_text("Sida 1 av 1, 1 anmälan")).to_be_visible()
    audit(page, watch, f"inbox filtered at {width} px")
    # And she takes the report herself, without JavaScript needed
    page.get_by_role("link", name="Ändra").first.click()
    audit(page, watch, f"assignment at {width} px")
    page.get_by_role("button", name="Tilldela mig").click()
    expect(page.get_by_text("handläggs av")).to_be_visible()
    page.goto("/personal/inkorg?handlaggare=mina")
    expect(page.get_by_text("Sida 1 av 1, 1 anmälan")).to_be_visible()
    audit(page, watch, f"Mina at {width} px")
    # And a filter value the inbox does not know is said, not an error page
    page.goto("/personal/inkorg?frist=igar")
    expect(page.get_by_text("Ett filtervärde känns inte igen")).to_be_visible()
    audit(page, watch, f"unknown filter at {width} px")


def test_the_assignment_page_with_an_error(page: Page, watch: Watch, site: Site) -> None:
    app = site.installation.app
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    report_id = submit(app)
    sign_in(page, site, CASEWORKER)
    page.goto(f"/personal/anmalan/{report_id}/handlaggare")
    # A value not in the list (as a stale or tampered form would send) gets a Swedish error
    page.locator("#assignee").evaluate(
        "el => { const o = document.createElement('option'); o.value = '999999';"
        " o.textContent = 'x'; el.appendChild(o); el.value = '999999'; }"
    )
    page.get_by_role("button", name="Spara").click()
    expect(
        page.get_by_text("Välj en handläggare som har tillgång till inkorgen.").first
    ).to_be_visible()
    audit(page, watch, "assignment with an error")
