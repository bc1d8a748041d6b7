"""axe-core (WCAG 2.1 A and AA) on every page of the journey, its error states and the site.

Each page is also watched: no request leaves 127.0.0.1 and the console reports no
Content-Security-Policy violation.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from .person import (
    ERROR_SUMMARY,
    NAMED,
    PROFESSIONAL,
    about_me,
    answer,
    fill,
    proceed,
    send,
    start,
    the_child,
    the_concern_for_child,
    the_guardians,
    url_of,
)
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
AXE = Axe()
ALWAYS_WRONG = {"duplicate-id-aria"}


def audit(page: Page, watch: Watch, what: str) -> None:
    """axe finds no WCAG 2.1 AA violation; nothing went off-site; CSP was never violated."""
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"
    # axe files an id used twice by aria-describedby under "needs review"; it is always a bug.
    doubled = [r["id"] for r in results.response["incomplete"] if r["id"] in ALWAYS_WRONG]
    assert doubled == [], f"{what} ({page.url}): {doubled}"
    assert watch.foreign_requests() == [], what
    assert watch.csp_violations() == [], what


def audit_with_errors(page: Page, watch: Watch, what: str) -> None:
    """Send the page as it is, expect the error summary, and audit the page with errors."""
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    audit(page, watch, f"{what} with errors")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/orosanmalan/", 200),
        ("/tillganglighet", 200),
        ("/personuppgifter", 200),
        ("/finns-inte", 404),
        ("/orosanmalan/finns-inte", 404),
    ],
)
def test_site_page(page: Page, watch: Watch, path: str, status: int) -> None:
    """A page outside the journey's steps."""
    response = page.goto(path)
    assert response is not None and response.status == status
    audit(page, watch, path)


def test_english_version(page: Page, watch: Watch) -> None:
    """The start page and step 1 (empty and with errors) in English."""
    # Given a resident who picks English on the start page
    response = page.goto("/sprak/en?next=/orosanmalan/")
    assert response is not None and response.ok
    expect(page).to_have_url(url_of(""))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, watch, "start page in English")
    # When they start and send step 1 empty
    page.locator("a.button-start").click()
    expect(page).to_have_url(url_of("om-dig"))
    audit(page, watch, "step 1 in English")
    page.locator("form button[type=submit]").click()
    # Then the English page with errors passes too
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, watch, "step 1 in English with errors")


def test_expired_form_page(page: Page, context: BrowserContext, watch: Watch) -> None:
    """The page that gives the answers back when the session ran out before sending."""
    start(page)
    about_me(page, PROFESSIONAL, NAMED)
    context.clear_cookies()
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("button", name="Skicka igen")).to_be_visible()
    audit(page, watch, "expired form")


def test_child_journey_every_page_and_error_state(page: Page, watch: Watch) -> None:
    """Each step of a report about a child, first with errors, then the check page and receipt."""
    # Given the start page
    page.goto("/orosanmalan/")
    audit(page, watch, "start page")
    start(page)
    # When each step is first sent empty, then answered
    audit(page, watch, "om-dig")
    audit_with_errors(page, watch, "om-dig")
    about_me(page, "Privatperson, till exempel släkting, granne eller vän", NAMED)
    proceed(page, "personen")
    audit(page, watch, "personen")
    audit_with_errors(page, watch, "personen")
    the_child(page)
    proceed(page, "vardnadshavare")
    audit(page, watch, "vardnadshavare")
    audit_with_errors(page, watch, "vardnadshavare")
    the_guardians(page)
    proceed(page, "oro")
    audit(page, watch, "oro")
    audit_with_errors(page, watch, "oro")
    the_concern_for_child(page)
    proceed(page, "dina-uppgifter")
    audit(page, watch, "dina-uppgifter (private)")
    audit_with_errors(page, watch, "dina-uppgifter (private)")
    fill(page, "Ditt namn", "Granne Grannsson")
    fill(page, "E-postadress", "granne@example.org")
    proceed(page, "granska")
    # Then the check page passes, also when sent without the confirmation
    audit(page, watch, "granska")
    page.get_by_role("button", name="Skicka anmälan").click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()
    audit(page, watch, "granska with errors")
    # And so does the receipt
    send(page)
    audit(page, watch, "kvitto")


def test_professional_details_page_and_error_state(page: Page, watch: Watch) -> None:
    """The professional's details page, which asks the most."""
    start(page)
    about_me(page, PROFESSIONAL, NAMED)
    proceed(page, "personen")
    answer(page, "Vem gäller din oro?", "En vuxen, 21–64 år")
    proceed(page, "oro")
    fill(page, "Beskriv vad som gör dig orolig", "Klarar inte vardagen.")
    answer(page, "Är personen i akut fara just nu?", "Vet inte")
    proceed(page, "dina-uppgifter")
    audit(page, watch, "dina-uppgifter (professional)")
    # Too long and no @: two errors on one field, both announced with it
    fill(page, "E-postadress", "x" * 201)
    fill(page, "När fick ni informationen?", "2099-01-01")
    audit_with_errors(page, watch, "dina-uppgifter (professional)")
