"""Issue 13 §3 in a real browser, at a phone's width (390 px) and a laptop's (1280 px), with axe:
discarding answers asks first (without JavaScript too), and the follow-up page is one click from
the start pages and the receipt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import _context
from .person import CHILD_CONCERN, child_journey_to_check, send, url_of
from .test_axe import audit
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WIDTHS = [390, 1280]


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def sized(request: pytest.FixtureRequest, browser: Browser, live: str) -> Iterator[Page]:
    """A page at the given viewport width."""
    for context in _context(browser, live, viewport={"width": request.param, "height": 900}):
        yield context.new_page()


def watched(page: Page) -> Watch:
    """Record the page's requests and console, as the `watch` fixture does."""
    seen = Watch()
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))
    return seen


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls {overflow}px sideways"


def test_discarding_asks_first_and_no_keeps_the_answers(sized: Page) -> None:
    watch = watched(sized)
    # Given answers on the check page
    child_journey_to_check(sized)
    send_button = sized.get_by_role("button", name="Skicka anmälan")
    discard = sized.get_by_role("link", name="Avbryt och radera mina svar")
    # Then sending is the one button; discarding is a plain link, after it
    expect(send_button).to_be_visible()
    expect(sized.get_by_role("button", name="Avbryt och radera mina svar")).to_have_count(0)
    assert send_button.bounding_box()["y"] < discard.bounding_box()["y"]  # type: ignore[index]
    # When they follow the link
    discard.click()
    expect(sized.get_by_role("heading", name="Vill du radera dina svar?")).to_be_visible()
    audit(sized, watch, "confirmation")
    no_sideways_scroll(sized)
    # And say no
    sized.get_by_role("link", name="Nej, tillbaka till mina svar").click()
    # Then every answer is still there
    expect(sized).to_have_url(url_of("granska"))
    expect(sized.get_by_text(CHILD_CONCERN)).to_be_visible()


def test_yes_deletes_the_answers_without_javascript(browser: Browser, live: str) -> None:
    for context in _context(browser, live, java_script_enabled=False):
        page = context.new_page()
        child_journey_to_check(page)
        page.get_by_role("link", name="Avbryt och radera mina svar").click()
        page.get_by_role("button", name="Ja, radera mina svar").click()
        expect(page.get_by_text("Dina svar är raderade.")).to_be_visible()
        page.goto("/orosanmalan/granska")
        expect(page).to_have_url(url_of("om-dig"))


@pytest.mark.parametrize("path", ["/", "/orosanmalan/"])
def test_the_follow_up_page_is_one_click_from_the_start_pages(sized: Page, path: str) -> None:
    watch = watched(sized)
    sized.goto(path)
    audit(sized, watch, path)
    no_sideways_scroll(sized)
    sized.get_by_role("link", name="Följ upp").first.click()
    expect(sized).to_have_url(url_of("uppfoljning/"))
    expect(sized.get_by_role("heading", name="Följ upp din anmälan")).to_be_visible()


def test_the_receipt_links_to_follow_up_and_prints_both_codes(sized: Page) -> None:
    watch = watched(sized)
    child_journey_to_check(sized)
    send(sized)
    audit(sized, watch, "receipt")
    no_sideways_scroll(sized)
    # Printed: both codes named, the follow-up address written out, the page chrome gone
    sized.emulate_media(media="print")
    expect(sized.locator(".receipt-codes").get_by_text("Referensnummer")).to_be_visible()
    expect(sized.get_by_role("heading", name="Uppföljningskod")).to_be_visible()
    expect(sized.locator(".print-only").first).to_be_visible()
    expect(sized.get_by_role("link", name="Lämna sidan snabbt")).to_be_hidden()
    sized.emulate_media(media="screen")
    expect(sized.locator(".print-only").first).to_be_hidden()
    code = sized.locator(".followup-code").inner_text().strip()
    sized.get_by_role("link", name="sidan för uppföljning").click()
    expect(sized).to_have_url(url_of("uppfoljning/"))
    # And with the code, the status says what it means and what it doesn't
    sized.get_by_label("Uppföljningskod").fill(code)
    sized.get_by_role("button", name="Fortsätt").click()
    expect(sized.get_by_text("Status: Mottagen")).to_be_visible()
    expect(sized.get_by_text("Det betyder inte", exact=False).first).to_be_visible()
    audit(sized, watch, "follow-up status")
    no_sideways_scroll(sized)
