"""The law as data: every legal reference, deadline and list the service uses, dated and cited.

Templates take references from here (``{{ law.cite("sol_20_2") }}``), code from ``cite()`` and
the constants below; ``tests/test_law.py`` fails if a template or Python source names a
paragraph ("N kap. M §") that is not in ``PROVISIONS`` or is not in force today by the clock.

Every entry names the source found with the project's `search` tool. Where a search could not
confirm a fact the entry says so in ``unverified`` and the code takes the most conservative
reading (the one that gives the person concerned the most protection / the caseworker the
earliest deadline). Verify those with the municipality's lawyer before relying on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import get_locale

# The request's translations found once (intake.i18n): the list of mandated reporters is
# on the first page of every journey, ten strings through Flask-Babel's slower path.
from intake.i18n import gettext as _
from intake.i18n import lazy_gettext as _l

__all__ = [
    "ACUTE_AS_ACUTE",
    "CHILD_RULES_SUBJECTS",
    "FEEDBACK_SUBJECTS",
    "FEEDBACK_WORKING_DAYS",
    "FORHANDSBEDOMNING_DAYS",
    "LINKABLE_SUBJECTS",
    "PROVISIONS",
    "REGISTRATION_WORKING_DAYS",
    "Provision",
    "channel_reminder",
    "cite",
    "feedback_allowed",
    "feedback_requested",
    "in_force",
    "mandated_reporters",
    "provision",
]


@dataclass(frozen=True)
class Provision:
    """One provision (or a proposition where no paragraph could be found), dated and cited."""

    id: str
    law: str  # e.g. "SoL (2025:400)"
    place: str  # the chapter and section as shown, e.g. "20 kap. 2 §"; "" when not known
    sv: str
    en: str
    source: str
    valid_from: date
    valid_to: date | None = None
    unverified: str = ""

    def text(self) -> str:
        """The reference as shown to people, e.g. "20 kap. 2 § socialtjänstlagen (2025:400)";
        on an English page "Chapter 20, Section 2 of the Social Services Act (2025:400)"."""
        if _english():
            return _in_english(self.place, self.law)
        return f"{self.place} {self.law}".strip()

    def valid_on(self, day: date) -> bool:
        """Whether the provision is in force on the given day."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


# The names the Government Offices use in English translations of Swedish acts; a reference on
# an English page reads "Chapter 26, Section 1 of the Public Access to Information and Secrecy
# Act (2009:400)". Only the presentation changes, never which provision is meant.
_ENGLISH_NAMES = {
    "socialtjänstlagen": "the Social Services Act",
    "offentlighets- och sekretesslagen": "the Public Access to Information and Secrecy Act",
    "lagen om elektronisk kommunikation": "the Electronic Communications Act",
    "dataskyddslagen": "the Data Protection Act",
    "prop.": "Government Bill",
}
_PLACE = re.compile(r"^(\d+) kap\. (\d+(?: [a-z])?) §$")
_SFS = re.compile(r"\s*\((\d{4}:\d+)\)")


def _english() -> bool:
    """Whether the page being rendered is in English (False outside a request)."""
    try:
        locale = get_locale()
    except RuntimeError:
        return False
    return locale is not None and locale.language == "en"


def _in_english(place: str, law: str) -> str:
    """ "20 kap. 2 §" + "socialtjänstlagen (2025:400)" in the English form (see _ENGLISH_NAMES)."""
    number = _SFS.search(law)
    name = _SFS.sub("", law).strip()
    if name.startswith("prop. "):
        return f"{_ENGLISH_NAMES['prop.']} {name.removeprefix('prop. ')}"
    english = _ENGLISH_NAMES.get(name, law)
    if english != law and number:
        english = f"{english} ({number.group(1)})"
    found = _PLACE.match(place)
    if not found:
        return english
    return f"Chapter {found.group(1)}, Section {found.group(2)} of {english}"


# The new Socialtjänstlag replaced SoL (2001:453) on 2025-07-01: prop. 2024/25:89 ("Lagförslagen
# föreslås träda i kraft den 1 juli 2025", https://lagen.nu/prop/2024/25:89), adopted by the
# riksdag (bet. 2024/25:SoU23, https://partiguiden.nu/dokument/HC01SoU23).
SOL_2025_IN_FORCE = date(2025, 7, 1)
SOL_2001_LAST_DAY = date(2025, 6, 30)
# Prop. 2025/26:12 "Stärkt skydd för barn som riskerar att fara illa" (11 September 2025,
# http://data.riksdagen.se/dokument/HD0312.html). The review behind issue 11 reported it in
# force on 2026-01-15; the search could not confirm the riksdag's decision or that date.
PROP_2025_26_12_IN_FORCE = date(2026, 1, 15)

