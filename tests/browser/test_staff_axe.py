"""axe-core (WCAG 2.1 A and AA) on every staff page, signed in as the role that uses it, with
its error states; and the public follow-up pages.

Each page is also watched: no request leaves 127.0.0.1 and the console reports no
Content-Security-Policy violation.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake import bootstrap, clock
from intake.accounts.models import User
from intake.dialogues.models import Dialogue
from intake.extensions import db
from intake.followup.models import Activity, Commitment
from intake.reports import retention
from intake.reports.models import Inbox, Report

from ..gallring_helpers import decide
from ..staff_helpers import PASSWORD
from .person import ERROR_SUMMARY, child_journey_to_check, send
from .site import Site
from .test_axe import audit
from .test_staff_journey import professional_report_about_adult, sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASEWORKER = "handlaggare@alvsbyn.invalid"
CHIEF = "chef@alvsbyn.invalid"
ALL_INBOXES = ("Barn och unga", "Vuxna", "Medborgardialog")


def errors_after(page: Page, button: str) -> None:
    """Press a button and expect the error summary."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(ERROR_SUMMARY)).to_be_visible()


def visit(page: Page, watch: Watch, path: str, what: str) -> None:
    """Open a page (expecting 200) and audit it."""
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    audit(page, watch, what)


def test_sign_in_and_first_login_pages(page: Page, watch: Watch, site: Site) -> None:
    """Login (empty, with an error), second factor (and error), enrolment, backup codes, and
    the new password (empty, with an error)."""
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Vuxna",))
    visit(page, watch, "/personal/logga-in", "login")
    errors_after(page, "Fortsätt")
    audit(page, watch, "login with errors")
    page.get_by_label("E-postadress", exact=True).fill(CASEWORKER)
    page.get_by_label("Lösenord", exact=True).fill("inte rätt lösenord")
    errors_after(page, "Fortsätt")
    audit(page, watch, "login with a wrong password")
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(re.compile(r"/personal/tvastegsverifiering$"))
    audit(page, watch, "second factor")
    page.get_by_label("Kod", exact=True).fill("000000")
    errors_after(page, "Logga in")
    audit(page, watch, "second factor with a wrong code")
    # The first admin: one-time password, enrolment, backup codes, a new password
    page.goto("/personal/logga-in")
    page.get_by_label("E-postadress", exact=True).fill(bootstrap.FIRST_ADMIN)
    page.get_by_label("Lösenord", exact=True).fill(site.admin_password)
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(re.compile(r"/personal/tvastegsverifiering/aktivera$"))
    audit(page, watch, "enrol")
    page.get_by_label("Kod", exact=True).fill("000000")
    errors_after(page, "Aktivera")
    audit(page, watch, "enrol with a wrong code")
    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("Kod", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aktivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina reservkoder")
    audit(page, watch, "backup codes")
    page.get_by_role("link", name="Jag har sparat koderna").click()
    expect(page).to_have_url(re.compile(r"/personal/byt-losenord$"))
    audit(page, watch, "change password")
    errors_after(page, "Spara lösenordet")
    audit(page, watch, "change password empty")
    page.get_by_label("Nuvarande lösenord", exact=True).fill("inte engångslösenordet")
    page.get_by_label("Nytt lösenord", exact=True).fill("kort")
    page.get_by_label("Nytt lösenord igen", exact=True).fill("kort")
    errors_after(page, "Spara lösenordet")
    audit(page, watch, "change password with a wrong one-time password")
    page.get_by_label("Nuvarande lösenord", exact=True).fill(site.admin_password)
    page.get_by_label("Nytt lösenord", exact=True).fill("kort")
    page.get_by_label("Nytt lösenord igen", exact=True).fill("kort")
    errors_after(page, "Spara lösenordet")
    audit(page, watch, "change password too short")


def _report_id(app: Flask, reference: str) -> str:
    with app.app_context():
        found = db.session.scalar(sa.select(Report.id).where(Report.reference == reference))
        assert found is not None
        return str(found)


def _inbox_id(app: Flask, name: str) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Inbox.id).where(Inbox.name == name))
        assert found is not None
        return int(found)


