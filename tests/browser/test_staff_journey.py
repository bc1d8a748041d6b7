"""The staff side in Chromium: a caseworker handles a professional's report and sends the
återkoppling by real SMTP; the first admin's first sign-in (TOTP enrolment, new password)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from intake import bootstrap, outbox

from ..conftest import SMTPServer
from ..staff_helpers import PASSWORD
from .conftest import _context
from .person import (
    ADULT_CONCERN,
    CHILD_CONCERN,
    CHILD_NAME,
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
)
from .site import Site

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASEWORKER = "handlaggare@alvsbyn.invalid"
REPORTER_EMAIL = "larare@example.com"
SUBJECT_FIRST = "Ingegerd"
SUBJECT_LAST = "Pålsson"
WORKPLACE = "Älvåkraskolan"
ASSESSMENT = "Ingen akut fara. Kontakt tas med hemtjänsten."
# Everything the reporter typed or chose about the person, and the caseworker's own note.
ANSWER_TEXTS = (
    SUBJECT_FIRST,
    SUBJECT_LAST,
    ADULT_CONCERN,
    "vardag",
    WORKPLACE,
    "Lärare Lärarsson",
    "0929-123 45",
    ASSESSMENT,
    "hemtjänsten",
    "21–64",
)


@pytest.fixture
def live_config(smtp: SMTPServer) -> dict[str, Any]:
    """The served app sends its mail to the loopback SMTP server, for real."""
    return {"MAIL_PORT": smtp.port, "MAIL_SUPPRESS_SEND": False}


@pytest.fixture
def staff_context(browser: Browser, live: str) -> Iterator[BrowserContext]:
    """A second, fresh browser context: the caseworker's own browser."""
    yield from _context(browser, live)


def sign_in(page: Page, site: Site, email: str, *, offset: int = 0) -> None:
    """Password, then the current TOTP code; arrive on the dashboard."""
    page.goto("/personal/logga-in")
    page.get_by_label("E-postadress", exact=True).fill(email)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(re.compile(r"/personal/tvastegsverifiering$"))
    page.get_by_label("Kod", exact=True).fill(site.installation.code(email, offset=offset))
    page.get_by_role("button", name="Logga in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/personal/$"))
    page.wait_for_load_state("load")


def professional_report_about_adult(page: Page) -> str:
    """A teacher reports about an adult (not asked about återkoppling); returns the reference."""
    start(page)
    about_me(page, PROFESSIONAL, NAMED)
    proceed(page, "personen")
    answer(page, "Vem gäller din oro?", "En vuxen, 21–64 år")
    fill(page, "Förnamn", SUBJECT_FIRST)
    fill(page, "Efternamn", SUBJECT_LAST)
    proceed(page, "oro")
    fill(page, "Beskriv vad som gör dig orolig", ADULT_CONCERN)
    answer(page, "Är personen i akut fara just nu?", "Nej")
    proceed(page, "dina-uppgifter")
    fill(page, "Ditt namn", "Lärare Lärarsson")
    fill(page, "Telefonnummer", "0929-123 45")
    fill(page, "E-postadress", REPORTER_EMAIL)
    fill(page, "Arbetsplats eller verksamhet", WORKPLACE)
    fill(page, "Yrkesroll eller befattning", "Lärare")
    fill(page, "Vem fick den information som väckte oron?", "Jag själv")
    fill(page, "När fick ni informationen?", "2026-01-10")
    expect(page.get_by_text("Vill du ha återkoppling om en utredning inleds?")).to_have_count(0)
    proceed(page, "granska")
    return send(page)


def professional_report_about_child(page: Page) -> str:
    """A teacher reports about a child and asks for återkoppling; returns the reference."""
    start(page)
    about_me(page, PROFESSIONAL, NAMED)
    proceed(page, "personen")
    the_child(page)
    proceed(page, "vardnadshavare")
    the_guardians(page)
    proceed(page, "oro")
    the_concern_for_child(page)
    proceed(page, "dina-uppgifter")
    fill(page, "Ditt namn", "Lärare Lärarsson")
    fill(page, "Telefonnummer", "0929-123 45")
    fill(page, "E-postadress", REPORTER_EMAIL)
    fill(page, "Arbetsplats eller verksamhet", WORKPLACE)
    fill(page, "Yrkesroll eller befattning", "Lärare")
    fill(page, "Vem fick den information som väckte oron?", "Jag själv")
    fill(page, "När fick ni informationen?", "2026-01-10")
    answer(page, "Vill du ha återkoppling om en utredning inleds?", "Ja")
    proceed(page, "granska")
    return send(page)


def _text(message: Message) -> str:
    """Subject and every decoded text part of an e-mail."""
    parts = [str(make_header(decode_header(message["Subject"])))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)


