"""The only off-site addresses the pages link to: where the law sends residents to complain.

Plain links (a resident's click, sent without a referrer): no page loads anything from
another site. tests/test_security.py allows exactly these.
"""

from __future__ import annotations

# DIGG's complaint function, which the accessibility statement must link to (DIGG, "Skapa en
# tillgänglighetsredogörelse": "Länk till Diggs anmälningsfunktion (https://www.digg.se/tdosanmalan)").
DIGG_COMPLAINT = "https://www.digg.se/tdosanmalan"
# IMY's page for complaints under the GDPR (art. 13.2 d and 77): "Lämna ett klagomål".
IMY_COMPLAINT = "https://www.imy.se/privatperson/utfora-arenden/lamna-ett-klagomal/"

ALL = frozenset({DIGG_COMPLAINT, IMY_COMPLAINT})