def test_caseworker_pages(page: Page, watch: Watch, site: Site, live_app: Flask) -> None:
    """Dashboard, inbox (with filters), report (with errors), print view, purged report."""
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Vuxna",))
    # Given two reports in the adults' inbox, sent in the browser
    first = professional_report_about_adult(page)
    second = professional_report_about_adult(page)
    page.context.clear_cookies()
    sign_in(page, site, CASEWORKER)
    audit(page, watch, "dashboard")
    visit(page, watch, "/personal/inkorg", "inbox")
    expect(page.get_by_text(first).first).to_be_visible()
    vuxna = _inbox_id(live_app, "Vuxna")
    visit(page, watch, f"/personal/inkorg?status=received&inkorg={vuxna}&akut=nej", "filtered")
    visit(page, watch, "/personal/inkorg?status=purged&akut=ja", "inbox filtered to nothing")
    # The report page (about an adult: handling states, no statutory deadlines), its state
    # sent without a choice, and after the state is recorded
    report_id = _report_id(live_app, first)
    visit(page, watch, f"/personal/anmalan/{report_id}", "report")
    errors_after(page, "Registrera handläggningsläget")
    audit(page, watch, "report with a handling state error")
    page.locator("label").filter(has_text=re.compile(r"^Kontakt tagen$")).click()
    page.get_by_role("button", name="Registrera handläggningsläget").click()
    expect(page.get_by_text("Handläggningsläget är registrerat.")).to_be_visible()
    audit(page, watch, "report after its handling state")
    page.get_by_label("Registrerad den").fill("2000-01-01")
    page.get_by_label("Diarie- eller ärendenummer").fill("SN 2026/17")
    errors_after(page, "Markera som registrerad")
    audit(page, watch, "report with a registration date before receipt")
    page.get_by_label("Registrerad den").fill(date.today().isoformat())
    page.get_by_label("Diarie- eller ärendenummer").fill("SN 2026/17")
    page.get_by_role("button", name="Markera som registrerad").click()
    expect(page.get_by_text("Anmälan är markerad som registrerad")).to_be_visible()
    audit(page, watch, "report registered")
    visit(page, watch, f"/personal/anmalan/{report_id}/utskrift", "print view")
    # The purged report: only its tombstone
    decide(live_app, "report_content", days=30)
    with live_app.app_context():
        gone = retention.purge(today=date.today() + timedelta(days=3650))
    assert [item.reference for item in gone] == [first]
    visit(page, watch, f"/personal/anmalan/{report_id}", "purged report")
    expect(page.get_by_text("Innehållet gallrades")).to_be_visible()
    expect(page.get_by_text("Gallrat enligt gallringsbeslut SN 2026/40")).to_be_visible()
    visit(page, watch, f"/personal/anmalan/{_report_id(live_app, second)}", "second report")


def _user_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(User.id).where(User.email == email))
        assert found is not None
        return int(found)


def test_admin_pages(page: Page, watch: Watch, site: Site, live_app: Flask) -> None:
    """Users (list, new, errors, one-time password, reset), inboxes, grants, rules, log."""
    site.installation.add_user(CHIEF, "admin", inboxes=("Vuxna",))
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Vuxna",))
    sign_in(page, site, CHIEF)
    visit(page, watch, "/personal/admin/anvandare", "users")
    visit(page, watch, "/personal/admin/anvandare/ny", "new user")
    errors_after(page, "Spara")
    audit(page, watch, "new user empty")
    page.get_by_label("Namn", exact=True).fill("Ny Person")
    page.get_by_label("E-postadress", exact=True).fill("inte-en-adress")
    errors_after(page, "Spara")
    audit(page, watch, "new user with a bad address")
    page.get_by_label("E-postadress", exact=True).fill("ny.person@alvsbyn.se")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page).to_have_url(re.compile(r"/personal/admin/anvandare/ny$"))
    expect(page.locator(ERROR_SUMMARY)).to_have_count(0)
    audit(page, watch, "one-time password (new user)")
    caseworker = _user_id(live_app, CASEWORKER)
    visit(page, watch, f"/personal/admin/anvandare/{caseworker}", "edit user")
    visit(page, watch, f"/personal/admin/anvandare/{caseworker}/aterstall", "reset confirmation")
    page.get_by_role("button", name="Återställ lösenordet").click()
    expect(page).to_have_url(re.compile(r"/aterstall$"))
    audit(page, watch, "one-time password (reset)")
    visit(page, watch, "/personal/admin/inkorgar", "inboxes")
    visit(page, watch, f"/personal/admin/inkorgar/{_inbox_id(live_app, 'Vuxna')}", "inbox member")
    other = _inbox_id(live_app, "Medborgardialog")
    visit(page, watch, f"/personal/admin/inkorgar/{other}", "inbox with a grant form")
    page.get_by_label("Inkorgens återställningskod", exact=True).fill("fel-kod")
    errors_after(page, "Ge tillgång")
    audit(page, watch, "grant with a wrong recovery code")
    visit(page, watch, "/personal/admin/routning", "routing rules")
    errors_after(page, "Lägg till regeln")
    audit(page, watch, "routing rules with errors")
    visit(page, watch, "/personal/admin/logg", "audit log")
    visit(page, watch, "/personal/admin/logg?handelse=login&vem=chef", "audit log filtered")
    # Gallringsbeslut: none yet (the overview warns), errors, then one recorded and listed
    visit(page, watch, "/personal/", "overview without gallringsbeslut")
    expect(page.get_by_text("Gallringsbeslut saknas")).to_be_visible()
    visit(page, watch, "/personal/admin/gallring", "gallringsbeslut")
    errors_after(page, "Registrera beslutet")
    audit(page, watch, "gallringsbeslut with errors")
    page.get_by_label("Anmälningar till medborgardialoger (namn, e-post, telefon, behov)").check()
    page.get_by_label("Beslutets diarienummer").fill("KS 2026/12")
    page.get_by_label("Beslutsdatum").fill("2026-11-20")
    page.get_by_label("Beslutande organ").fill("Kommunstyrelsen")
    page.get_by_label("Gallringsfrist i dagar").fill("30")
    page.get_by_label("Gäller från").fill("2026-12-01")
    page.get_by_role("button", name="Registrera beslutet").click()
    expect(page.get_by_text("Gallringsbeslutet är registrerat.")).to_be_visible()
    audit(page, watch, "gallringsbeslut recorded")


