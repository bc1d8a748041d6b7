"""The answer options of the orosanmälan form, with their Swedish labels (translated lazily)."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from intake.i18n import lazy_gettext as _l

REPORTER_PRIVATE = "privat"
REPORTER_PROFESSIONAL = "yrkesverksam"
REPORTER_TYPES = [
    SelectChoice(REPORTER_PRIVATE, _l("Privatperson, till exempel släkting, granne eller vän")),
    SelectChoice(
        REPORTER_PROFESSIONAL, _l("Yrkesverksam i tjänsten, till exempel i skola, vård eller polis")
    ),
]

YES, NO, UNKNOWN = "ja", "nej", "vet_ej"
ANONYMITY = [
    SelectChoice(YES, _l("Ja, jag vill vara anonym")),
    SelectChoice(NO, _l("Nej, jag lämnar mitt namn och hur ni når mig")),
]
YES_NO = [SelectChoice(YES, _l("Ja")), SelectChoice(NO, _l("Nej"))]
YES_NO_UNKNOWN = [
    SelectChoice(YES, _l("Ja")),
    SelectChoice(NO, _l("Nej")),
    SelectChoice(UNKNOWN, _l("Vet inte")),
]

CHILD, YOUNG_ADULT, ADULT, ELDERLY = "barn", "ung_vuxen", "vuxen", "aldre"
SUBJECT_TYPES = [
    SelectChoice(CHILD, _l("Ett barn, 0–17 år")),
    SelectChoice(YOUNG_ADULT, _l("En ung vuxen, 18–20 år")),
    SelectChoice(ADULT, _l("En vuxen, 21–64 år")),
    SelectChoice(ELDERLY, _l("En äldre person, 65 år eller äldre")),
]
# Guardians, school and other children are asked about for these subjects only.
YOUNG = {CHILD, YOUNG_ADULT}
AGE_RANGES = {CHILD: (0, 17), YOUNG_ADULT: (18, 20), ADULT: (21, 64), ELDERLY: (65, 130)}

SEEN_OR_HEARD = [
    SelectChoice("sjalv", _l("Jag har sett eller hört det själv")),
    SelectChoice("andra", _l("Andra har berättat det för mig")),
    SelectChoice("bada", _l("Både och")),
]

CHILD_CONCERNS = [
    SelectChoice("fysiskt_vald", _l("Fysiskt våld")),
    SelectChoice("psykiskt_vald", _l("Psykiskt våld eller hot")),
    SelectChoice("sexuella_overgrepp", _l("Sexuella övergrepp, ofredande eller grooming")),
    SelectChoice("hedersrelaterat", _l("Hedersrelaterat våld och förtryck")),
    SelectChoice("konsstympning", _l("Könsstympning")),
    SelectChoice("omsorgssvikt", _l("Omsorgssvikt eller försummelse, även av tandvård")),
    SelectChoice("bevittnat_vald", _l("Barnet har upplevt våld mellan vuxna")),
    SelectChoice("foralders_problem", _l("Förälderns missbruk, psykiska ohälsa eller sjukdom")),
    SelectChoice("eget_beteende", _l("Barnets eget beteende: missbruk, självskada, kriminalitet")),
    SelectChoice("kamrater_natet", _l("Hot, våld eller utnyttjande från jämnåriga eller på nätet")),
    SelectChoice("annat", _l("Annat")),
]
ADULT_CONCERNS = [
    SelectChoice("beroende", _l("Beroende av alkohol, droger, spel eller läkemedel")),
    SelectChoice("utsatt_for_vald", _l("Utsatt för våld, kränkningar eller hedersförtryck")),
    SelectChoice("utovar_vald", _l("Utövar våld i en nära relation")),
    SelectChoice("psykisk_ohalsa", _l("Psykisk ohälsa")),
    SelectChoice("bostad", _l("Behöver stöd i bostaden eller saknar bostad")),
    SelectChoice("forsummelse", _l("Klarar inte sin vardag, försummelse")),
    SelectChoice("ekonomiskt_utnyttjande", _l("Utnyttjas ekonomiskt")),
    SelectChoice("annat", _l("Annat")),
]


def concerns_for(subject_type: str | None) -> list[SelectChoice]:
    """The concern categories shown for a subject type."""
    return CHILD_CONCERNS if subject_type in YOUNG or subject_type is None else ADULT_CONCERNS


def label_of(choices: list[SelectChoice], value: str) -> str:
    """The label of one option, or the value itself when unknown."""
    return next((str(choice.label) for choice in choices if choice.value == value), value)
