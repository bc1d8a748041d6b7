"""The report's answers as the caseworker reads them: under the caseworker's own headings
(Akut, Anmälare, Barnet or Personen, Vårdnadshavare, Oro) with short labels, instead of the
resident's steps and questions (intake.reports.journey asks those)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from intake.reports import choices as c
from intake.reports.journey import Row, Section

_GUARDIAN_PARTS = {
    "name": _l("namn"),
    "identity": _l("personnummer eller födelsedatum"),
    "address": _l("adress"),
    "phone": _l("telefon"),
    "interpreter": _l("tolkbehov"),
    "language": _l("språk"),
}

# Each heading's fields, in the order shown, with the caseworker's label for each.
_ACUTE = {
    "acute_danger": _l("Akut fara enligt anmälaren"),
    "acute_how": _l("Beskrivning av faran"),
    "where_now": _l("Var personen är nu"),
}
_REPORTER = {
    "reporter_type": _l("Anmäler som"),
    "anonymous": _l("Anonym"),
    "reporter_name": _l("Namn"),
    "reporter_phone": _l("Telefon"),
    "reporter_email": _l("E-post"),
    "relationship": _l("Relation till personen"),
    "workplace": _l("Arbetsplats eller verksamhet"),
    "role": _l("Yrkesroll"),
    "information_received_by": _l("Informationen mottogs av"),
    "information_received_on": _l("Informationen mottogs"),
    "informed_family": _l("Har berättat för barnet eller vårdnadshavarna"),
    "willing_to_meet": _l("Kan delta i möte med familjen"),
    "wants_feedback": _l("Vill ha återkoppling"),
}
_SUBJECT = {
    "subject_type": _l("Gäller"),
    "first_name": _l("Förnamn"),
    "last_name": _l("Efternamn"),
    "identity_number": _l("Personnummer eller samordningsnummer"),
    "birth_date": _l("Födelsedatum"),
    "age": _l("Ungefärlig ålder"),
    "address": _l("Adress"),
    "phone": _l("Telefon"),
    "school": _l("Skola eller förskola"),
    "school_class": _l("Klass eller avdelning"),
    "interpreter": _l("Tolkbehov"),
    "language": _l("Språk"),
    "subject_knows": _l("Känner till anmälan"),
}
_GUARDIANS: dict[str, Any] = {"guardians_aware": _l("Vårdnadshavarna känner till anmälan")}
for _n in (1, 2):
    for _part, _label in _GUARDIAN_PARTS.items():
        _GUARDIANS[f"guardian{_n}_{_part}"] = _l(
            "Vårdnadshavare %(n)d: %(part)s", n=_n, part=_label
        )
_CONCERN = {
    "categories": _l("Oron gäller"),
    "what_happened": _l("Beskrivning av oron"),
    "why_now": _l("Varför anmälan görs nu"),
    "seen_or_heard": _l("Sett eller hört själv"),
    "heard_from": _l("Vem som berättade, och när"),
    "how_long": _l("När det hände och hur länge"),
    "what_could_happen": _l("Vad anmälaren tror kan hända"),
    "other_children": _l("Andra barn i familjen"),
    "consider_before_contact": _l("Att tänka på före kontakt med familjen"),
}


@dataclass(frozen=True)
class Heading:
    """One caseworker heading with its rows (label in the caseworker's words, answer)."""

    slug: str
    title: Any
    rows: list[Row]


def headings(sections: Sequence[Section], subject_type: str | None) -> list[Heading]:
    """The answered rows regrouped under the caseworker's headings; empty headings left out,
    a field no heading knows kept (with its question) under Övrigt."""
    rows = {row.name: row for section in sections for row in section.rows}
    child = subject_type in c.YOUNG
    plan = [
        ("akut", _l("Akut"), _ACUTE),
        ("anmalare", _l("Anmälare"), _REPORTER),
        ("personen", _l("Barnet") if child else _l("Personen"), _SUBJECT),
        ("vardnadshavare", _l("Vårdnadshavare"), _GUARDIANS),
        ("oro", _l("Oro"), _CONCERN),
    ]
    shown: list[Heading] = []
    for slug, title, labels in plan:
        found = [
            Row(name, str(label), rows.pop(name).value)
            for name, label in labels.items()
            if name in rows
        ]
        if found:
            shown.append(Heading(slug, title, found))
    if rows:
        shown.append(Heading("ovrigt", _l("Övrigt"), list(rows.values())))
    return shown
