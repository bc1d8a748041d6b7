"""Linking reports about the same person without a searchable personnummer.

Design: each installation has one random *linking key*. It is never stored in the clear: it
travels inside every inbox secret (sealed to each member, and wrapped under the recovery
code), next to the inbox's private key. When a member opens a report, the server — holding
the member's unlocked inbox secret for that request only — computes

    tag = HMAC-SHA256(linking key, "intake:link:v1:" + canonical personnummer)

and stores it on the report. Earlier reports with the same tag, in inboxes the user can read,
are shown as linked. A copy of the database plus the server's configuration (secret key,
application keys) holds tags but not the linking key, so it cannot compute the tag of a given
personnummer and cannot confirm whether that person was reported. Reports get their tag when
first opened; until then they are not linkable.

Legal basis and scope: prop. 2024/25:89 (law.cite("prop_2024_25_89_sokbara"), "medför att
orosanmälningar om barn blir sökbara") is the basis for linking reports about children. No
basis was found for making reports about adults (or young adults of 18–20) searchable by
personnummer, so they get no tag and are never shown as linked: `allowed` decides, from
intake.law.LINKABLE_SUBJECTS. A report whose subject type is not known yet is not tagged.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from intake import law
from intake.reports.identity import IdentityNumberError, parse_identity_number


def allowed(subject_type: str | None) -> bool:
    """Whether reports about this subject type may be linked (children only; see above)."""
    return subject_type in law.LINKABLE_SUBJECTS


def tag_for(identity_text: str | None, link_key: bytes, *, today: date) -> str | None:
    """The blind index of a personnummer or samordningsnummer, or None if there is none."""
    if not identity_text:
        return None
    try:
        number = parse_identity_number(identity_text, today=today)
    except IdentityNumberError:
        return None
    message = f"intake:link:v1:{number.canonical()}".encode()
    return hmac.new(link_key, message, hashlib.sha256).hexdigest()
