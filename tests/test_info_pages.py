"""What a Swedish public e-service must tell: the accessibility statement (DIGG's model), the
privacy information per service (GDPR art. 13/14) with the real retention from the recorded
gallringsbeslut, the cookie note, and the installation facts in Swedish and English."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import accessibility, gallring
from intake.config import ConfigError

from .gallring_helpers import decide

PAGES = ("/", "/tillganglighet", "/personuppgifter", "/kakor", "/orosanmalan/", "/dialoger/")


def page(client: FlaskClient, path: str, language: str = "sv") -> str:
    """A page's visible text (tags stripped, entities decoded) in a language."""
    client.get(f"/sprak/{language}?next=/")
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data(as_text=True)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def raw(client: FlaskClient, path: str) -> str:
    """A page's HTML."""
    response = client.get(path)
    assert response.status_code == 200, path
    return str(response.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_links_the_three_notices_in_the_footer(client: FlaskClient, path: str) -> None:
    footer = raw(client, path).split('class="site-footer"')[1]
    for target in ("/personuppgifter", "/tillganglighet", "/kakor"):
        assert f'href="{target}"' in footer


# --- The accessibility statement ------------------------------------------------------------


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_accessibility_statement_has_every_element_of_diggs_model(
    client: FlaskClient, language: str
) -> None:
    text = page(client, "/tillganglighet", language)
    body = raw(client, "/tillganglighet")
    # The actor and the service
    assert ("Älvsbyns kommun" if language == "sv" else "Älvsbyn Municipality") in text
    # Compliance, in DIGG's wording
    assert accessibility.compliance() == "delvis"
    assert "delvis förenlig" in text or "partially compliant" in text
    # Every known shortcoming, from the one list
    assert len(accessibility.shortcomings()) >= 1
    for item in accessibility.shortcomings():
        assert str(item)[:40] in text or language == "en"
    # How it was assessed: axe-core, reflow at 320 px, keyboard; self-assessment
    assert "axe-core" in text and "320" in text
    # Dates of assessment and of update
    assert accessibility.ASSESSED_ON.isoformat() in text
    assert accessibility.UPDATED_ON.isoformat() in text
    # How to report a problem (address from config) and DIGG's complaint form
    assert 'href="mailto:kommun@alvsbyn.se"' in body
    assert f'href="{accessibility.DIGG_COMPLAINT_URL}"' in body
    assert accessibility.DIGG_COMPLAINT_URL == "https://www.digg.se/tdosanmalan"


def test_the_statement_covers_every_public_page(app: Flask) -> None:
    # Every GET page outside /personal that takes no argument is in the tested list
    public = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and not rule.rule.startswith(("/personal", "/static", "/sprak", "/lamna"))
        and rule.endpoint not in {"reports.receipt", "reports.check", "promise.report_csv"}
        # Not pages: a monitor's probes (text/JSON) and the broker's redirect back, which only
        # ever answers with a redirect or one of the e-legitimation pages (audited there).
        and not rule.endpoint.startswith(("health.", "eid."))
        and rule.endpoint != "mine.back"
        # Not pages either: the icon and the logo (images; tests/test_site_assets.py)
        and rule.endpoint not in {"site.favicon", "site.municipal_logo"}
    }
    missing = {path for path in public if path not in accessibility.PUBLIC_PAGES}
    assert missing <= {"/orosanmalan/kvitto", "/orosanmalan/granska"}, missing


# --- Privacy, per service -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_privacy_page_has_every_element_per_service(client: FlaskClient, language: str) -> None:
    text = page(client, "/personuppgifter", language)
    body = raw(client, "/personuppgifter")
    # Two services, each with its own section and controller
    assert 'id="orosanmalan"' in body and 'id="dialoger"' in body and 'id="rattigheter"' in body
    if language == "sv":
        assert "Socialnämnden i Älvsbyns kommun" in text
        assert "Kommunstyrelsen i Älvsbyns kommun" in text
        # Legal bases: art. 6.1 e, 9.2 h (reports), 9.2 g and DSL 3:3 (the needs field)
        for basis in ("artikel 6.1 e", "artikel 9.2 h", "artikel 9.2 g", "3 kap. 3 §"):
            assert basis in text
        # Recipients, rights including restriction and objection
        assert "Arrangörerna av dialogen" in text and "Bara handläggare" in text
        for right in ("artikel 15", "artikel 16", "artikel 17", "artikel 18", "artikel 21"):
            assert right in text
    else:
        assert "The Social Welfare Committee of Älvsbyn Municipality" in text
        assert "The Municipal Executive Board of Älvsbyn Municipality" in text
    # The DPO and IMY
    assert 'href="mailto:dataskyddsombud@alvsbyn.se"' in body
    assert 'href="https://www.imy.se/privatperson/utfora-arenden/lamna-ett-klagomal/"' in body


