"""Swedish counts agree with their nouns: every count goes through ngettext, and each plural
message reads right with 1 and with 2 (issue 13 §5: no "1 personer", "1 frågor" …).

The messages are extracted from the sources as babel.cfg tells pybabel to, so a new message
is covered the day it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import Flask
from flask_babel import force_locale, ngettext

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
KEYWORDS: dict[str, Any] = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)([ds])")
# Swedish plural nouns (and plural adjective + noun) that must never follow a bare count.
PLURAL_NOUNS = (
    "dagar|personer|frågor|åtaganden|rader|timmar|minuter|sekunder|anmälningar|platser|"
    "gånger|veckor|månader|tillfällen|aktiviteter|dialoger|medborgardialoger|enheter|"
    "e-postmeddelanden|meddelanden|avslutade|anmälda|incheckade"
)
COUNT_THEN_PLURAL = re.compile(rf"%\((\w+)\)d ({PLURAL_NOUNS})\b")


def _extract() -> list[tuple[str | tuple[str, ...], str]]:
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    return [
        (message, f"{filename}:{lineno}")
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    ]


MESSAGES = _extract()
PLURALS = sorted(
    {(m[0], m[1]): where for m, where in MESSAGES if isinstance(m, tuple)}.items(),
    key=lambda item: item[1],
)
SINGLES = [(m, where) for m, where in MESSAGES if isinstance(m, str)]


def values(message: str) -> dict[str, object]:
    """Stand-ins for every placeholder but the count (`num`, which ngettext fills in)."""
    return {
        name: (7 if kind == "d" else "x")
        for name, kind in PLACEHOLDER.findall(message)
        if name != "num"
    }


def test_the_sweep_found_the_plural_messages() -> None:
    assert len(PLURALS) >= 20, [where for _m, where in PLURALS]


@pytest.mark.parametrize(
    ("singular", "plural"), [m for m, _where in PLURALS], ids=[w for _m, w in PLURALS]
)
def test_each_plural_message_reads_right_with_1_and_2(
    app: Flask, singular: str, plural: str
) -> None:
    # The two forms differ, and both use the count ngettext passes in
    assert singular != plural
    assert "%(num)d" in singular and "%(num)d" in plural
    with app.test_request_context(), force_locale("sv"):
        one = ngettext(singular, plural, 1, **values(plural))
        two = ngettext(singular, plural, 2, **values(plural))
    # Then 1 takes the singular form and 2 the plural, and 1 never meets a plural noun
    assert one == singular % {**values(plural), "num": 1}
    assert two == plural % {**values(plural), "num": 2}
    assert not re.search(rf"\b1 ({PLURAL_NOUNS})\b", one), one


def test_no_count_is_followed_by_a_plural_noun_outside_ngettext() -> None:
    offenders = [
        f"{where}: {found.group(0)}"
        for message, where in SINGLES
        if (found := COUNT_THEN_PLURAL.search(message))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "message", ["Det finns %(n)d frågor.", "%(days)d dagar", "Du har en plats (%(n)d personer)."]
)
def test_the_guard_would_catch_a_count_without_ngettext(message: str) -> None:
    assert COUNT_THEN_PLURAL.search(message)
