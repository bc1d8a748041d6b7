"""Citizen dialogues in Chromium: a resident signs up, gets the mail with a calendar file,
cancels by the link and the waiting list moves up; an organiser creates a dialogue, publishes
an answered question and files the held report. axe (WCAG 2.1 A/AA) on every page on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from intake import bootstrap, clock, outbox
from intake.dialogues.models import CONFIRMED, WAITLISTED, WITHDRAWN

from ..accounts.back_office import fast_passwords
from ..conftest import SMTPServer
from ..dialogues.helpers import (
    cancel_path,
    change,
    new_dialogue,
    only_to,
    part,
    registration,
    subject,
)
from ..staff_helpers import PASSWORD, Installation
from .conftest import TIMEOUT_MS
from .test_axe import audit
from .watch import LOOPBACK, Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ORGANISER = "olle.organisator@example.com"
PRIVACY = "Jag har läst hur mina uppgifter behandlas"
BASE_URL = "http://intake.example"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def live_config(smtp: SMTPServer) -> dict[str, Any]:
    """The served app sends its mail to the loopback SMTP server, for real."""
    return {"MAIL_PORT": smtp.port, "MAIL_SUPPRESS_SEND": False, "BASE_URL": BASE_URL}


@pytest.fixture
def live_site(make_app: Any, live_config: dict[str, Any]) -> Installation:
    """The served app after setup (CSRF on), with the recovery codes setup printed."""
    app: Flask = make_app(**live_config)
    with app.app_context():
        result = bootstrap.run_setup()
    return Installation(app=app, recovery_codes=result.recovery_codes)


@pytest.fixture
def live_app(live_site: Installation) -> Flask:
    """The app the `live` fixture serves: this module's installation."""
    return live_site.app


def watched(page: Page) -> Watch:
    """Record what a page requests and logs (as the `watch` fixture does for `page`)."""
    seen = Watch()
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))
    return seen


@pytest.fixture
def second_person(browser: Browser, live: str) -> Iterator[Page]:
    """Another person's browser: a fresh context, offline but for the app."""
    context: BrowserContext = browser.new_context(base_url=live, locale="sv-SE")
    context.set_default_timeout(TIMEOUT_MS)
    context.route(lambda url: not url.startswith(LOOPBACK), lambda route: route.abort())
    yield context.new_page()
    context.close()


def sign_up(page: Page, name: str, email: str, *, people: str = "1") -> None:
    """Fill in and send the sign-up form on a dialogue's page."""
    page.get_by_label("Namn", exact=True).fill(name)
    page.get_by_label("E-postadress", exact=True).fill(email)
    page.get_by_label("Hur många kommer, du inräknad?").fill(people)
    page.get_by_label("Behöver du något för att kunna delta? (frivilligt)").fill("Hörslinga")
    page.get_by_label(PRIVACY).check()
    page.get_by_role("button", name="Anmäl mig").click()


def deliver(app: Flask, smtp: SMTPServer) -> list[Any]:
    """Run the outbox worker once; what arrived."""
    before = len(smtp.mailbox.messages)
    with app.app_context():
        sent = outbox.deliver_due()
    return smtp.mailbox.wait_for(before + sent)[before:]


