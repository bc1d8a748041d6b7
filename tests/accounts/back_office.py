"""Shared pieces of the back-office tests: cheap password hashing, a clock the test moves,
reports sent straight through the service, an installation with its own config, cookies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap, clock
from intake.accounts.models import StaffSession
from intake.crypto import passwords
from intake.extensions import db
from intake.reports import service
from intake.reports.models import Report

from ..staff_helpers import Installation

COOKIE = "intake_session"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# A valid personnummer for a child born 2016-05-05 (Luhn check digit 2).
CHILD_PNR = "20160505-1232"


def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Legacy (argon2-cffi) password hashes at the cheapest Argon2id cost; derived verifiers
    follow the app's ARGON2_* config, which the tests already set cheap."""
    monkeypatch.setattr(passwords, "_HASHER", FAST_HASHER)


class Clock:
    """A wall clock that only moves when the test says so."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        """Move forward."""
        self.moment += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self.moment = moment


def stockholm(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Stockholm wall-clock moment as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=clock.STOCKHOLM).astimezone(UTC)


def freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> Clock:
    """Replace intake.clock.now with a clock the test moves."""
    frozen = Clock(moment)
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


def install(make_app: Any, **config: Any) -> Installation:
    """An app (CSRF off) after setup with extra config, keeping the recovery codes."""
    app: Flask = make_app(WTF_CSRF_ENABLED=False, **config)
    with app.app_context():
        result = bootstrap.run_setup()
    return Installation(app=app, recovery_codes=result.recovery_codes)


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete report's answers (anonymous private person about a child)."""
    base: dict[str, Any] = {
        "reporter_type": "privat",
        "anonymous": "ja",
        "subject_type": "barn",
        "first_name": "Kanariefågel",
        "categories": ["omsorgssvikt"],
        "what_happened": "KANARIE-svar som aldrig får synas utanför rapporten.",
        "acute_danger": "nej",
    }
    return {**base, **overrides}


def submit(app: Flask, **overrides: Any) -> str:
    """Send a report through the service (no journey); returns its id."""
    with app.app_context():
        receipt = service.submit(answers(**overrides), base_url="http://test")
        report_id = db.session.scalar(
            sa.select(Report.id).where(Report.reference == receipt.reference)
        )
        assert report_id is not None
        return report_id


# An identity as intake.reports.eid seals it with a report (made-up personnummer).
VERIFIED = {
    "method": "e-legitimation",
    "name": "Lärare Lärarsson",
    "personnummer": "198112189876",
    "acr": "http://id.elegnamnden.se/loa/1.0/loa3",
    "issuer": "http://127.0.0.1:1",
    "verified_at": "2026-03-10T08:00:00+00:00",
}


def submit_verified(app: Flask, **overrides: Any) -> str:
    """Send a report from a reporter verified with e-legitimation; returns its id."""
    with app.app_context():
        receipt = service.submit(answers(**overrides), base_url="http://test", verified=VERIFIED)
        report_id = db.session.scalar(
            sa.select(Report.id).where(Report.reference == receipt.reference)
        )
        assert report_id is not None
        return report_id


def report_ids(app: Flask) -> dict[str, str]:
    """Report id by reference."""
    with app.app_context():
        rows = db.session.execute(sa.select(Report.reference, Report.id)).all()
        return {reference: report_id for reference, report_id in rows}


def cookie(client: FlaskClient) -> str:
    """The client's session cookie value."""
    found = client.get_cookie(COOKIE)
    assert found is not None
    return found.value


def client_with(app: Flask, value: str) -> FlaskClient:
    """A new client holding a given session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def staff_cookie(app: Flask, value: str) -> dict[str, str]:
    """The staff part ({"t": token, "k": session key}) of a signed session cookie."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, Any] = serializer.loads(value)
    staff: dict[str, str] = data["staff"]
    return staff


def signed_cookie(app: Flask, data: dict[str, Any]) -> str:
    """A session cookie signed with the app's secret (what a thief of the secret key can do)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.dumps(data))


def staff_sessions(app: Flask) -> int:
    """How many server-side staff sessions exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) or 0


def errors(html: str) -> list[str]:
    """The inline error texts on a page."""
    return [
        re.sub(r"<[^>]+>", "", e).replace("Fel:", "").strip()
        for e in re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S)
    ]


def text(response: Any) -> str:
    """A response's body as text."""
    return str(response.get_data(as_text=True))
