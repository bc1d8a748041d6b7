"""What an anonymous reporter may see of their report's handling: three coarse states.

The internal handling states (`handling.STATUSES`) say more than the reporter may know: whether
an investigation was opened is covered by secrecy (law.cite("osl_26_1")). The public states are
chosen so that none can be misread as "nothing more will happen" — the old word "Avslutad"
read that way right after an investigation had been opened. One table maps internal to public;
each public state says in plain Swedish what it does and does not mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from intake.reports.handling import ASSESSED, DECIDED, PURGED, RECEIVED, REGISTERED


@dataclass(frozen=True)
class PublicStatus:
    """A coarse state as the reporter sees it."""

    key: str
    label: LazyString
    means: LazyString
    does_not_mean: LazyString


MOTTAGEN = PublicStatus(
    "mottagen",
    _l("Mottagen"),
    _l("Anmälan har kommit fram till socialtjänsten."),
    _l("Det betyder inte att någon har hunnit läsa den ännu. Den läses vardagar på kontorstid."),
)
BEDOMS = PublicStatus(
    "bedoms",
    _l("Bedöms"),
    _l("Socialtjänsten har läst anmälan och bedömer vad som behöver göras."),
    _l("Det säger inget om vad bedömningen kommer fram till."),
)
FARDIG = PublicStatus(
    "fardig",
    _l("Färdigbehandlad i e-tjänsten"),
    _l(
        "Socialtjänsten har gjort sin bedömning av anmälan. Arbetet med den fortsätter inte "
        "här i e-tjänsten."
    ),
    _l(
        "Det betyder inte att ärendet är avslutat eller att inget görs. Om socialtjänsten "
        "har inlett en utredning eller inte omfattas av sekretess och visas inte här."
    ),
)

PUBLIC_STATES = (MOTTAGEN, BEDOMS, FARDIG)

# Internal handling state -> what the reporter sees. Every internal state has a row
# (a test checks); a purged report is never shown, but maps safely all the same.
BY_STATUS: dict[str, PublicStatus] = {
    RECEIVED: MOTTAGEN,
    ASSESSED: BEDOMS,
    DECIDED: FARDIG,
    REGISTERED: FARDIG,
    PURGED: FARDIG,
}


def public_status(status: str) -> PublicStatus:
    """The coarse public state of an internal one (an unknown one: still being assessed)."""
    return BY_STATUS.get(status, BEDOMS)
