"""The coarse triage columns of a report (issue 13 §2): plain, so the inbox lists and filters
them without opening anything (intake.reports.listing never reads a sealed column).

Only coarse, non-identifying categories are kept in the clear, next to the acute flag and the
subject type (the age group) that were plain already:

- reporter_kind: "privat", "yrkesverksam" or "anonym" (a private person who chose anonymity);
- concern_group: the most serious of four coarse groups the reporter's ticked categories fall
  into ("vald" before "omsorg" before "eget" before "annat"). The fine categories stay sealed.

None means "okänd": reports from before the columns until a caseworker opens them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.i18n import lazy_gettext as _l
from intake.reports import choices as c

ANONYMOUS = "anonym"
REPORTER_KINDS = (c.REPORTER_PRIVATE, c.REPORTER_PROFESSIONAL, ANONYMOUS)

VIOLENCE, CARE, OWN, OTHER = "vald", "omsorg", "eget", "annat"
# Most serious first: a report that ticks several groups is listed under the first.
CONCERN_GROUPS = (VIOLENCE, CARE, OWN, OTHER)
_GROUP_OF = {
    "fysiskt_vald": VIOLENCE,
    "psykiskt_vald": VIOLENCE,
    "sexuella_overgrepp": VIOLENCE,
    "hedersrelaterat": VIOLENCE,
    "konsstympning": VIOLENCE,
    "bevittnat_vald": VIOLENCE,
    "kamrater_natet": VIOLENCE,
    "utsatt_for_vald": VIOLENCE,
    "utovar_vald": VIOLENCE,
    "omsorgssvikt": CARE,
    "foralders_problem": CARE,
    "forsummelse": CARE,
    "bostad": CARE,
    "ekonomiskt_utnyttjande": CARE,
    "eget_beteende": OWN,
    "beroende": OWN,
    "psykisk_ohalsa": OWN,
    "annat": OTHER,
}

REPORTER_LABELS = {
    c.REPORTER_PRIVATE: _l("Privat"),
    c.REPORTER_PROFESSIONAL: _l("Yrkesverksam"),
    ANONYMOUS: _l("Anonym"),
}
CONCERN_LABELS = {
    VIOLENCE: _l("Våld eller övergrepp"),
    CARE: _l("Omsorg och livssituation"),
    OWN: _l("Eget beteende eller mående"),
    OTHER: _l("Annat"),
}
AGE_LABELS = {
    c.CHILD: _l("Barn 0–17"),
    c.YOUNG_ADULT: _l("Ung vuxen 18–20"),
    c.ADULT: _l("Vuxen 21–64"),
    c.ELDERLY: _l("Äldre 65+"),
}


def reporter_kind(answers: Mapping[str, Any]) -> str | None:
    """The reporter: "privat", "yrkesverksam" or "anonym"; None when not answered."""
    kind = answers.get("reporter_type")
    if kind == c.REPORTER_PRIVATE and answers.get("anonymous") == c.YES:
        return ANONYMOUS
    return kind if kind in (c.REPORTER_PRIVATE, c.REPORTER_PROFESSIONAL) else None


def concern_group(answers: Mapping[str, Any]) -> str | None:
    """The most serious coarse group among the ticked categories; None when none is ticked."""
    ticked = answers.get("categories")
    groups = {_GROUP_OF.get(str(v), OTHER) for v in ticked} if isinstance(ticked, list) else set()
    return next((group for group in CONCERN_GROUPS if group in groups), None)


def plain_columns(answers: Mapping[str, Any]) -> dict[str, str | None]:
    """The triage columns of a new report, for its row."""
    return {"reporter_kind": reporter_kind(answers), "concern_group": concern_group(answers)}
