"""What a person does on the journey's pages: read a question, pick an answer, type, go on."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

REFERENCE = re.compile(r"^\d{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
ERROR_SUMMARY = ".error-summary"

# The answers of tests/reports/journey_helpers.py, as a person reads them on the pages.
CHILD_NAME = "Alva"
CHILD_CONCERN = "Barnet är ofta hungrigt."
GUARDIAN_NAME = "Förälder Ett"
ADULT_CONCERN = "Bo verkar inte klara sin vardag."
PRIVATE = "Privatperson, till exempel släkting, granne eller vän"
PROFESSIONAL = "Yrkesverksam i tjänsten, till exempel i skola, vård eller polis"
ANONYMOUS = "Ja, jag vill vara anonym"
NAMED = "Nej, jag lämnar mitt namn och hur ni når mig"


def url_of(slug: str) -> re.Pattern[str]:
    """The address of a page of the journey, e.g. `oro` or `granska`."""
    return re.compile(rf"/orosanmalan/{re.escape(slug)}$")


def group(page: Page | Locator, question: str) -> Locator:
    """The fieldset of a question, found by its legend."""
    return page.get_by_role("group", name=question, exact=True)


def answer(page: Page | Locator, question: str, option: str) -> None:
    """Click the label of one option of a question (a radio button or a checkbox)."""
    group(page, question).locator("label").filter(
        has_text=re.compile(rf"^{re.escape(option)}$")
    ).click()


def fill(page: Page | Locator, label: str, text: str) -> None:
    """Type into the field with this label."""
    page.get_by_label(label, exact=True).fill(text)


def proceed(page: Page, expected: str) -> None:
    """Press Fortsätt and arrive on the expected page."""
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(url_of(expected))


def start(page: Page) -> None:
    """From the start page, press Starta anmälan."""
    page.goto("/orosanmalan/")
    page.get_by_role("link", name="Starta anmälan").click()
    expect(page).to_have_url(url_of("om-dig"))


def about_me(page: Page, kind: str, anonymity: str) -> None:
    """Step 1: who reports, and whether anonymously."""
    answer(page, "Anmäler du som privatperson eller i din yrkesroll?", kind)
    answer(page, "Vill du vara anonym?", anonymity)


def the_child(page: Page) -> None:
    """Step 2 for a child: the kind, a first name and an age."""
    answer(page, "Vem gäller din oro?", "Ett barn, 0–17 år")
    fill(page, "Förnamn", CHILD_NAME)
    fill(page, "Ungefärlig ålder, om du inte vet födelsedatum", "8")


def the_guardians(page: Page) -> None:
    """Step 3: the first guardian's name, and that they do not know."""
    fill(group(page, "Vårdnadshavare 1"), "Namn", GUARDIAN_NAME)
    answer(page, "Vet vårdnadshavarna om att du gör en anmälan?", "Nej")


def the_concern_for_child(page: Page) -> None:
    """Step 4 for a child: neglect, what happened, no acute danger."""
    answer(
        page,
        "Vad gäller din oro? Välj allt som passar.",
        "Omsorgssvikt eller försummelse, även av tandvård",
    )
    fill(page, "Beskriv vad som gör dig orolig", CHILD_CONCERN)
    answer(page, "Är personen i akut fara just nu?", "Nej")


def child_journey_to_check(page: Page, *, anonymity: str = ANONYMOUS) -> None:
    """A private person's report about a child, from the start page to the check page."""
    start(page)
    about_me(page, PRIVATE, anonymity)
    proceed(page, "personen")
    the_child(page)
    proceed(page, "vardnadshavare")
    the_guardians(page)
    proceed(page, "oro")
    the_concern_for_child(page)
    if anonymity == ANONYMOUS:
        proceed(page, "granska")
        return
    proceed(page, "dina-uppgifter")
    fill(page, "Ditt namn", "Granne Grannsson")
    fill(page, "Telefonnummer", "070-123 45 67")
    proceed(page, "granska")


def send(page: Page) -> str:
    """On the check page: confirm, send, and read the reference on the receipt."""
    answer(
        page,
        "Bekräfta",
        "Jag har läst hur mina uppgifter behandlas och lämnar dem efter bästa förmåga",
    )
    page.get_by_role("button", name="Skicka anmälan").click()
    expect(page).to_have_url(url_of("kvitto"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmälan är skickad")
    reference = page.locator(".panel-confirmation .reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    return reference
