"""Installation facts: who runs this service and how residents reach them, in Swedish and
English, from the `INSTALLATION` config mapping (one place that can later become per
organisation; DESIGN.md "Ahead").

Each text is a mapping {"sv": …, "en": …}; phone numbers and addresses are one string for
both languages. A text without its English version stops the service at start: the English
pages never show Swedish installation text. The older single keys (MUNICIPALITY,
SOCIALTJANST_PHONE, SOCIALTJANST_HOURS, SOCIALJOUR_PHONE, SOCIALJOUR_HOURS, DPO_CONTACT)
still work for the language-neutral facts; a Swedish-only text from them is refused unless it
is the shipped default (whose English is known).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from flask import Flask, current_app, has_request_context

from intake import i18n
from intake.config import ConfigError

LANGUAGES = ("sv", "en")

# Texts: {"sv", "en"}. Neutral: one string. Lists of texts: controllers.
TEXTS = ("municipality", "socialtjanst_hours", "socialjour_hours", "report_controller")
NEUTRAL = ("socialtjanst_phone", "socialjour_phone", "dpo_contact", "accessibility_contact")

DEFAULT: dict[str, Any] = {
    "municipality": {"sv": "Älvsbyns kommun", "en": "Älvsbyn Municipality"},
    "socialtjanst_phone": "0929-170 00",
    "socialtjanst_hours": {
        "sv": "måndag–fredag 08.00–16.30",
        "en": "Monday to Friday 08.00–16.30",
    },
    "socialjour_phone": "0920-29 30 00",
    "socialjour_hours": {"sv": "kvällar, nätter och helger", "en": "evenings, nights and weekends"},
    "dpo_contact": "dataskyddsombud@alvsbyn.se",
    # Where residents report accessibility problems (DIGG's model: "meddelandefunktion").
    "accessibility_contact": "kommun@alvsbyn.se",
    # Controller of orosanmälningar: the social welfare committee (socialnämnden).
    "report_controller": {
        "sv": "Socialnämnden i Älvsbyns kommun",
        "en": "The Social Welfare Committee of Älvsbyn Municipality",
    },
    # Controller(s) of dialogue sign-ups and questions: the kommun, the police, or both.
    "dialogue_controllers": [
        {
            "sv": "Kommunstyrelsen i Älvsbyns kommun",
            "en": "The Municipal Executive Board of Älvsbyn Municipality",
        },
    ],
}

# The older single keys and the field each fills.
LEGACY = {
    "MUNICIPALITY": "municipality",
    "SOCIALTJANST_PHONE": "socialtjanst_phone",
    "SOCIALTJANST_HOURS": "socialtjanst_hours",
    "SOCIALJOUR_PHONE": "socialjour_phone",
    "SOCIALJOUR_HOURS": "socialjour_hours",
    "DPO_CONTACT": "dpo_contact",
}


@dataclass(frozen=True)
class Facts:
    """The installation facts in one language, as templates read them."""

    municipality: str
    socialtjanst_phone: str
    socialtjanst_hours: str
    socialjour_phone: str
    socialjour_hours: str
    dpo_contact: str
    accessibility_contact: str
    report_controller: str
    dialogue_controllers: tuple[str, ...]


@dataclass(frozen=True)
class Installation:
    """The installation facts in every language."""

    by_language: Mapping[str, Facts]

    def facts(self, language: str) -> Facts:
        """The facts in a language (Swedish for any other)."""
        return self.by_language.get(language, self.by_language["sv"])


def _text(name: str, value: Any) -> dict[str, str]:
    if isinstance(value, Mapping) and all(str(value.get(code) or "").strip() for code in LANGUAGES):
        return {code: str(value[code]) for code in LANGUAGES}
    raise ConfigError(
        f"INSTALLATION[{name!r}] måste ha både svensk och engelsk text: "
        '{"sv": "...", "en": "..."}.'
    )


def _merged(config: Mapping[str, Any]) -> dict[str, Any]:
    from intake.config import DEFAULTS

    merged = dict(DEFAULT)
    for key, name in LEGACY.items():
        value = config.get(key)
        if value is None or value == DEFAULTS.get(key):
            continue
        # A changed single key: neutral facts are taken as they are; a text has no English.
        merged[name] = value if name in NEUTRAL else {"sv": value}
    merged.update(config.get("INSTALLATION") or {})
    return merged


def build(config: Mapping[str, Any]) -> Installation:
    """The installation facts from the config; ConfigError if a text lacks a language."""
    merged = _merged(config)
    texts = {name: _text(name, merged[name]) for name in TEXTS}
    controllers = merged["dialogue_controllers"]
    if isinstance(controllers, Mapping) or not controllers:
        raise ConfigError("INSTALLATION['dialogue_controllers'] är en lista med minst en text.")
    listed = [_text("dialogue_controllers", item) for item in controllers]
    neutral = {name: str(merged[name]) for name in NEUTRAL}
    by_language = {
        code: Facts(
            **{name: texts[name][code] for name in TEXTS},
            **neutral,
            dialogue_controllers=tuple(item[code] for item in listed),
        )
        for code in LANGUAGES
    }
    assert {f.name for f in fields(Facts)} == {*TEXTS, *NEUTRAL, "dialogue_controllers"}
    return Installation(by_language)


class _CurrentFacts:
    """`inst` in templates (macros included): the facts in the request's language."""

    def __getattr__(self, name: str) -> Any:
        return getattr(current(), name)


def init_app(app: Flask) -> None:
    """Build the facts once at start (a bad config stops the service) and expose `inst`."""
    app.extensions["installation"] = build(app.config)
    app.jinja_env.globals["inst"] = _CurrentFacts()


def current() -> Facts:
    """The facts in the language of the current request (Swedish outside a request)."""
    installation: Installation = current_app.extensions["installation"]
    language = i18n.language() if has_request_context() else "sv"
    return installation.facts(language)
