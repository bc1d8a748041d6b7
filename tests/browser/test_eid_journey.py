"""A professional signs in with e-legitimation on step 1, through a real OP's own pages.

The OpenID Provider (tests/eid/op, panva/oidc-provider) runs on loopback; Chromium clicks its
login and consent pages. axe checks every page of ours that e-legitimation adds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake import bootstrap, clock
from intake.accounts.models import User
from intake.extensions import db
from intake.reports import handling, service
from intake.reports.models import Report
from intake.reports.service import open_answers, open_verified

from ..accounts.back_office import VERIFIED, answers
from ..conftest import LiveServer
from ..eid import provider as op
from ..eid.conftest import broker, eid_settings, pkjwt_key  # noqa: F401 - fixtures
from ..staff_helpers import Installation
from .person import NAMED, PROFESSIONAL, about_me, answer, fill, proceed, send, url_of
from .site import Site
from .test_axe import audit
from .test_staff_axe import errors_after
from .test_staff_journey import sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_config(broker: op.Provider) -> dict[str, Any]:  # noqa: F811 - the fixture
    """The served app talks to the test OP."""
    return eid_settings(broker.issuer)


@pytest.fixture
def live_app(make_app: Any, live_config: dict[str, Any]) -> tuple[Flask, dict[str, str]]:
    """The app with CSRF on and its inboxes, keeping the recovery codes setup printed."""
    app: Flask = make_app(**live_config)
    with app.app_context():
        recovery = bootstrap.run_setup().recovery_codes
    return app, recovery


@pytest.fixture
def live(live_app: tuple[Flask, dict[str, str]]) -> Iterator[str]:
    """Served on loopback, with BASE_URL = where it is served (the OP sends residents back)."""
    app, _codes = live_app
    server = LiveServer(app)
    app.config["BASE_URL"] = server.url
    with server:
        yield server.url


def _at_the_broker(page: Page, account: str) -> None:
    """On the OP's own pages: log in as `account`, then consent."""
    expect(page.get_by_role("heading", name="Testlegitimering")).to_be_visible()
    page.get_by_label("Användar-id").fill(account)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("button", name="Godkänn").click()


def test_a_professional_signs_in_and_reports(
    page: Page, watch: Watch, live_app: tuple[Flask, dict[str, str]]
) -> None:
    """Sign in on step 1; name and personnummer verified and read-only; the report says so."""
    app, recovery = live_app
    # Given a professional on step 1, offered e-legitimation beside going on without
    page.goto("/orosanmalan/om-dig")
    expect(page.get_by_role("link", name="Fortsätt utan")).to_be_visible()
    audit(page, watch, "step 1 offering e-legitimation")
    # When they sign in at the broker
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(page, "anna")
    # Then they are back on step 1, verified
    expect(page).to_have_url(url_of("om-dig"))
    identity = page.locator("#eid-identity")
    expect(identity).to_contain_text("Anna Lärare")
    expect(identity).to_contain_text("19811218-9876")
    expect(identity).to_contain_text("Verifierad med e-legitimation")
    audit(page, watch, "step 1 signed in")
    # And they report about an adult
    about_me(page, PROFESSIONAL, NAMED)
    proceed(page, "personen")
    answer(page, "Vem gäller din oro?", "En vuxen, 21–64 år")
    fill(page, "Förnamn", "Bo")
    proceed(page, "oro")
    fill(page, "Beskriv vad som gör dig orolig", "Bo verkar inte klara sin vardag.")
    answer(page, "Är personen i akut fara just nu?", "Nej")
    proceed(page, "dina-uppgifter")
    # The name is shown, verified, and cannot be typed over
    expect(page.get_by_label("Ditt namn", exact=True)).to_have_count(0)
    expect(page.locator("#eid-identity")).to_contain_text("Anna Lärare")
    audit(page, watch, "details step signed in")
    fill(page, "Telefonnummer", "0929-123 45")
    fill(page, "E-postadress", "anna@skola.example")
    fill(page, "Arbetsplats eller verksamhet", "Älvåkraskolan")
    fill(page, "Yrkesroll eller befattning", "Lärare")
    fill(page, "Vem fick den information som väckte oron?", "Jag själv")
    fill(page, "När fick ni informationen?", "2026-01-10")
    # A report about an adult: återkoppling is not asked for (intake.law, children only)
    expect(page.get_by_text("Vill du ha återkoppling om en utredning inleds?")).to_have_count(0)
    proceed(page, "granska")
    expect(page.locator("#eid-identity")).to_contain_text("Verifierad med e-legitimation")
    audit(page, watch, "check page signed in")
    send(page)
    # Then the sealed report holds the verified identity
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report is not None
        key = bootstrap.unlock_with_recovery_code(report.inbox, recovery[report.inbox.name])
        assert open_answers(report, key)["reporter_name"] == "Anna Lärare"
        verified = open_verified(report, key)
    assert verified is not None and verified["personnummer"] == "198112189876"


def test_cancelling_at_the_broker(page: Page, watch: Watch) -> None:
    """Cancel at the broker: our failure page, the answers kept, going on without offered."""
    page.goto("/orosanmalan/om-dig")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    page.get_by_role("button", name="Avbryt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du avbröt inloggningen")
    audit(page, watch, "e-legitimation failure page")
    page.get_by_role("link", name="Fortsätt utan e-legitimation").click()
    expect(page).to_have_url(url_of("om-dig"))


def test_without_javascript(nojs_page: Page) -> None:
    """The round trip is plain forms and redirects: it works with JavaScript off."""
    nojs_page.goto("/orosanmalan/om-dig")
    nojs_page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(nojs_page, "bertil")
    expect(nojs_page.locator("#eid-identity")).to_contain_text("Bertil Rektor")


