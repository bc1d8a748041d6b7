"""Dialogue test fixtures: an installation that sends mail to the loopback SMTP server, and
organisers signed in (one a member of the Medborgardialog inbox, one not)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap

from ..accounts.back_office import fast_passwords
from ..conftest import SMTPServer
from ..staff_helpers import Installation
from .helpers import BASE_URL, ORGANISER, OUTSIDER, sign_in


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def site(make_app: Any, smtp: SMTPServer) -> Installation:
    """The app after setup (CSRF off), delivering its mail to the loopback SMTP server."""
    app: Flask = make_app(
        WTF_CSRF_ENABLED=False, MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False, BASE_URL=BASE_URL
    )
    with app.app_context():
        result = bootstrap.run_setup()
    return Installation(app=app, recovery_codes=result.recovery_codes)


@pytest.fixture
def resident(site: Installation) -> FlaskClient:
    """A resident's browser."""
    return site.app.test_client()


@pytest.fixture
def organiser(site: Installation) -> FlaskClient:
    """An organiser who is a member of the Medborgardialog inbox, signed in."""
    return sign_in(site, ORGANISER)


@pytest.fixture
def outsider(site: Installation) -> FlaskClient:
    """An organiser who is not a member of the Medborgardialog inbox, signed in."""
    return sign_in(site, OUTSIDER, member=False)
