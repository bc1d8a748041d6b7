"""Reflow (WCAG 1.4.10): at 320 CSS pixels wide (1280 px at 400 % zoom) no page of the service
scrolls sideways: the public pages, each step of a report with and without errors, a dialogue
sign-up, and every staff page as caseworker, organiser, partner and admin.

The staff pages are found, not listed: from the overview, every link on the service's own
pages is followed (a wide table may scroll inside its own labelled region; the page may not).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from intake import accessibility, bootstrap, demo
from intake.accounts.models import ADMIN, CASEWORKER, ORGANISER, PARTNER

from ..staff_helpers import Installation
from .person import (
    ERROR_SUMMARY,
    NAMED,
    PRIVATE,
    about_me,
    fill,
    proceed,
    start,
    the_child,
    the_concern_for_child,
    the_guardians,
)
from .site import Site
from .test_staff_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NARROW = {"width": 320, "height": 640}
# What sticks out: the outermost elements whose right edge passes the window's.
STICKING_OUT = """() => [...document.body.querySelectorAll('*')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
  .filter(e => e.parentElement.getBoundingClientRect().right <= innerWidth + 0.5)
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
# Links not to follow: the language switch and quick exit (leave the page), downloads.
NOT_PAGES = re.compile(r"^/(sprak/|lamna)|\.(csv|ics)$|/static/")
# A filter or page number makes the same page again: two addresses of one path are enough.
PER_PATH = 2
ROLES = (CASEWORKER, ORGANISER, PARTNER, ADMIN)


@pytest.fixture
def site(make_app: Any) -> Site:
    """The app with CSRF on after setup, with the demo reports, dialogues and activities."""
    app: Flask = make_app()
    with app.app_context():
        result = bootstrap.run_setup()
        demo.add_demo_content()
    assert result.admin_password is not None
    return Site(Installation(app=app, recovery_codes=result.recovery_codes), result.admin_password)


class Reflow:
    """Pages seen at 320 px and how far each scrolled sideways."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.wide: dict[str, tuple[int, list[str]]] = {}
        self.seen = 0
        page.set_viewport_size(NARROW)

    def check(self, what: str = "") -> None:
        """The page as it is now must not be wider than the window."""
        self.page.wait_for_load_state()
        overflow = int(
            self.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        )
        self.seen += 1
        if overflow > 0:
            where = f"{urlsplit(self.page.url).path} {what}".strip()
            self.wide[where] = (overflow, self.page.evaluate(STICKING_OUT))

    def visit(self, path: str, status: int = 200) -> None:
        """Open a page and check it."""
        response = self.page.goto(path)
        assert response is not None and response.status == status, path
        self.check()

    def errors_then(self, button: str = "Fortsätt") -> None:
        """Send the form as it is, and check the page with its errors."""
        self.page.get_by_role("button", name=button, exact=True).click()
        expect(self.page.locator(ERROR_SUMMARY)).to_be_visible()
        self.check("(with errors)")

    def crawl(self, start_path: str, origin: str, limit: int = 80) -> None:
        """Follow every link on the service's own pages from `start_path`, checking each."""
        queue, queued, per_path = deque([start_path]), {start_path}, {}
        while queue and limit:
            target = queue.popleft()
            response = self.page.goto(target)
            assert response is not None and response.status < 400, (target, response.status)
            limit -= 1
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            self.check()
            hrefs = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
            for href in hrefs:
                if not href.startswith(origin):
                    continue
                parts = urlsplit(href)
                address = parts.path + (f"?{parts.query}" if parts.query else "")
                if address in queued or NOT_PAGES.search(parts.path):
                    continue
                if per_path.get(parts.path, 0) >= PER_PATH:
                    continue
                per_path[parts.path] = per_path.get(parts.path, 0) + 1
                queued.add(address)
                queue.append(address)


def _report_steps(reflow: Reflow) -> None:
    """Each step of a named private person's report about a child, empty first."""
    page = reflow.page
    start(page)
    reflow.check()
    reflow.errors_then()
    about_me(page, PRIVATE, NAMED)
    proceed(page, "personen")
    reflow.check()
    reflow.errors_then()
    the_child(page)
    proceed(page, "vardnadshavare")
    reflow.check()
    reflow.errors_then()
    the_guardians(page)
    proceed(page, "oro")
    reflow.check()
    reflow.errors_then()
    the_concern_for_child(page)
    proceed(page, "dina-uppgifter")
    reflow.check()
    reflow.errors_then()
    fill(page, "Ditt namn", "Granne Grannsson")
    fill(page, "Telefonnummer", "070-123 45 67")
    proceed(page, "granska")
    reflow.check()
    reflow.errors_then("Skicka anmälan")


def _dialogue_sign_up(reflow: Reflow) -> None:
    """The coming demo dialogue: its page, the form with errors, and signed up."""
    page = reflow.page
    reflow.visit("/dialoger/")
    page.get_by_role("link", name=re.compile("trygghet i centrum")).first.click()
    reflow.check()
    reflow.errors_then("Anmäl mig")
    page.get_by_label("Namn", exact=True).fill("Boende Boendesson")
    page.get_by_label("E-postadress", exact=True).fill("boende@example.org")
    page.get_by_label("Hur många kommer, du inräknad?").fill("2")
    page.get_by_label("Jag har läst hur mina uppgifter behandlas").check()
    page.get_by_role("button", name="Anmäl mig").click()
    expect(page).to_have_url(re.compile(r"/anmald/"))
    reflow.check()


def test_no_page_scrolls_sideways_at_320_pixels(page: Page, site: Site, live: str) -> None:
    """Every page a resident or a member of staff can reach, at 320 px: no sideways scroll."""
    reflow = Reflow(page)
    # Given the public pages, the sign-in and an unknown address
    for path in accessibility.PUBLIC_PAGES:
        reflow.visit(path)
    reflow.visit("/finns-inte", status=404)
    reflow.visit("/personal/logga-in")
    reflow.errors_then()
    # And a resident's report, every step empty and answered, and a dialogue sign-up
    _report_steps(reflow)
    _dialogue_sign_up(reflow)
    # And every page each staff role reaches by following links from its overview
    for role in ROLES:
        email = f"{role}.reflow@alvsbyn.invalid"
        inboxes = ("Barn och unga", "Vuxna") if role in (CASEWORKER, ADMIN) else ()
        site.installation.add_user(email, role, inboxes=inboxes)
        page.context.clear_cookies()
        sign_in(page, site, email)
        reflow.crawl("/personal/", live)
    # Then none of them was wider than the window
    assert reflow.seen > 60, reflow.seen
    assert reflow.wide == {}, f"wider than 320 px (px too wide, what sticks out): {reflow.wide}"