def test_followup_pages(page: Page, watch: Watch, site: Site, live_app: Flask) -> None:
    """Dashboard, commitment (with errors), activity form, report, new promise (and errors)."""
    site.installation.add_user(CHIEF, "admin")
    today = clock.local_date(clock.now())
    with live_app.app_context():
        traffic = db.session.scalar(
            sa.select(Commitment.id).where(Commitment.text.contains("trafikkontroller"))
        )
    assert traffic is not None
    sign_in(page, site, CHIEF)
    visit(page, watch, "/personal/uppfoljning/", "follow-up dashboard")
    visit(page, watch, f"/personal/uppfoljning/atagande/{traffic}", "commitment")
    page.get_by_label("Datum", exact=True).fill("")
    page.get_by_label("Antal tillfällen", exact=True).fill("0")
    errors_after(page, "Registrera")
    audit(page, watch, "commitment with errors")
    page.get_by_label("Antal tillfällen", exact=True).fill("3")
    page.get_by_label("Datum", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Registrera", exact=True).click()
    expect(page.get_by_text("Aktiviteten är registrerad.")).to_be_visible()
    audit(page, watch, "commitment with an activity")
    with live_app.app_context():
        activity = db.session.scalar(
            sa.select(Activity.id).where(Activity.commitment_id == traffic)
        )
    visit(page, watch, f"/personal/uppfoljning/aktivitet/{activity}", "activity form")
    visit(page, watch, f"/personal/uppfoljning/rapport?fran={today.year}-01-01", "follow-up report")
    visit(page, watch, "/personal/uppfoljning/nytt-lofte", "new promise")
    errors_after(page, "Skapa löftet")
    audit(page, watch, "new promise with errors")


def test_promise_and_dialogue_report_pages(
    page: Page, watch: Watch, site: Site, live_app: Flask
) -> None:
    """Issue 11: the dialogue commitment with its counting rule, a report for part of a year,
    the public page with an earlier year unfolded, a held report before the dialogue ends."""
    site.installation.add_user(CHIEF, "admin")
    now = clock.now()
    with live_app.app_context():
        dialogues = db.session.scalar(
            sa.select(Commitment.id).where(Commitment.source == "dialogues")
        )
        coming = Dialogue(
            title="Trygghet i centrum",
            hosts=["polisen"],
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            created_at=now,
            updated_at=now,
        )
        db.session.add(coming)
        db.session.commit()
        coming_id = coming.id
    sign_in(page, site, CHIEF)
    visit(page, watch, f"/personal/uppfoljning/atagande/{dialogues}", "dialogue commitment")
    today = clock.local_date(now)
    visit(
        page,
        watch,
        f"/personal/uppfoljning/rapport?fran={today.year - 1}-01-01&till={today.isoformat()}",
        "report for part of a year",
    )
    visit(page, watch, f"/personal/dialoger/{coming_id}/rapport", "held report before the end")
    visit(page, watch, "/medborgarloftet/", "medborgarlöftet")
    page.locator("details summary").nth(1).click()
    audit(page, watch, "medborgarlöftet with an earlier year open")


def test_public_followup_pages(page: Page, watch: Watch) -> None:
    """The public promise page, and the reporter's follow-up: start, error, status."""
    visit(page, watch, "/medborgarloftet/", "medborgarlöftet")
    child_journey_to_check(page)
    send(page)
    code = page.locator(".followup-code").inner_text().strip()
    visit(page, watch, "/orosanmalan/uppfoljning/", "follow-up start")
    errors_after(page, "Fortsätt")
    audit(page, watch, "follow-up start empty")
    page.get_by_label("Uppföljningskod", exact=True).fill("FEL-KOD-1234")
    errors_after(page, "Fortsätt")
    audit(page, watch, "follow-up start with a wrong code")
    page.get_by_label("Uppföljningskod", exact=True).fill(code)
    page.get_by_role("button", name="Fortsätt", exact=True).click()
    expect(page.get_by_label("Vad vill du lägga till?")).to_be_visible()
    audit(page, watch, "follow-up status")