def test_resident_signs_up_cancels_and_the_waiting_list_moves(
    page: Page,
    watch: Watch,
    nojs_page: Page,
    live_site: Installation,
    smtp: SMTPServer,
) -> None:
    app = live_site.app
    # Given a dialogue with one seat on the public calendar
    dialogue_id = new_dialogue(
        app, capacity=1, accessibility="Hörslinga finns. Teckentolk på begäran."
    )
    page.goto("/dialoger/")
    audit(page, watch, "dialogues")
    page.get_by_role("link", name="Trygghet i centrum").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trygghet i centrum")
    expect(page.get_by_text("Lediga platser")).to_be_visible()
    audit(page, watch, "dialogue page")
    # When Anna sends the form empty, she is told what is missing
    page.get_by_role("button", name="Anmäl mig").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fel:"))
    audit(page, watch, "dialogue page with sign-up errors")
    # When she signs up
    sign_up(page, "Anna Andersson", "anna@example.com")
    # Then she has the seat
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är anmäld")
    audit(page, watch, "signed up")
    # When Bo signs up in a browser without JavaScript, the room is full: he is first in line
    nojs_page.goto(f"/dialoger/{dialogue_id}")
    expect(nojs_page.get_by_text("Fullt – anmäl dig till reservlistan")).to_be_visible()
    expect(nojs_page.get_by_text("Alla platser är tagna.")).to_be_visible()
    sign_up(nojs_page, "Bo Berg", "bo@example.com")
    expect(nojs_page.get_by_role("heading", level=1)).to_have_text("Du står på reservlistan")
    expect(nojs_page.get_by_text("Du är nummer 1 i kön.")).to_be_visible()
    # And the mail reaches Anna with a calendar file that calendar programs read
    mails = deliver(app, smtp)
    anna_mail = only_to(mails, "anna@example.com")
    assert subject(anna_mail) == "Du är anmäld: Trygghet i centrum"
    [event] = icalendar.Calendar.from_ical(part(anna_mail, "text/calendar")).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Trygghet i centrum"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert "Du står som nummer 1" in part(only_to(mails, "bo@example.com"), "text/plain")
    # When Anna opens the cancel link from the mail
    link = cancel_path(anna_mail)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Avboka din plats")
    audit(page, watch, "cancel confirmation")
    assert registration(app, dialogue_id, "anna@example.com").status == CONFIRMED
    # And confirms
    page.get_by_role("button", name="Avboka").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är avbokad")
    audit(page, watch, "cancelled")
    # Then Bo has the seat and a mail saying so, and Anna a receipt
    assert registration(app, dialogue_id, "anna@example.com").status == WITHDRAWN
    assert registration(app, dialogue_id, "bo@example.com").status == CONFIRMED
    mails = deliver(app, smtp)
    assert subject(only_to(mails, "bo@example.com")).startswith("Du har fått en plats")
    assert subject(only_to(mails, "anna@example.com")).startswith("Du är avbokad")
    # And the link, opened again, says it is already used; a forged one does not work
    page.goto(link)
    expect(page.get_by_text("Anmälan är redan avbokad.")).to_be_visible()
    audit(page, watch, "cancel link used twice")
    page.goto(link[:-3] + "xyz")
    expect(page.get_by_role("heading", level=1)).to_have_text("Länken fungerar inte")
    audit(page, watch, "cancel link forged")


def test_dialogue_pages_in_english_and_when_closed(
    page: Page, watch: Watch, live_site: Installation
) -> None:
    app = live_site.app
    now = clock.now()
    open_id = new_dialogue(app, capacity=10)
    cancelled_id = new_dialogue(app, title="Inställd", status="cancelled")
    closed_id = new_dialogue(app, title="Stängd", signup_closes_at=now - timedelta(hours=1))
    full_id = new_dialogue(app, title="Full", capacity=1)
    # The last seat, then the waiting list
    page.goto(f"/dialoger/{full_id}")
    sign_up(page, "Anna Andersson", "anna@example.com")
    page.goto(f"/dialoger/{full_id}")
    sign_up(page, "Bo Berg", "bo@example.com")
    expect(page.get_by_text("Du är nummer 1 i kön.")).to_be_visible()
    audit(page, watch, "waiting list")
    for dialogue_id, what in (
        (cancelled_id, "cancelled dialogue"),
        (closed_id, "sign-up closed"),
        (full_id, "full dialogue"),
    ):
        page.goto(f"/dialoger/{dialogue_id}")
        audit(page, watch, what)
    # A question sent empty, then sent
    page.goto(f"/dialoger/{open_id}")
    page.get_by_role("button", name="Skicka frågan").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, watch, "question with errors")
    page.get_by_label("Din fråga", exact=True).fill("Varför är det mörkt i parken?")
    page.get_by_role("button", name="Skicka frågan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack för din fråga")
    audit(page, watch, "question sent")
    # The same pages in English
    page.goto(f"/sprak/en?next=/dialoger/{open_id}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, watch, "dialogue page in English")
    page.goto("/dialoger/")
    audit(page, watch, "dialogues in English")
    page.goto(f"/dialoger/{open_id}")
    page.locator("form[action$='/anmalan'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, watch, "dialogue page in English with errors")
    assert registration(app, full_id, "anna@example.com").status == CONFIRMED
    assert registration(app, full_id, "bo@example.com").status == WAITLISTED


def sign_in(page: Page, site: Installation, email: str) -> None:
    """Password, then the code from the authenticator app."""
    page.goto("/personal/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Kod", exact=True).fill(site.code(email))
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name=re.compile("^Logga ut"))).to_be_visible()


def fill_moment(page: Page, moment: str, day: str, time: str) -> None:
    """Fill a date input and a time input (grouped under the moment's legend)."""
    group = page.get_by_role("group", name=moment, exact=True)
    group.get_by_label("Datum", exact=True).fill(day)
    group.get_by_label("Tid", exact=True).fill(time)