_SFS_2025_400 = "https://data.riksdagen.se/dokument/sfs-2025-400"
_PROP_2025_26_12 = "http://data.riksdagen.se/dokument/HD0312.html"
_PARAGRAPH_UNVERIFIED = (
    "Paragraph number as read by the 2026-12-02 review at data.riksdagen.se sfs-2025-400 "
    "(anchor K20P2); the search tool found only the in-force date, not the act's text."
)

PROVISIONS: dict[str, Provision] = {
    p.id: p
    for p in (
        Provision(
            id="sol_20_1",
            law="socialtjänstlagen (2025:400)",
            place="20 kap. 1 §",
            sv="Omedelbar skyddsbedömning när en anmälan rör barn eller unga.",
            en="Immediate protection assessment when a report concerns children or young people.",
            source=f"{_SFS_2025_400}#K20P1",
            valid_from=SOL_2025_IN_FORCE,
            unverified=_PARAGRAPH_UNVERIFIED,
        ),
        Provision(
            id="sol_20_2",
            law="socialtjänstlagen (2025:400)",
            place="20 kap. 2 §",
            sv="Beslut om att inleda utredning inom 14 dagar (barn eller unga), om inte synnerliga"
            " skäl finns.",
            en="Decision whether to open an investigation within 14 days (children or young"
            " people), unless there are exceptional reasons.",
            source=f"{_SFS_2025_400}#K20P2",
            valid_from=SOL_2025_IN_FORCE,
            unverified=_PARAGRAPH_UNVERIFIED,
        ),
        Provision(
            id="sol_anmalningsskyldighet",
            law="socialtjänstlagen (2025:400)",
            place="",
            sv="Myndigheter, anställda och yrkesverksamma ska genast anmäla till socialnämnden om"
            " de i sin verksamhet får kännedom om eller misstänker att ett barn far illa.",
            en="Authorities, their staff and professionals must report at once to the social"
            " welfare committee if in their work they learn of or suspect that a child is harmed.",
            source=_PROP_2025_26_12,
            valid_from=SOL_2025_IN_FORCE,
            unverified="The paragraph in SFS 2025:400 was not found (old law: 14 kap. 1 § SoL"
            " 2001:453); cited without a paragraph.",
        ),
        Provision(
            id="prop_2025_26_12_aterkoppling",
            law="prop. 2025/26:12",
            place="",
            sv="Socialnämndens återkoppling till anmälningsskyldiga ska ske inom en viss tid.",
            en="The committee's feedback to mandated reporters must be given within a set time.",
            source=_PROP_2025_26_12,
            valid_from=PROP_2025_26_12_IN_FORCE,
            unverified="Time limit, paragraph and in-force date not confirmed by the search; see"
            " FEEDBACK_WORKING_DAYS for the conservative reading used.",
        ),
        Provision(
            id="prop_2024_25_89_sokbara",
            law="prop. 2024/25:89",
            place="",
            sv="Orosanmälningar om barn blir sökbara.",
            en="Reports of concern about children become searchable.",
            source="https://lagen.nu/prop/2024/25:89",
            valid_from=SOL_2025_IN_FORCE,
        ),
        Provision(
            id="osl_26_1",
            law="offentlighets- och sekretesslagen (2009:400)",
            place="26 kap. 1 §",
            sv="Sekretess inom socialtjänsten för uppgift om enskilds personliga förhållanden"
            " (omvänt skaderekvisit).",
            en="Secrecy in the social services for information about a person's private"
            " circumstances (presumption of secrecy).",
            source="https://lawline.se/answers/skaderekvisit-i-sekretessbestammelser",
            # OSL (2009:400) in force 2009-06-30: general knowledge, not confirmed by the search.
            valid_from=date(2009, 6, 30),
        ),
        Provision(
            id="osl_5_1",
            law="offentlighets- och sekretesslagen (2009:400)",
            place="5 kap. 1 §",
            sv="Allmänna handlingar ska registreras när de har kommit in eller upprättats.",
            en="Official documents must be registered when received or drawn up.",
            source="https://fojo.se/offentlighetsjouren/offentlighetsprincipen",
            valid_from=date(2009, 6, 30),
            unverified="The wording 'utan dröjsmål' was not found in the searched text; the"
            " reminder uses the strictest reading (next working day).",
        ),
        # The information pages (templates/cookies.html, templates/privacy.html).
        Provision(
            id="lek_9_28",
            law="lagen (2022:482) om elektronisk kommunikation",
            place="9 kap. 28 §",
            sv="Kakor: information och samtycke, utom för det som behövs för tjänsten.",
            en="Cookies: information and consent, except what the service needs to work.",
            # In force 2022-06-03 (Regeringskansliets rättsdatabaser, SFS 2022:482,
            # http://rkrattsbaser.gov.se/sfst?bet%25u2009=%25u20092009%3A600&page=17&post_id=320;
            # https://www.cederquist.se/sv/artiklar/ny-lag-om-elektronisk-kommunikation-
            # implementerar-kodexen-i-sverige-cG9zdDozMjM3/).
            source="https://webbriktlinjer.se/lagkrav/kaklagen-i-praktiken/",
            valid_from=date(2022, 6, 3),
            unverified="The paragraph number (the former 6 kap. 18 § LEK 2003:389) was not found "
            "in the searched text of SFS 2022:482; the in-force date was.",
        ),
        Provision(
            id="dsl_3_3",
            law="dataskyddslagen (2018:218)",
            place="3 kap. 3 §",
            sv="Myndigheters behandling av känsliga personuppgifter av viktigt allmänt intresse.",
            en="Processing of sensitive personal data by public authorities in the substantial "
            "public interest.",
            # Prop. 2017/18:105 Ny dataskyddslag: in force 2018-05-25
            # (https://rkrattsbaser.gov.se/prop?page=57&post_id=1470).
            source="https://rkrattsbaser.gov.se/prop?page=57&post_id=1470",
            valid_from=date(2018, 5, 25),
            unverified="The paragraph number was not found in the searched text; the law and its "
            "in-force date were.",
        ),
        # Replaced provisions, kept dated so that old references are recognised as stale.
        Provision(
            id="sol2001_11_1a",
            law="socialtjänstlagen (2001:453)",
            place="11 kap. 1 a §",
            sv="Skyddsbedömning och förhandsbedömning inom 14 dagar (upphävd).",
            en="Protection assessment and 14-day preliminary assessment (repealed).",
            source="http://www.hedersfortryck.se/yrkesverksamma/socialtjansten/anmalan-och-"
            "ansokan-till-socialtjansten/forhandsbedomning-och-skyddsbedomning/",
            valid_from=date(2013, 1, 1),
            valid_to=SOL_2001_LAST_DAY,
        ),
        Provision(
            id="sol2001_14_1b",
            law="socialtjänstlagen (2001:453)",
            place="14 kap. 1 b §",
            sv="Nämnden får lämna uppgift till anmälningsskyldig anmälare (upphävd).",
            en="The committee may inform a mandated reporter (repealed).",
            source="https://docplayer.se/amp/142205667-Offentlighet-och-sekretess-inom-"
            "socialtjansten.html",
            valid_from=date(2013, 1, 1),
            valid_to=SOL_2001_LAST_DAY,
        ),
    )
}

