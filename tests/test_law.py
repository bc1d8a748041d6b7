"""The law as data: every provision the service names is in intake.law, cited and in force
today by the clock; templates and Python sources name no paragraph outside the table."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask, session
from flask_babel import refresh

from intake import clock, law

ROOT = Path(__file__).resolve().parent.parent
# "20 kap. 2 §", "26 kap. 1 §", "11 kap. 1 a §" (with or without the non-breaking space).
PARAGRAPH = re.compile(r"(\d+)\s*kap\.\s*(\d+(?:\s?[a-z])?)\s*§")
CITE = re.compile(r"""(?:law\.)?cite\(\s*["']([a-z0-9_]+)["']\s*\)""")
SOURCES = [
    *sorted((ROOT / "intake").rglob("*.py")),
    *sorted((ROOT / "templates").rglob("*.html")),
    *sorted((ROOT / "templates").rglob("*.txt")),
]
TABLE = ROOT / "intake" / "law.py"


def _today() -> date:
    return clock.local_date(clock.now())


def _normal(place: str) -> str:
    return re.sub(r"\s+", " ", place.replace("\u00a0", " ")).strip()


@pytest.mark.parametrize("key", sorted(law.PROVISIONS))
def test_every_provision_is_dated_and_cited(key: str) -> None:
    found = law.PROVISIONS[key]
    assert found.id == key
    assert found.source.startswith(("http://", "https://")), key
    assert found.law and found.sv and found.en
    assert found.valid_to is None or found.valid_from <= found.valid_to
    if found.place:
        assert PARAGRAPH.fullmatch(found.place), found.place


def _named_paragraphs() -> list[tuple[str, str]]:
    named = []
    for path in SOURCES:
        if path == TABLE:
            continue  # the table itself names replaced provisions, dated
        for match in PARAGRAPH.finditer(path.read_text(encoding="utf-8")):
            named.append((str(path.relative_to(ROOT)), _normal(match.group(0))))
    return named


def test_every_paragraph_named_in_code_or_templates_is_in_the_table_and_in_force() -> None:
    in_force = {
        _normal(p.place) for p in law.PROVISIONS.values() if p.place and p.valid_on(_today())
    }
    stale = [(path, place) for path, place in _named_paragraphs() if place not in in_force]
    assert stale == []


def test_every_cited_key_exists_and_is_in_force_today() -> None:
    cited = {
        (str(path.relative_to(ROOT)), key)
        for path in SOURCES
        if path != TABLE
        for key in CITE.findall(path.read_text(encoding="utf-8"))
    }
    assert cited, "templates cite the law through law.cite()"
    for path, key in cited:
        assert key in law.PROVISIONS, (path, key)
        assert law.in_force(key), (path, key)


def test_templates_name_no_paragraph_sign_outside_a_reference() -> None:
    for path in (ROOT / "templates").rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        rest = PARAGRAPH.sub("", path.read_text(encoding="utf-8"))
        assert "§" not in rest, path


def test_the_replaced_law_is_no_longer_cited() -> None:
    assert not law.in_force("sol2001_11_1a", date(2025, 7, 1))
    assert law.in_force("sol2001_11_1a", date(2025, 6, 30))
    with pytest.raises(ValueError, match="not in force"):
        law.cite("sol2001_14_1b")
    assert law.cite("sol_20_2") == "20 kap. 2 § socialtjänstlagen (2025:400)"


def test_mandated_reporters_follow_the_dates(app: Flask) -> None:
    with app.test_request_context():
        _mandated_reporters_follow_the_dates()


def _mandated_reporters_follow_the_dates() -> None:
    before = law.mandated_reporters(date(2026, 1, 14))
    after = law.mandated_reporters(date(2026, 1, 15))
    assert "ordningsvakter" not in before and "ordningsvakter" in after
    assert {"skola och förskola", "hälso- och sjukvård", "polis"} <= set(before)
    assert law.mandated_reporters_text(date(2026, 1, 15)).endswith("och ordningsvakter")


@pytest.mark.parametrize(
    ("answers", "allowed"),
    [
        ({"reporter_type": "yrkesverksam", "subject_type": "barn"}, True),
        ({"reporter_type": "yrkesverksam", "subject_type": "ung_vuxen"}, False),
        ({"reporter_type": "yrkesverksam", "subject_type": "vuxen"}, False),
        ({"reporter_type": "yrkesverksam", "subject_type": "aldre"}, False),
        ({"reporter_type": "privat", "subject_type": "barn"}, False),
        ({}, False),
    ],
)
def test_aterkoppling_is_for_mandated_reporters_about_a_child(
    answers: dict[str, str], allowed: bool
) -> None:
    assert law.feedback_allowed(answers) is allowed
    requested = {**answers, "wants_feedback": "ja", "reporter_email": "a@example.org"}
    assert law.feedback_requested(requested) is allowed
    assert law.feedback_requested({**requested, "reporter_email": ""}) is False


@pytest.mark.parametrize(
    ("key", "swedish", "english"),
    [
        (
            "osl_26_1",
            "26 kap. 1 § offentlighets- och sekretesslagen (2009:400)",
            "Chapter 26, Section 1 of the Public Access to Information and Secrecy Act (2009:400)",
        ),
        (
            "sol_20_2",
            "20 kap. 2 § socialtjänstlagen (2025:400)",
            "Chapter 20, Section 2 of the Social Services Act (2025:400)",
        ),
        (
            "lek_9_28",
            "9 kap. 28 § lagen (2022:482) om elektronisk kommunikation",
            "Chapter 9, Section 28 of the Electronic Communications Act (2022:482)",
        ),
        ("prop_2024_25_89_sokbara", "prop. 2024/25:89", "Government Bill 2024/25:89"),
    ],
)
def test_a_reference_reads_in_the_page_language(
    app: Flask, key: str, swedish: str, english: str
) -> None:
    # Outside a request and on a Swedish page: the Swedish reference; on an English page the
    # English form of the same provision.
    assert law.cite(key) == swedish
    with app.test_request_context("/"):
        assert law.cite(key) == swedish
        session["lang"] = "en"
        refresh()
        assert law.cite(key) == english


def test_every_provision_has_an_english_form(app: Flask) -> None:
    # A law name missing from the English table would show Swedish on an English page.
    for provision in law.PROVISIONS.values():
        english = law._in_english(provision.place, provision.law)
        assert not any(word in english for word in ("kap.", "lagen", "prop.")), english