def test_caseworker_handles_report_and_sends_feedback(
    page: Page, staff_context: BrowserContext, site: Site, smtp: SMTPServer
) -> None:
    """Sign in, inbox, report, skyddsbedömning, decision, återkoppling by SMTP, print view."""
    installation = site.installation
    installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    # Given a professional's report about a child, sent in the resident's browser
    reference = professional_report_about_child(page)
    # When the caseworker signs in, in a browser of their own
    staff = staff_context.new_page()
    sign_in(staff, site, CASEWORKER)
    # And opens the inbox and the report
    staff.get_by_role("navigation", name="Personal").get_by_role("link", name="Inkorg").click()
    expect(staff).to_have_url(re.compile(r"/personal/inkorg$"))
    staff.get_by_role("link", name=re.compile(re.escape(reference))).first.click()
    expect(staff).to_have_url(re.compile(r"/personal/anmalan/[^/]+$"))
    expect(staff.get_by_role("heading", level=1)).to_contain_text(reference)
    # Then the answers are there, decrypted
    for text in (CHILD_NAME, CHILD_CONCERN, WORKPLACE, REPORTER_EMAIL):
        expect(staff.get_by_text(text, exact=False).first).to_be_visible()
    # When they record the skyddsbedömning
    staff.get_by_label("Bedömning och åtgärder").fill(ASSESSMENT)
    staff.get_by_role("button", name="Registrera skyddsbedömningen").click()
    expect(staff.get_by_text("Skyddsbedömningen är registrerad.")).to_be_visible()
    expect(staff.get_by_text(ASSESSMENT)).to_be_visible()
    # And the decision that an investigation is opened
    answer(staff, "Beslut", "Utredning inleds")
    staff.get_by_role("button", name="Registrera beslutet").click()
    expect(staff.get_by_text("Beslutet är registrerat.")).to_be_visible()
    # And the reporter did not sign in with e-legitimation: no återkoppling by mail, the page
    # suggests a phone call instead (issue 12 §2)
    expect(staff.get_by_role("button", name="Skicka återkoppling")).to_have_count(0)
    expect(staff.get_by_text("Kontakta anmälaren per telefon", exact=False)).to_be_visible()
    # Then nothing is sent inside a request; the outbox worker sends the inbox's notice only
    assert smtp.mailbox.messages == []
    with installation.app.app_context():
        assert outbox.deliver_due() == 1
    messages = smtp.mailbox.wait_for(1)
    assert [m for m in messages if m["To"] == REPORTER_EMAIL] == []
    raw = b"".join(smtp.mailbox.raw).decode("utf-8", "replace")
    for secret in ANSWER_TEXTS:
        assert secret not in raw, secret
    # And the print view opens with the report in it
    staff.get_by_role("link", name=re.compile("Utskriftsvänlig version")).click()
    expect(staff).to_have_url(re.compile(r"/personal/anmalan/[^/]+/utskrift$"))
    expect(staff.get_by_text(reference).first).to_be_visible()
    expect(staff.get_by_text(CHILD_CONCERN).first).to_be_visible()


def test_first_admin_enrols_totp_and_changes_password(page: Page, site: Site) -> None:
    """One-time password → TOTP enrolment → backup codes → a new password → the dashboard."""
    # Given the admin setup created, signing in with the one-time password
    page.goto("/personal/logga-in")
    page.get_by_label("E-postadress", exact=True).fill(bootstrap.FIRST_ADMIN)
    page.get_by_label("Lösenord", exact=True).fill(site.admin_password)
    page.get_by_role("button", name="Fortsätt").click()
    # Then they are asked to set up the authenticator app
    expect(page).to_have_url(re.compile(r"/personal/tvastegsverifiering/aktivera$"))
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("code.secret").inner_text().strip()
    # When they type the app's code
    page.get_by_label("Kod", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aktivera").click()
    # Then they see their backup codes, once
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina reservkoder")
    codes = page.locator("ul.codes code").all_inner_texts()
    assert len(codes) >= 5 and len(set(codes)) == len(codes)
    # When they go on, they must first choose a password of their own
    page.get_by_role("link", name="Jag har sparat koderna").click()
    expect(page).to_have_url(re.compile(r"/personal/byt-losenord$"))
    page.get_by_label("Nuvarande lösenord", exact=True).fill(site.admin_password)
    page.get_by_label("Nytt lösenord", exact=True).fill(PASSWORD)
    page.get_by_label("Nytt lösenord igen", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Spara lösenordet").click()
    # Then they land on the dashboard, and stay there
    expect(page).to_have_url(re.compile(r"/personal/$"))
    expect(page.get_by_text("Lösenordet är bytt.")).to_be_visible()
    page.goto("/personal/admin/anvandare")
    expect(page).to_have_url(re.compile(r"/personal/admin/anvandare$"))
