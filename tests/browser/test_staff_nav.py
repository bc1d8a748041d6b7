"""The staff navigation in a real browser: one line at 1280 px for every role (the admin pages
under one disclosure that works by keyboard and without JavaScript), links by role, and axe on
the pages this round changed at 390 and 1280 px."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake import audit, clock, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Inbox

from .site import Site
from .test_axe import audit as axe
from .test_staff_journey import professional_report_about_adult, sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ADMIN = "chef@alvsbyn.invalid"
WIDTHS = (390, 1280)
ROLES = {
    "admin": ("admin", ("Vuxna",)),
    "caseworker": ("caseworker", ("Vuxna",)),
    "organiser": ("organiser", ()),
    "partner": ("partner", ()),
}


def lines(page: Page) -> int:
    """How many lines the staff navigation takes (its items' distinct tops), measured once the
    stylesheets have loaded: a URL can match before the page's CSS arrives, and an unstyled list
    stacks its items."""
    page.wait_for_load_state("load")
    tops = page.locator(".staff-nav-links > li, .staff-nav > form").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
    )
    return len(set(tops))


@pytest.mark.parametrize("who", ROLES)
def test_the_navigation_fits_one_line_at_1280_px(page: Page, site: Site, who: str) -> None:
    role, inboxes = ROLES[who]
    email = f"nav.{who}@alvsbyn.invalid"
    site.installation.add_user(email, role, inboxes=inboxes)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, site, email)
    nav = page.get_by_role("navigation", name="Personal")
    # One line: every item at the same height, the whole bar no taller than one item's line
    assert lines(page) == 1
    item = page.locator(".staff-nav-links > li").first.bounding_box()
    bar = page.locator(".staff-nav").bounding_box()
    assert item is not None and bar is not None
    assert bar["height"] < 2 * item["height"]
    # Links by role: the inbox for members, dialogues for organisers, admin pages for admins
    expect(nav.get_by_role("link", name="Inkorg", exact=True)).to_have_count(1 if inboxes else 0)
    expect(nav.get_by_role("link", name="Dialoger")).to_have_count(
        1 if role in ("organiser", "admin") else 0
    )
    expect(nav.locator("summary", has_text="Administration")).to_have_count(
        1 if role == "admin" else 0
    )


def test_the_admin_menu_opens_by_keyboard_and_keeps_the_bar_on_one_line(
    page: Page, watch: Watch, site: Site
) -> None:
    site.installation.add_user(ADMIN, "admin")
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, site, ADMIN)
    summary = page.locator(".staff-menu summary")
    menu = page.locator(".staff-menu > ul")
    expect(menu).to_be_hidden()
    # When the admin reaches the summary by keyboard and presses Enter
    summary.focus()
    page.keyboard.press("Enter")
    # Then the admin pages show, the bar stays on one line, and Tab reaches the first page
    expect(menu).to_be_visible()
    assert lines(page) == 1
    axe(page, watch, "admin menu open at 1280 px")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Användare"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/personal/admin/anvandare$"))
    # And at 390 px the open menu is audited too
    page.set_viewport_size({"width": 390, "height": 800})
    page.locator(".staff-menu summary").click()
    expect(page.locator(".staff-menu > ul")).to_be_visible()
    axe(page, watch, "admin menu open at 390 px")


def test_the_admin_menu_works_without_javascript(nojs_page: Page, site: Site) -> None:
    site.installation.add_user(ADMIN, "admin")
    sign_in(nojs_page, site, ADMIN)
    nojs_page.locator(".staff-menu summary").click()
    nav = nojs_page.get_by_role("navigation", name="Personal")
    nav.get_by_role("link", name="Granskningslogg").click()
    expect(nojs_page).to_have_url(re.compile(r"/personal/admin/logg$"))


def _failed_mail(app: Flask) -> None:
    with app.app_context():
        for address in ("vuxna@alvsbyn.se", None):
            outbox.enqueue("new_report", "vuxna@alvsbyn.se", {"inbox": "Vuxna", "acute": False})
            row = db.session.scalars(
                sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
            ).first()
            assert row is not None
            row.attempts, row.failed_at, row.last_error = 12, clock.now(), "SMTPDataError"
            if address is None:
                row.recipient_protected = None
        db.session.commit()


def _inbox_id(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Inbox.id).where(Inbox.name == "Vuxna"))
        assert found is not None
        return int(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_changed_pages_pass_axe(
    page: Page, watch: Watch, site: Site, live_app: Flask, width: int
) -> None:
    # Given an overview with every warning (placeholders, failed mail) and a log with a report
    professional_report_about_adult(page)
    page.context.clear_cookies()
    _failed_mail(live_app)
    with live_app.app_context():
        audit.record(
            "report_viewed",
            actor_id=None,
            actor="x",
            target_type="report",
            target_id=db.session.scalar(sa.text("SELECT id FROM report")),
        )
        db.session.commit()
    site.installation.add_user(ADMIN, "admin", inboxes=("Vuxna",))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, site, ADMIN)
    expect(page.get_by_text("Riktiga e-postadresser saknas")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Försök igen"))).to_have_count(1)
    axe(page, watch, f"overview at {width} px")
    for path, what in (
        ("/personal/admin/logg", "audit log"),
        ("/personal/admin/routning", "routing rules"),
        ("/personal/admin/inkorgar", "inboxes"),
        (f"/personal/admin/inkorgar/{_inbox_id(live_app)}", "inbox form"),
        ("/personal/admin/anvandare", "users"),
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        axe(page, watch, f"{what} at {width} px")
    # The failed-mail buttons work in the browser: dismiss one, resend the other
    page.goto("/personal/")
    page.get_by_role("button", name=re.compile("^Försök igen")).click()
    expect(page.get_by_text("E-postmeddelandet skickas igen.")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Ta bort från listan")).first.click()
    expect(page.get_by_text("E-postmeddelandet är borttaget från listan.")).to_be_visible()
    axe(page, watch, f"overview after the mail buttons at {width} px")
