"""The request's translations found once per request: the same texts as Flask-Babel's own,
the locale switches `force_locale` and `refresh` honoured, templates' formatting unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import flask_babel
import pytest
from flask import Flask, render_template_string, session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import clock, i18n, web


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


FORMATS = ("d MMMM y 'kl.' HH:mm", "y-MM-dd", "d MMMM y", "EEEE d MMMM y 'kl.' HH:mm", "HH:mm")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.datetimes(
        # Flask-Babel rebases through pytz, whose tables stop at 2037 (it then reads 1 April
        # 2038 as winter time); the filter's zoneinfo is right there too.
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2037, 12, 31),
        timezones=st.just(UTC),
    ),
    fmt=st.sampled_from(FORMATS),
    language=st.sampled_from(("sv", "en")),
)
def test_local_time_reads_as_flask_babel_formats_it(
    app: Flask, moment: datetime, fmt: str, language: str
) -> None:
    # The local_time filter calls Babel directly (and keeps what it formatted): same text,
    # in Stockholm time and the request's (or a forced) language, across DST changes.
    with app.test_request_context("/"), flask_babel.force_locale(language):
        expected = flask_babel.format_datetime(moment.astimezone(clock.STOCKHOLM), fmt)
        assert web._local_time(moment, fmt) == expected
        assert web._local_time(moment.isoformat(), fmt) == expected


def test_local_time_knows_summer_time_after_2037(app: Flask) -> None:
    with app.test_request_context("/"):
        assert web._local_time(datetime(2038, 4, 1, 0, 0, tzinfo=UTC)) == "1 april 2038 kl. 02:00"
