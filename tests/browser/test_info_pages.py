"""The public pages the accessibility statement vouches for (intake.accessibility.PUBLIC_PAGES):
axe-core (WCAG 2.1 A/AA) in Swedish and English, and reflow at 320 CSS pixels (WCAG 1.4.10:
no scrolling sideways). What this file checks is what the statement claims."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from intake import accessibility

from .test_axe import audit
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("path", accessibility.PUBLIC_PAGES)
def test_public_page_passes_axe(page: Page, watch: Watch, path: str, language: str) -> None:
    """Every public page in both languages: no WCAG 2.1 AA violation."""
    page.goto(f"/sprak/{language}?next={path}")
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == language
    audit(page, watch, f"{path} ({language})")


@pytest.mark.parametrize("path", accessibility.PUBLIC_PAGES)
def test_public_page_reflows_at_320_pixels(browser: Browser, live: str, path: str) -> None:
    """At 320 CSS pixels wide (1280 px at 400 % zoom) nothing needs scrolling sideways."""
    context = browser.new_context(base_url=live, viewport={"width": 320, "height": 640})
    try:
        narrow = context.new_page()
        response = narrow.goto(path)
        assert response is not None and response.status == 200
        overflow = narrow.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        # A page the statement lists as not reflowing must still not reflow (else the list
        # is out of date); every other page must reflow
        known = path in accessibility.REFLOW_SHORTCOMINGS
        assert (overflow > 0) is known, f"{path} scrolls {overflow}px sideways at 320px"
    finally:
        context.close()
