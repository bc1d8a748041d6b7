"""The request's translations, found once per request rather than once per string.

Flask-Babel finds the translations anew for every string: about ten context-proxy lookups
and the locale formatted as a string, some 10 µs, and a step page of the resident's journey
translates 60–100 strings (its labels and options are lazy strings). Here they are found once
and kept in Flask-Babel's own per-request namespace on `g`, next to the locale it chose, keyed
by that locale object: `force_locale` (e-mails in the recipient's language) and `refresh`
replace the locale object, so the next string finds the translations again.

`gettext`, `ngettext` and `lazy_gettext` behave as Flask-Babel's do (the same catalogue, the
same formatting); `install(app)` gives templates the same fast path with Jinja's "newstyle"
semantics that Flask-Babel sets up (autoescaped, always formatted).
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

_NULL = NullTranslations()
_BABEL_STATE = "_flask_babel"  # Flask-Babel's per-request namespace on g (locale, domain)
_KEPT = "intake_translations"


def _kept() -> tuple[Any, Any, str] | None:
    """(locale, translations, language code) of the current request, found at most once per
    locale; None outside an app context."""
    try:
        request_globals = g._get_current_object()
    except RuntimeError:
        return None
    state = vars(request_globals).get(_BABEL_STATE)
    if state is not None:
        kept: tuple[Any, Any, str] | None = vars(state).get(_KEPT)
        if kept is not None and kept[0] is vars(state).get("babel_locale"):
            return kept
    found = get_translations()  # chooses the locale, and makes the namespace, if need be
    state = vars(request_globals)[_BABEL_STATE]
    kept = (state.babel_locale, found, str(state.babel_locale))
    setattr(state, _KEPT, kept)
    return kept


def translations() -> Any:
    """The translations of the current request's language (none outside an app context)."""
    kept = _kept()
    return _NULL if kept is None else kept[1]


def language() -> str:
    """The current request's language code, as `str(flask_babel.get_locale())`."""
    kept = _kept()
    return "sv" if kept is None else kept[2]


def gettext(string: str, **variables: Any) -> str:
    """`string` in the request's language, formatted with `variables` if any."""
    text: str = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for `num`, formatted (`num` included)."""
    variables.setdefault("num", num)
    text: str = translations().ungettext(singular, plural, num)
    return text % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """`gettext` when the string is used: for texts defined at import time (labels)."""
    return LazyString(gettext, string, **variables)


def _format(context: Context, text: str, variables: dict[str, Any]) -> str:
    # Jinja's newstyle gettext: autoescaped, and always a format string ("%%" is "%").
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the catalogue is ours; the variables are escaped
    return text % variables if variables or "%" in text else text


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    return _format(context, translations().ugettext(string), variables)


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    return _format(context, translations().ungettext(singular, plural, num), variables)


def install(app: Flask) -> None:
    """Templates' `_`, `gettext` and `ngettext` through the fast path (after Flask-Babel)."""
    assert app.jinja_env.newstyle_gettext  # type: ignore[attr-defined]
    # `_` directly, not Jinja's alias that looks `gettext` up and calls it again.
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