def test_without_a_decision_the_privacy_page_claims_no_deletion(client: FlaskClient) -> None:
    text = page(client, "/personuppgifter")
    assert text.count("Inget gallringsbeslut är registrerat ännu") == 3
    assert "raderas härifrån" not in text and "raderas 30 dagar" not in text
    # The old claim the code never kept
    assert "När anmälan har registrerats i socialtjänstens verksamhetssystem raderas den" not in (
        text
    )


def test_the_privacy_page_states_the_retention_of_the_recorded_decisions(
    app: Flask, client: FlaskClient
) -> None:
    decide(app, gallring.REPORT_CONTENT, days=90, reference="SN 2026/7")
    decide(app, gallring.DIALOGUE_REGISTRATIONS, days=30, reference="KS 2026/3")
    text = page(client, "/personuppgifter")
    assert "raderas härifrån 90 dagar efter registreringen" in text
    assert "aldrig tidigare än 90 dagar efter att anmälan kom in (gallringsbeslut SN 2026/7)" in (
        text
    )
    assert "raderas 30 dagar efter dialogen (gallringsbeslut KS 2026/3)" in text
    # The class without a decision still says so
    assert "Inget gallringsbeslut är registrerat ännu för frågor" in text


@pytest.mark.parametrize("path", ["/orosanmalan/", "/dialoger/"])
def test_each_service_links_its_privacy_notice(client: FlaskClient, path: str) -> None:
    assert 'href="/personuppgifter"' in raw(client, path)


# --- Cookies --------------------------------------------------------------------------------


def test_the_cookie_note_names_the_one_cookie_why_and_how_long(client: FlaskClient) -> None:
    text = page(client, "/kakor")
    assert "intake_session" in text
    assert "inte om samtycke" in text and "behövs för att tjänsten" in text
    assert "Tills du stänger webbläsaren" in text and "högst 2 timmar" in text


def test_the_site_sets_no_cookie_the_note_does_not_name(client: FlaskClient) -> None:
    for path in PAGES:
        client.get(path)
    client.get("/sprak/en?next=/")
    names = {cookie.key for cookie in client._cookies.values()}
    assert names <= {"intake_session"}


# --- Installation facts ---------------------------------------------------------------------

SWEDISH_FACTS = (
    "Älvsbyns kommun",
    "måndag–fredag",
    "kvällar, nätter och helger",
    "Socialnämnden i",
    "Kommunstyrelsen i",
)


@pytest.mark.parametrize("path", PAGES)
def test_english_pages_show_no_swedish_installation_text(client: FlaskClient, path: str) -> None:
    text = page(client, path, "en")
    assert [fact for fact in SWEDISH_FACTS if fact in text] == []


def test_the_installation_facts_come_from_config_in_both_languages(make_app: Any) -> None:
    custom = {
        "municipality": {"sv": "Arvidsjaurs kommun", "en": "Arvidsjaur Municipality"},
        "accessibility_contact": "tillganglighet@arvidsjaur.invalid",
        "dialogue_controllers": [
            {"sv": "Kommunstyrelsen i Arvidsjaur", "en": "Arvidsjaur Executive Board"},
            {"sv": "Polismyndigheten", "en": "The Swedish Police Authority"},
        ],
    }
    app = make_app(INSTALLATION=custom, SOCIALTJANST_PHONE="0960-155 00")
    client = app.test_client()
    sv, en = page(client, "/personuppgifter"), page(client, "/personuppgifter", "en")
    assert "Polismyndigheten" in sv and "The Swedish Police Authority" in en
    assert "Polismyndigheten" not in en
    assert "Arvidsjaur Municipality" in page(client, "/", "en")
    assert "0960-155 00" in page(client, "/orosanmalan/")
    assert "tillganglighet@arvidsjaur.invalid" in page(client, "/tillganglighet")


@pytest.mark.parametrize(
    "config",
    [
        {"INSTALLATION": {"municipality": {"sv": "Piteå kommun"}}},
        {"INSTALLATION": {"socialtjanst_hours": "vardagar 8–16"}},
        {"INSTALLATION": {"dialogue_controllers": []}},
        {"MUNICIPALITY": "Piteå kommun"},  # an older single key: Swedish only
    ],
)
def test_a_text_without_english_stops_the_service(make_app: Any, config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make_app(**config)