def _verified_child_report(app: Flask, recovery: dict[str, str]) -> str:
    """A verified professional's report about a child, decided and återkoppling sent."""
    with app.app_context():
        receipt = service.submit(
            answers(
                reporter_type="yrkesverksam",
                anonymous="nej",
                wants_feedback="ja",
                reporter_email="anna@skola.example",
            ),
            base_url="http://test",
            verified=VERIFIED,
        )
        report = db.session.scalar(sa.select(Report).where(Report.reference == receipt.reference))
        assert report is not None
        user = db.session.scalar(sa.select(User))
        assert user is not None
        report.assessed_at, report.status = clock.now(), "assessed"
        handling.record_decision(report, "opened", clock.local_date(clock.now()), user=user)
        key = bootstrap.unlock_with_recovery_code(report.inbox, recovery[report.inbox.name])
        handling.send_feedback(
            report,
            service.open_answers(report, key),
            service.open_verified(report, key),
            user=user,
            base_url="http://test",
        )
        return receipt.reference


def test_mina_anmalningar_shows_aterkoppling_to_the_same_person_only(
    page: Page, watch: Watch, live_app: tuple[Flask, dict[str, str]]
) -> None:
    """Anna (verified when she reported) reads her återkoppling; Bertil sees nothing."""
    app, recovery = live_app
    reference = _verified_child_report(app, recovery)
    page.goto("/orosanmalan/mina-anmalningar/")
    audit(page, watch, "mina anmälningar, signed out")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(page, "anna")
    expect(page.get_by_text("Socialtjänsten har inlett en utredning.")).to_be_visible()
    expect(page.get_by_text(reference, exact=False)).to_be_visible()
    audit(page, watch, "mina anmälningar with återkoppling")
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("button", name="Logga in med e-legitimation")).to_be_visible()
    # Another person at the same computer (the broker's own session forgotten too)
    page.context.clear_cookies()
    page.goto("/orosanmalan/mina-anmalningar/")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(page, "bertil")
    expect(page.get_by_text("Det finns inga meddelanden till dig.")).to_be_visible()
    expect(page.get_by_text(reference, exact=False)).to_have_count(0)
    audit(page, watch, "mina anmälningar, nothing for this person")


CASEWORKER = "handlaggare@alvsbyn.invalid"


def test_a_verified_professional_answers_a_question_at_mina_anmalningar(
    page: Page, watch: Watch, live_app: tuple[Flask, dict[str, str]]
) -> None:
    """The caseworker asks; Anna, signed in as herself, reads and answers; the caseworker
    reads the answer; Bertil, signed in as himself, sees nothing of it."""
    app, recovery = live_app
    question = f"Vilken klass går barnet i? {uuid.uuid4().hex}"
    reply = f"Klass 4B. {uuid.uuid4().hex}"
    site = Site(Installation(app=app, recovery_codes=recovery), admin_password="")
    site.installation.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    # Given a verified professional's report about a child
    with app.app_context():
        receipt = service.submit(
            answers(
                reporter_type="yrkesverksam",
                anonymous="nej",
                wants_feedback="ja",
                reporter_email="anna@skola.example",
            ),
            base_url="http://test",
            verified=VERIFIED,
        )
        report_id = db.session.scalars(
            sa.select(Report.id).where(Report.reference == receipt.reference)
        ).one()
    # When the caseworker asks a question
    sign_in(page, site, CASEWORKER)
    page.goto(f"/personal/anmalan/{report_id}")
    expect(page.locator("#reporter-identity")).to_contain_text(
        "Identitet verifierad med e-legitimation"
    )
    audit(page, watch, "report with a verified reporter")
    page.get_by_label("Fråga till anmälaren").fill(question)
    page.get_by_role("button", name="Skicka frågan").click()
    expect(page.get_by_text("Frågan är skickad.", exact=False)).to_be_visible()
    page.context.clear_cookies()
    # Then Anna signs in at Mina anmälningar and reads it
    page.goto("/orosanmalan/mina-anmalningar/")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(page, "anna")
    expect(page.get_by_text("En fråga väntar på ditt svar.")).to_be_visible()
    audit(page, watch, "mina anmälningar with a question")
    page.get_by_role("link", name="Läs och svara").click()
    expect(page.get_by_text(question)).to_be_visible()
    audit(page, watch, "a question at mina anmälningar")
    errors_after(page, "Skicka svar")
    audit(page, watch, "a question at mina anmälningar, empty answer")
    # And answers it
    page.get_by_label("Ditt svar").fill(reply)
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.get_by_text("Tack. Ditt svar är skickat till socialtjänsten.")).to_be_visible()
    expect(page.get_by_text(reply)).to_have_count(0)  # sealed to the inbox only
    audit(page, watch, "a question at mina anmälningar, answered")
    page.get_by_role("button", name="Logga ut").click()
    # Another person at the same computer sees nothing of it and cannot open it
    page.context.clear_cookies()
    page.goto("/orosanmalan/mina-anmalningar/")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    _at_the_broker(page, "bertil")
    expect(page.get_by_text("Det finns inga meddelanden till dig.")).to_be_visible()
    expect(page.get_by_text(receipt.reference, exact=False)).to_have_count(0)
    response = page.goto(f"/orosanmalan/mina-anmalningar/fragor/{report_id}")
    assert response is not None and response.status == 404
    expect(page.get_by_text(question)).to_have_count(0)
    page.context.clear_cookies()
    # And the caseworker reads the answer (the next TOTP code: a code is good once)
    sign_in(page, site, CASEWORKER, offset=1)
    page.goto(f"/personal/anmalan/{report_id}")
    expect(page.get_by_text(reply)).to_be_visible()
