"""The resident's orosanmälan journey in Chromium: mouse, no JavaScript, keyboard, errors, exit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.models import Report

from .person import (
    ADULT_CONCERN,
    CHILD_CONCERN,
    CHILD_NAME,
    ERROR_SUMMARY,
    NAMED,
    PRIVATE,
    PROFESSIONAL,
    about_me,
    answer,
    child_journey_to_check,
    fill,
    group,
    proceed,
    send,
    start,
    url_of,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@dataclass(frozen=True)
class Received:
    """What the database holds after one report: its plain columns and its e-mails."""

    reference: str
    inbox: str
    acute: bool
    mails: list[tuple[str, str, dict[str, Any]]]


def _received(app: Flask) -> Received:
    """The one report in the database, and the outbox rows as (template, recipient, context)."""
    with app.app_context():
        reports = db.session.scalars(sa.select(Report)).all()
        assert len(reports) == 1
        report = reports[0]
        mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        return Received(
            reference=report.reference,
            inbox=report.inbox.name,
            acute=report.acute,
            mails=[(m.template, m.recipient, dict(m.context)) for m in mails],
        )


def _assert_child_report_received(app: Flask, reference: str) -> None:
    received = _received(app)
    assert received.reference == reference
    assert received.inbox == "Barn och unga"
    assert received.acute is False
    assert [(template, recipient) for template, recipient, _ in received.mails] == [
        ("new_report", "barnochunga@alvsbyn.invalid")
    ]
    assert received.mails[0][2]["inbox"] == "Barn och unga"


def test_private_anonymous_child_with_the_mouse(page: Page, live_app: Flask) -> None:
    """A private person reports a child anonymously by clicking and typing."""
    # Given a private person on the start page, who starts and answers every step
    child_journey_to_check(page)
    # Then the check page shows their answers, without a step for their own details
    expect(page.get_by_text(CHILD_CONCERN)).to_be_visible()
    expect(page.get_by_role("heading", name="Dina uppgifter", exact=True)).to_have_count(0)
    # When they confirm and send
    reference = send(page)
    # Then the receipt shows no content and the report is stored, routed and notified
    expect(page.get_by_text(CHILD_NAME)).to_have_count(0)
    _assert_child_report_received(live_app, reference)


def test_professional_adult_must_give_their_details(page: Page, live_app: Flask) -> None:
    """A professional reporting an adult cannot be anonymous and must say who they are."""
    # Given a professional who reports about an adult in acute danger
    start(page)
    about_me(page, PROFESSIONAL, NAMED)
    proceed(page, "personen")
    answer(page, "Vem gäller din oro?", "En vuxen, 21–64 år")
    fill(page, "Förnamn", "Bo")
    proceed(page, "oro")
    expect(page.get_by_text("Steg 3 av 4")).to_be_visible()
    fill(page, "Beskriv vad som gör dig orolig", ADULT_CONCERN)
    answer(page, "Är personen i akut fara just nu?", "Ja")
    fill(page, "Beskriv faran", "Hot")
    proceed(page, "dina-uppgifter")
    # When they give only their name
    fill(page, "Ditt namn", "Lärare Lärarsson")
    page.get_by_role("button", name="Fortsätt").click()
    # Then they are asked for everything a professional must give, and the name is kept
    summary = page.locator(ERROR_SUMMARY)
    expect(summary).to_be_visible()
    for message in (
        "Skriv ditt telefonnummer i tjänsten.",
        "Skriv din e-postadress i tjänsten.",
        "Skriv din arbetsplats eller verksamhet.",
        "Skriv din yrkesroll.",
    ):
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.get_by_label("Ditt namn", exact=True)).to_have_value("Lärare Lärarsson")
    # When they fill in the rest and send
    fill(page, "Telefonnummer", "0929-123 45")
    fill(page, "E-postadress", "larare@skola.example")
    fill(page, "Arbetsplats eller verksamhet", "Älvåkraskolan")
    fill(page, "Yrkesroll eller befattning", "Lärare")
    fill(page, "Vem fick den information som väckte oron?", "Jag själv")
    fill(page, "När fick ni informationen?", "2026-01-10")
    # (återkoppling is for reports about a child only: an adult's reporter is not asked)
    expect(page.get_by_text("Vill du ha återkoppling om en utredning inleds?")).to_have_count(0)
    proceed(page, "granska")
    expect(page.get_by_text("Älvåkraskolan")).to_be_visible()
    reference = send(page)
    # Then the acute report is in the adults' inbox
    received = _received(live_app)
    assert received.reference == reference
    assert received.inbox == "Vuxna" and received.acute is True
    assert [(recipient, context["acute"]) for _, recipient, context in received.mails] == [
        ("vuxna@alvsbyn.invalid", True)
    ]


def test_private_anonymous_child_without_javascript(nojs_page: Page, live_app: Flask) -> None:
    """The whole journey works with JavaScript turned off."""
    child_journey_to_check(nojs_page)
    reference = send(nojs_page)
    _assert_child_report_received(live_app, reference)


def _tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element matches the selector."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _press_to(page: Page, key: str, slug: str) -> None:
    page.keyboard.press(key)
    expect(page).to_have_url(url_of(slug))


def test_keyboard_only_from_start_page_to_receipt(page: Page, live_app: Flask) -> None:
    """Tab, Space, arrows, Enter and typing are enough to send a report."""
    # Given the start page, where the first Tab lands on the skip link
    page.goto("/orosanmalan/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hoppa till innehållet"
    _tab_to(page, "a.button-start")
    _press_to(page, "Enter", "om-dig")
    # When a private person answers step 1: the first option of each group
    _tab_to(page, "input[name=reporter_type]")
    page.keyboard.press("Space")
    _tab_to(page, "input[name=anonymous]")
    page.keyboard.press("Space")
    _tab_to(page, "button[type=submit]")
    _press_to(page, "Enter", "personen")
    # And describes the child
    _tab_to(page, "input[name=subject_type]")
    page.keyboard.press("Space")
    _tab_to(page, "#first_name")
    page.keyboard.type(CHILD_NAME)
    _tab_to(page, "#age")
    page.keyboard.type("8")
    _tab_to(page, "button[type=submit]")
    _press_to(page, "Enter", "vardnadshavare")
    # And the guardian, choosing "Nej" with the arrow key
    _tab_to(page, "#guardian1_name")
    page.keyboard.type("Förälder Ett")
    _tab_to(page, "input[name=guardians_aware]")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "button[type=submit]")
    _press_to(page, "Enter", "oro")
    # And the concern: neglect, a description, no acute danger
    _tab_to(page, "input[name=categories][value=omsorgssvikt]")
    page.keyboard.press("Space")
    _tab_to(page, "#what_happened")
    page.keyboard.type(CHILD_CONCERN)
    _tab_to(page, "input[name=acute_danger]")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "button[type=submit]")
    _press_to(page, "Enter", "granska")
    # And on the check page ticks the box and sends
    _tab_to(page, "input[name=confirm]")
    page.keyboard.press("Space")
    _tab_to(page, "form[action$='/granska'] button[type=submit]")
    _press_to(page, "Enter", "kvitto")
    # Then the report is received like one sent with the mouse
    reference = page.locator(".panel-confirmation .reference").inner_text().strip()
    _assert_child_report_received(live_app, reference)


def test_validation_errors_are_summarised_linked_and_lose_nothing(page: Page) -> None:
    """An empty step shows the error summary; its links focus the fields; answers stay."""
    # Given step 1, sent empty
    start(page)
    page.get_by_role("button", name="Fortsätt").click()
    # Then the summary lists the problem as a link to the first option, in a titled page
    summary = page.locator(ERROR_SUMMARY)
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="Det finns ett problem")).to_be_visible()
    expect(page).to_have_title("Fel: Om dig som anmäler – Orosanmälan – Älvsbyns kommun")
    link = summary.get_by_role("link", name="Välj om du är privatperson eller yrkesverksam.")
    expect(link).to_have_attribute("href", "#reporter_type-0")
    assert summary.evaluate("el => { el.focus(); return document.activeElement === el; }")
    link.click()
    expect(page.locator("#reporter_type-0")).to_be_focused()
    # When they answer step 1, then send step 2 with a name and an age but no kind
    about_me(page, PRIVATE, NAMED)
    proceed(page, "personen")
    fill(page, "Förnamn", CHILD_NAME)
    fill(page, "Ungefärlig ålder, om du inte vet födelsedatum", "8")
    page.get_by_role("button", name="Fortsätt").click()
    # Then the error is shown and what they typed is still there
    link = page.locator(ERROR_SUMMARY).get_by_role("link", name="Välj vem din oro gäller.")
    expect(link).to_be_visible()
    expect(page.get_by_label("Förnamn", exact=True)).to_have_value(CHILD_NAME)
    expect(page.get_by_label("Ungefärlig ålder, om du inte vet födelsedatum")).to_have_value("8")
    # And the answers of step 1 are kept when they go back
    page.get_by_role("link", name="Tillbaka").click()
    expect(page).to_have_url(url_of("om-dig"))
    expect(page.get_by_role("radio", name=PRIVATE)).to_be_checked()
    expect(page.get_by_role("radio", name=NAMED)).to_be_checked()


def test_expired_session_gives_the_answers_back_to_send_again(
    page: Page, context: BrowserContext
) -> None:
    """When the session has run out, the CSRF page holds the answers and sends them again."""
    # Given step 1 answered, and the session gone before it is sent
    start(page)
    about_me(page, PRIVATE, NAMED)
    context.clear_cookies()
    # When it is sent
    page.get_by_role("button", name="Fortsätt").click()
    # Then the page explains, and sending again carries the answers on to step 2
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan har gått ut")
    page.get_by_role("button", name="Skicka igen").click()
    expect(page).to_have_url(url_of("personen"))
    page.get_by_role("link", name="Tillbaka").click()
    expect(page.get_by_role("radio", name=PRIVATE)).to_be_checked()
    expect(page.get_by_role("radio", name=NAMED)).to_be_checked()


JOURNEY_PAGES = ("om-dig", "personen", "vardnadshavare", "oro", "dina-uppgifter", "granska")


def test_quick_exit_on_every_journey_page_leaves_and_forgets(page: Page, live: str) -> None:
    """Lämna sidan snabbt is on every page; it answers a redirect away and clears the draft."""
    # Given a neutral site that answers instead of the internet
    page.route("https://www.smhi.se/**", lambda route: route.fulfill(status=200, body="ok"))
    exit_link = page.get_by_role("link", name="Lämna sidan snabbt")
    # When a private named person walks the longest journey and sends
    page.goto("/orosanmalan/")
    expect(exit_link).to_have_attribute("href", "/lamna")
    child_journey_to_check(page, anonymity=NAMED)
    for slug in JOURNEY_PAGES:
        page.goto(f"/orosanmalan/{slug}")
        # Then every page of the journey carries the link
        expect(exit_link).to_have_attribute("href", "/lamna")
    send(page)
    expect(exit_link).to_have_attribute("href", "/lamna")
    # And /lamna itself is a redirect to the neutral site that clears the browser's data
    response = page.request.get(f"{live}/lamna", max_redirects=0)
    assert response.status == 302
    assert response.headers["location"] == "https://www.smhi.se/"
    assert '"cookies"' in response.headers["clear-site-data"]


def test_quick_exit_mid_journey_discards_the_answers(page: Page) -> None:
    """Leaving in the middle of the journey takes the draft with it."""
    # Given a person half-way through the journey
    start(page)
    about_me(page, PRIVATE, NAMED)
    proceed(page, "personen")
    page.route("https://www.smhi.se/**", lambda route: route.fulfill(status=200, body="ok"))
    # When they press Lämna sidan snabbt
    page.get_by_role("link", name="Lämna sidan snabbt").click()
    # Then they are on the neutral site
    expect(page).to_have_url("https://www.smhi.se/")
    # And coming back, the journey starts over with nothing filled in
    page.goto("/orosanmalan/personen")
    expect(page).to_have_url(url_of("om-dig"))
    expect(group(page, "Anmäler du som privatperson eller i din yrkesroll?")).to_be_visible()
    expect(page.get_by_role("radio", name=PRIVATE)).not_to_be_checked()
