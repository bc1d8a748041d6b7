"""The request's translations found once per request: the same texts as Flask-Babel's own,
the locale switches `force_locale` and `refresh` honoured, templates' formatting unchanged."""

from __future__ import annotations

import flask_babel
import pytest
from flask import Flask, render_template_string, session

from intake import i18n


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_same_texts_as_flask_babel(app: Flask, language: str) -> None:
    with app.test_request_context():
        session["lang"] = language
        for text in ("Tillbaka", "Fortsätt", "Ingen sådan text finns"):
            assert i18n.gettext(text) == flask_babel.gettext(text)
            assert str(i18n.lazy_gettext(text)) == str(flask_babel.lazy_gettext(text))
        assert i18n.language() == str(flask_babel.get_locale()) == language
        assert i18n.ngettext("%(num)d dag", "%(num)d dagar", 2) == flask_babel.ngettext(
            "%(num)d dag", "%(num)d dagar", 2
        )


def test_force_locale_and_refresh_are_honoured(app: Flask) -> None:
    with app.test_request_context():
        assert i18n.gettext("Tillbaka") == "Tillbaka"
        with flask_babel.force_locale("en"):
            assert i18n.gettext("Tillbaka") == "Back"
            assert i18n.language() == "en"
        assert i18n.gettext("Tillbaka") == "Tillbaka"
        session["lang"] = "en"
        assert i18n.gettext("Tillbaka") == "Tillbaka"  # chosen once per request, as before
        flask_babel.refresh()
        assert i18n.gettext("Tillbaka") == "Back"


def test_outside_an_app_context_the_text_is_its_own() -> None:
    assert i18n.gettext("Tillbaka") == "Tillbaka"
    assert i18n.gettext("%(n)d steg", n=3) == "3 steg"


def test_templates_escape_variables_and_always_format(app: Flask) -> None:
    with app.test_request_context():
        session["lang"] = "en"
        page = render_template_string(
            "{{ _('Tillbaka') }}|{{ _('100%% %(x)s', x='<b>') }}|{{ _('100%%') }}|"
            "{{ ngettext('%(num)d dag', '%(num)d dagar', 1) }}"
        )
    assert page == "Back|100% &lt;b&gt;|100%|1 day"