def test_organiser_creates_publishes_and_reports(
    page: Page, watch: Watch, second_person: Page, live_site: Installation
) -> None:
    app = live_site.app
    live_site.add_user(ORGANISER, "organiser", inboxes=("Medborgardialog",))
    # Given an organiser signed in with password and code
    sign_in(page, live_site, ORGANISER)
    page.goto("/personal/dialoger/")
    audit(page, watch, "organiser: dialogues")
    # When they open the new-dialogue form and save it empty
    page.get_by_role("link", name="Ny dialog").click()
    audit(page, watch, "organiser: new dialogue")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, watch, "organiser: new dialogue with errors")
    # And then fill it in
    starts = (clock.now() + timedelta(days=20)).astimezone(clock.STOCKHOLM)
    page.get_by_label("Rubrik", exact=True).fill("Trafiken vid skolan")
    page.get_by_label("Beskrivning", exact=True).fill("Vi pratar om trafiken vid Tärnaskolan.")
    page.get_by_label("Trafik", exact=True).check()
    page.get_by_label("Polisen", exact=True).check()
    page.get_by_label("Kommunen", exact=True).check()
    fill_moment(page, "Börjar", starts.strftime("%Y-%m-%d"), "18:00")
    fill_moment(page, "Slutar", starts.strftime("%Y-%m-%d"), "20:00")
    page.get_by_label("På plats", exact=True).check()
    page.get_by_label("Plats", exact=True).fill("Tärnaskolans matsal")
    page.get_by_label("Antal platser (tomt = obegränsat)").fill("40")
    page.get_by_role("button", name="Spara").click()
    # Then the dialogue's page for organisers opens, the dialogue still a draft
    expect(page.get_by_role("heading", level=1)).to_have_text("Trafiken vid skolan (utkast)")
    audit(page, watch, "organiser: dialogue")
    dialogue_id = int(re.search(r"/personal/dialoger/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    page.get_by_role("link", name="Ändra").click()
    audit(page, watch, "organiser: edit dialogue")
    # And publish it (a new dialogue is a draft)
    page.goto(f"/personal/dialoger/{dialogue_id}")
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Dialogen är publicerad.")).to_be_visible()
    # When a resident asks a question on the public page
    second_person.goto(f"/dialoger/{dialogue_id}")
    second_person.get_by_label("Trafik", exact=True).check()
    second_person.get_by_label("Din fråga", exact=True).fill("Kan bussarna stanna på andra sidan?")
    second_person.get_by_role("button", name="Skicka frågan").click()
    expect(second_person.get_by_role("heading", level=1)).to_have_text("Tack för din fråga")
    # And the organiser reads it and publishes it with an answer
    page.goto(f"/personal/dialoger/{dialogue_id}/fragor")
    expect(page.locator("p.answer")).to_have_text("Kan bussarna stanna på andra sidan?")
    audit(page, watch, "organiser: questions")
    page.get_by_label("Svar", exact=True).fill("Ja, från hösten stannar de vid idrottshallen.")
    page.get_by_role("button", name="Publicera med svar").click()
    expect(page.get_by_role("button", name="Avpublicera")).to_be_visible()
    audit(page, watch, "organiser: question published")
    # Then the answer is on the public page
    second_person.goto(f"/dialoger/{dialogue_id}")
    expect(second_person.get_by_text("från hösten stannar de vid idrottshallen")).to_be_visible()
    # When the dialogue has been held and the organiser files the report
    now = clock.now()
    change(app, dialogue_id, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    page.goto(f"/personal/dialoger/{dialogue_id}")
    page.get_by_role("link", name="Rapport efter dialogen").click()
    audit(page, watch, "organiser: held report")
    page.get_by_role("button", name="Spara rapporten").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, watch, "organiser: held report with errors")
    page.locator(".error-summary a").first.click()
    page.get_by_label("Ja", exact=True).check()
    page.get_by_label("Antal deltagare", exact=True).fill("32")
    page.get_by_label("Sammanfattning (publiceras på webben)").fill(
        "Trafiken vid skolan var huvudfrågan."
    )
    page.get_by_label("Åtgärder att följa upp").fill("Kommunen ser över hållplatsen.")
    page.get_by_role("button", name="Spara rapporten").click()
    expect(page.get_by_text("Rapporten är sparad.")).to_be_visible()
    # Then residents find it among the past dialogues, with its summary and answer
    second_person.goto("/dialoger/")
    second_person.get_by_role("link", name="Trafiken vid skolan").click()
    expect(second_person.get_by_text("Trafiken vid skolan var huvudfrågan.")).to_be_visible()
    expect(second_person.get_by_text("Antal deltagare: 32")).to_be_visible()
    expect(second_person.get_by_text("Kommunen ser över hållplatsen.")).to_have_count(0)
    audit(second_person, watched(second_person), "past dialogue with summary")
    # And the attendee list for the door passes too
    page.goto(f"/personal/dialoger/{dialogue_id}/deltagarlista")
    audit(page, watch, "organiser: attendee list")


@pytest.mark.parametrize("width", [390, 1280])
def test_organiser_toolkit_from_draft_to_the_door(
    page: Page, watch: Watch, live_site: Installation, smtp: SMTPServer, width: int
) -> None:
    """Create a draft, preview it, publish it, add a walk-in at the door, message everyone
    confirmed, and check a registrant in; axe on every page, on a phone and on a desktop."""
    app = live_site.app
    page.set_viewport_size({"width": width, "height": 900})
    live_site.add_user(ORGANISER, "organiser", inboxes=("Medborgardialog",))
    sign_in(page, live_site, ORGANISER)
    # Given a new dialogue saved with a time typed in the date and time inputs
    page.goto("/personal/dialoger/ny")
    starts = (clock.now() + timedelta(days=20)).astimezone(clock.STOCKHOLM)
    page.get_by_label("Rubrik", exact=True).fill("Trygghet i Vidsel")
    page.get_by_label("Polisen", exact=True).check()
    fill_moment(page, "Börjar", starts.strftime("%Y-%m-%d"), "18:00")
    fill_moment(page, "Slutar", starts.strftime("%Y-%m-%d"), "17:00")
    page.get_by_label("På plats", exact=True).check()
    page.get_by_label("Plats", exact=True).fill("Vidsel bygdegård")
    page.get_by_label("Antal platser (tomt = obegränsat)").fill("2")
    page.get_by_role("button", name="Spara").click()
    # Then an end before the start is named, and the typed time is kept
    expect(page.locator(".error-summary")).to_contain_text("Dialogen måste sluta efter")
    audit(page, watch, f"organiser {width}: moment error")
    group = page.get_by_role("group", name="Slutar", exact=True)
    expect(group.get_by_label("Tid", exact=True)).to_have_value("17:00")
    group.get_by_label("Tid", exact=True).fill("20:00")
    page.get_by_role("button", name="Spara").click()
    # And it is a draft, which the organiser previews
    expect(page.get_by_role("heading", level=1)).to_contain_text("(utkast)")
    audit(page, watch, f"organiser {width}: draft")
    dialogue_id = int(re.search(r"/personal/dialoger/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    page.get_by_role("link", name="Förhandsgranska den publika sidan").click()
    expect(page.get_by_text("Förhandsvisning", exact=True)).to_be_visible()
    audit(page, watch, f"organiser {width}: preview")
    page.get_by_role("link", name="Tillbaka till dialogen").click()
    # When they publish it
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Dialogen är publicerad.")).to_be_visible()
    # And a resident signs up on the public page
    page.goto(f"/dialoger/{dialogue_id}")
    sign_up(page, "Anna Andersson", "anna@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är anmäld")
    # And someone comes to the door with a friend: the room has one seat left
    page.goto(f"/personal/dialoger/{dialogue_id}")
    page.get_by_label("Hur många?", exact=True).fill("2")
    page.get_by_role("button", name="Lägg till och checka in").click()
    expect(page.locator(".error-summary")).to_contain_text("Det finns bara 1 ledig plats")
    audit(page, watch, f"organiser {width}: walk-in over capacity")
    page.get_by_label("Ta in dem även om alla platser är tagna").check()
    page.get_by_role("button", name="Lägg till och checka in").click()
    expect(page.get_by_text("Incheckade: 2 av 3")).to_be_visible()
    audit(page, watch, f"organiser {width}: walk-in added")
    # When they write to everyone confirmed, preview, then send
    page.get_by_role("link", name="Skicka meddelande till anmälda").click()
    audit(page, watch, f"organiser {width}: message")
    page.get_by_label("Ämnesrad", exact=True).fill("Ny ingång")
    page.get_by_label("Meddelande", exact=True).fill("Gå in från parkeringen.")
    page.get_by_role("button", name="Förhandsgranska").click()
    expect(page.get_by_text("Meddelandet går till 1 person.")).to_be_visible()
    audit(page, watch, f"organiser {width}: message preview")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.get_by_text("Meddelandet skickas till 1 person.")).to_be_visible()
    mails = deliver(app, smtp)
    assert sorted(subject(m) for m in mails if m["To"] == "anna@example.com") == [
        "Du är anmäld: Trygghet i Vidsel",
        "Ny ingång",
    ]
    # And they search for Anna at the door and check her in
    page.get_by_label("Sök bland anmälda (namn, e-post eller telefon)").fill("anna")
    page.get_by_role("button", name="Sök", exact=True).click()
    audit(page, watch, f"organiser {width}: search")
    page.get_by_role("button", name=re.compile("^Checka in")).click()
    expect(page.get_by_text("Incheckade: 3 av 3")).to_be_visible()
    audit(page, watch, f"organiser {width}: checked in")