# Deadlines.
# 20 kap. 2 § SoL (2025:400): 14 days from receipt (the law counts calendar days).
FORHANDSBEDOMNING_DAYS = 14
# OSL 5 kap. 1 §: registration when received; reminder due the next working day after receipt.
REGISTRATION_WORKING_DAYS = 1
# Prop. 2025/26:12: återkoppling "inom en viss tid". The search could not find the length, so
# the conservative reading is used: due the first working day after the decision is recorded.
FEEDBACK_WORKING_DAYS = 1

# Scope. sol_20_1 and sol_20_2 speak of "barn eller unga" (as sol2001_11_1a did); young adults of
# 18–20 are within "unga" for LVU (3 §) and Helsingborg's remiss (research note [S14]) calls
# their handling unregulated, so the conservative reading applies the child deadlines to them.
CHILD_RULES_SUBJECTS = frozenset({"barn", "ung_vuxen"})
# The duty to report and återkoppling concern "ett barn" (under 18): only children.
FEEDBACK_SUBJECTS = frozenset({"barn"})
# Prop. 2024/25:89 makes reports about children searchable; no basis found for adults.
LINKABLE_SUBJECTS = frozenset({"barn"})
# "Vet inte" to the acute question sorts with the acute reports (never shown as "Nej").
ACUTE_AS_ACUTE = frozenset({"ja", "vet_ej"})


