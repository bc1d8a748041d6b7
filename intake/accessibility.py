"""The accessibility statement's facts (tillgänglighetsredogörelse, lag (2018:1937) om
tillgänglighet till digital offentlig service), in one place that the page and the tests read.

What the statement must hold, per DIGG's model ("Skapa en tillgänglighetsredogörelse",
https://www.digg.se/kunskap-och-stod/digital-tillganglighet/skapa-en-tillganglighetsredogorelse):
the actor's and the service's names; compliance as "helt förenlig", "delvis förenlig" or "inte
förenlig"; a list of what is not accessible and why; the date of assessment and of the latest
update; the evaluation method; a way to report problems; the link to DIGG's complaint function
(https://www.digg.se/tdosanmalan).

Keep it true: PUBLIC_PAGES is the list tests/browser/test_info_pages.py runs axe and the reflow
check on (a test fails if a public page is missing); a shortcoming found and not fixed goes into
SHORTCOMINGS, and with any shortcoming the status is "delvis förenlig".
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from intake import outbound

DIGG_COMPLAINT_URL = outbound.DIGG_COMPLAINT
ASSESSED_ON = date(2026, 12, 2)
UPDATED_ON = date(2026, 12, 2)

# Every public page; the browser tests audit each with axe-core (WCAG 2.1 A/AA) in Swedish and
# English, and check reflow at 320 CSS pixels (WCAG 1.4.10).
PUBLIC_PAGES = (
    "/",
    "/orosanmalan/",
    "/orosanmalan/radera-svar",
    "/orosanmalan/uppfoljning/",
    "/orosanmalan/mina-anmalningar/",
    "/dialoger/",
    "/medborgarloftet/",
    "/tillganglighet",
    "/personuppgifter",
    "/kakor",
)

SHORTCOMINGS = (
    _l(
        "Webbplatsen har inte granskats manuellt av en oberoende part mot alla krav i "
        "EN 301 549. Automatiska tester hittar bara en del av alla brister, så det kan finnas "
        "brister som vi inte känner till."
    ),
    _l(
        "Personalens formulär använder webbläsarens datumväljare. Hur väl den fungerar med "
        "skärmläsare beror på webbläsaren; datumet kan alltid skrivas in som ÅÅÅÅ-MM-DD."
    ),
)

# Public pages known to need sideways scrolling at 320 px (WCAG 1.4.10), each with the
# shortcoming the statement lists. The reflow test expects exactly these to fail: fix a page
# and the test fails until its entry goes, so the statement stays true.
REFLOW_SHORTCOMINGS: dict[str, object] = {}

COMPLIANCE = {
    "helt": _l("helt förenlig"),
    "delvis": _l("delvis förenlig"),
    "inte": _l("inte förenlig"),
}


def shortcomings() -> list[object]:
    """Every known shortcoming the statement lists."""
    return [*SHORTCOMINGS, *REFLOW_SHORTCOMINGS.values()]


def compliance() -> str:
    """The status the statement gives: partly compliant while any shortcoming is listed."""
    return "delvis" if shortcomings() else "helt"
