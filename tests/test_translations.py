"""The English catalogue: complete, placeholders intact, and served after /sprak/en.

Swedish is the source language. Every msgid found in the sources (with babel.cfg's method
map and the keywords of the documented extract command) must have a non-fuzzy English
translation, so a new Swedish string without English fails here. To fix a failure:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d intake/translations -l en \\
        --no-fuzzy-matching

then translate the new entries in intake/translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "intake" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
# Same keywords as `pybabel extract -k _l -k lazy_gettext`.
KEYWORDS: dict[str, Any] = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# A printf-style conversion: %(name)s, %d, %.1f, %%.
SPEC = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<type>[diouxXeEfFgGcrsa%])"
)
# Where msgids come from, so that a babel.cfg that misses some of them is noticed.
SOURCE_GLOBS = ("intake/**/*.py", "templates/**/*.html", "templates/**/*.txt")
TRANSLATION_CALL = re.compile(r"\b(?:_|_l|gettext|lazy_gettext|ngettext)\(")


@dataclass(frozen=True)
class Found:
    """A message found in the sources, and where."""

    msgid: str | tuple[str, ...]
    context: str | None
    where: str


@dataclass(frozen=True)
class Extraction:
    """Everything the extractor found, and which files it looked at."""

    messages: list[Found]
    files: set[str]


@pytest.fixture(scope="module")
def extraction() -> Extraction:
    """Extract messages in-process, exactly as babel.cfg tells pybabel to."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    files: set[str] = set()

    def visited(filename: str, method: str, options: dict[str, Any]) -> None:
        files.add(filename.replace("\\", "/"))

    messages = [
        Found(message, context, f"{filename}:{lineno}")
        for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, callback=visited
        )
    ]
    return Extraction(messages=messages, files=files)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The English catalogue as it is on disk."""
    with EN_PO.open("rb") as po:
        return read_po(po, locale="en")


def _entries(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _specs(text: str) -> list[str]:
    return [match.group(0) for match in SPEC.finditer(text)]


def _stray_percent(text: str) -> bool:
    """A % that is not part of a conversion: `text % values` would raise."""
    return "%" in SPEC.sub("", text)


def test_babel_cfg_covers_every_file_with_translatable_strings(extraction: Extraction) -> None:
    calling = {
        path.relative_to(ROOT).as_posix()
        for pattern in SOURCE_GLOBS
        for path in ROOT.glob(pattern)
        if TRANSLATION_CALL.search(path.read_text(encoding="utf-8"))
    }
    assert calling, "no source file with translatable strings: is SOURCE_GLOBS right?"
    missed = sorted(calling - extraction.files)
    assert not missed, f"babel.cfg does not extract from: {missed}"


def test_every_source_string_is_in_the_english_catalogue(
    extraction: Extraction, catalog: Catalog
) -> None:
    assert extraction.messages, "the extractor found no messages at all"
    missing: list[str] = []
    for found in extraction.messages:
        entry = catalog.get(_singular(found.msgid), context=found.context)
        if entry is None:
            missing.append(f"{found.where}: {found.msgid!r}")
        elif not isinstance(found.msgid, str) and not entry.pluralizable:
            missing.append(f"{found.where}: {found.msgid!r} is plural in the source only")
    assert not missing, (
        f"{len(missing)} source strings have no English entry (see this module's "
        "docstring for how to update the catalogue):\n" + "\n".join(missing)
    )


def test_every_entry_is_translated_and_not_fuzzy(catalog: Catalog) -> None:
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    problems: list[str] = []
    for message in _entries(catalog):
        forms = _forms(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(forms):
            problems.append(f"untranslated: {message.id!r}")
        elif message.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms, not {catalog.num_plurals}: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_match_between_swedish_and_english(catalog: Catalog) -> None:
    problems: list[str] = []
    for message in _entries(catalog):
        sources = _forms(message.id)
        wanted = _specs(sources[-1])
        for text in _forms(message.string):
            if not text:
                continue  # reported by the completeness test
            got = _specs(text)
            if any(_stray_percent(source) for source in sources):
                continue  # not a format string: nothing to keep
            if _stray_percent(text):
                problems.append(f"stray %: {text!r}")
            elif message.pluralizable:
                # A singular may say "one" instead of %(n)d, but may add nothing new.
                if not set(got) <= set(wanted) | set(_specs(sources[0])):
                    problems.append(f"{message.id!r}: {got} not within {wanted}")
            elif any(match.group("name") is None for match in SPEC.finditer(sources[0])):
                if got != wanted:  # positional conversions keep their order
                    problems.append(f"{message.id!r}: {got} != {wanted}")
            elif sorted(got) != sorted(wanted):
                problems.append(f"{message.id!r}: {sorted(got)} != {sorted(wanted)}")
    assert not problems, "\n".join(problems)


def test_translations_add_no_markup(catalog: Catalog) -> None:
    """Templates mark translated text safe (Jinja newstyle gettext), so it must stay text."""
    problems = [
        f"{message.id!r} -> {text!r}"
        for message in _entries(catalog)
        for text in _forms(message.string)
        for char in '<>&"'
        if char in text and not any(char in source for source in _forms(message.id))
    ]
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .po compiled into a temporary folder, so the check does not need `make`."""
    folder = tmp_path_factory.mktemp("translations")
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        target = folder / po_path.relative_to(TRANSLATIONS).with_suffix(".mo")
        target.parent.mkdir(parents=True)
        with po_path.open("rb") as po:
            po_catalog = read_po(po, locale=po_path.parts[-3])
        with target.open("wb") as mo:
            write_mo(mo, po_catalog)
    return folder


@pytest.fixture
def app(make_app: Any, compiled_translations: Path) -> Flask:
    """The conftest app, reading this catalogue compiled by the fixture above."""
    from intake import bootstrap

    application: Flask = make_app(
        WTF_CSRF_ENABLED=False, BABEL_TRANSLATION_DIRECTORIES=str(compiled_translations)
    )
    with application.app_context():
        bootstrap.run_setup()
    return application


def test_language_switch_serves_english_and_back(client: FlaskClient) -> None:
    page = client.get("/orosanmalan/").get_data(as_text=True)
    assert '<html lang="sv"' in page
    assert "Lämna sidan snabbt" in page

    switched = client.get("/sprak/en?next=/orosanmalan/")
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/orosanmalan/")
    page = client.get("/orosanmalan/").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Leave this page quickly" in page
    assert "Report a concern about a child or adult" in page
    assert "Lämna sidan snabbt" not in page

    client.get("/sprak/sv?next=/orosanmalan/")
    page = client.get("/orosanmalan/").get_data(as_text=True)
    assert '<html lang="sv"' in page
    assert "Lämna sidan snabbt" in page
    assert "Leave this page quickly" not in page