@dataclass(frozen=True)
class MandatedReporter:
    """One group with a duty to report concern for a child, dated."""

    sv: str
    valid_from: date
    source: str


_KUNSKAPSGUIDEN = (
    "https://kunskapsguiden.se/omraden-och-teman/vald-och-fortryck/vald-i-nara-relationer/"
    "skyldighet-att-anmala/"
)
MANDATED_REPORTERS: tuple[MandatedReporter, ...] = (
    MandatedReporter(_l("skola och förskola"), SOL_2025_IN_FORCE, _KUNSKAPSGUIDEN),
    MandatedReporter(_l("hälso- och sjukvård"), SOL_2025_IN_FORCE, _KUNSKAPSGUIDEN),
    MandatedReporter(_l("tandvård"), SOL_2025_IN_FORCE, _KUNSKAPSGUIDEN),
    MandatedReporter(_l("socialtjänst"), SOL_2025_IN_FORCE, _KUNSKAPSGUIDEN),
    MandatedReporter(_l("polis"), SOL_2025_IN_FORCE, "https://5dok.org/document/yr38v75o"),
    MandatedReporter(_l("kriminalvård"), SOL_2025_IN_FORCE, "https://5dok.org/document/yr38v75o"),
    MandatedReporter(_l("HVB och fristående skolor"), SOL_2025_IN_FORCE, _KUNSKAPSGUIDEN),
    # Prop. 2025/26:12: "fler myndigheter ... och ordningsvakter"; which authorities was not
    # confirmed by the search (the review named Arbetsförmedlingen, Försäkringskassan,
    # Kronofogden, Kustbevakningen, länsstyrelserna, Skatteverket and Tullverket).
    MandatedReporter(_l("fler statliga myndigheter"), PROP_2025_26_12_IN_FORCE, _PROP_2025_26_12),
    MandatedReporter(_l("ordningsvakter"), PROP_2025_26_12_IN_FORCE, _PROP_2025_26_12),
)


def today() -> date:
    """Today's date in Stockholm by the project clock."""
    from intake import clock  # clock imports this module for its constants

    return clock.local_date(clock.now())


def provision(key: str) -> Provision:
    """The provision with this id; KeyError for an unknown one."""
    return PROVISIONS[key]


def in_force(key: str, day: date | None = None) -> bool:
    """Whether the provision is in force on the day (today by default)."""
    return PROVISIONS[key].valid_on(day or today())


def cite(key: str) -> str:
    """The reference as shown, for a provision in force today; ValueError for a stale one."""
    found = PROVISIONS[key]
    if not found.valid_on(today()):
        raise ValueError(f"{key} is not in force on {today()}")
    return found.text()


def channel_reminder() -> str:
    """The fixed reminder shown before a caseworker writes to a reporter (osl_26_1)."""
    # The secrecy is that of osl_26_1 (source above); what follows from it for a question to
    # the reporter (ask only, tell nothing about the handling or other people) is the practice
    # the caseworkers follow, not a quoted paragraph.
    return str(
        _(
            "Uppgifter om enskildas personliga förhållanden inom socialtjänsten omfattas av"
            " sekretess enligt %(law)s. Ställ bara din fråga: skriv inget om utredningen,"
            " beslut, andra anmälningar eller andra personer.",
            law=cite("osl_26_1"),
        )
    )


def feedback_allowed(answers: Mapping[str, Any]) -> bool:
    """Whether återkoppling may be offered: a mandated (professional) reporter, about a child."""
    return (
        answers.get("reporter_type") == "yrkesverksam"
        and answers.get("subject_type") in FEEDBACK_SUBJECTS
    )


def feedback_requested(answers: Mapping[str, Any]) -> bool:
    """A mandated reporter asked for återkoppling about a child and gave an e-mail address."""
    return (
        feedback_allowed(answers)
        and answers.get("wants_feedback") == "ja"
        and bool(answers.get("reporter_email"))
    )


def mandated_reporters(day: date | None = None) -> list[str]:
    """The groups with a duty to report on the day (today by default), as Swedish text."""
    on = day or today()
    return [str(group.sv) for group in MANDATED_REPORTERS if group.valid_from <= on]


def mandated_reporters_text(day: date | None = None) -> str:
    """The groups as one readable Swedish list: "a, b och c"."""
    groups = mandated_reporters(day)
    return _join(groups)


def _join(items: Iterable[str]) -> str:
    listed = list(items)
    if len(listed) < 2:
        return "".join(listed)
    return str(_("%(first)s och %(last)s", first=", ".join(listed[:-1]), last=listed[-1]))
