"""The admin's gallringsbeslut page (/personal/admin/gallring): admins only, CSRF, audited,
history kept, the newest valid decision shown as applying; the overview warns until every
class has one; `setup --demo` records demo decisions, a plain setup none."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import audit, bootstrap, gallring
from intake.extensions import db

from ..staff_helpers import PASSWORD, Installation
from .back_office import errors, fast_passwords, text

PATH = "/personal/admin/gallring"
CHEF = "chef@alvsbyn.se"
FORM = {
    "information_class": "report_content",
    "reference": "SN 2026/40",
    "decided_on": "2026-11-20",
    "decided_by": "Socialnämnden",
    "retention_days": "90",
    "valid_from": "2026-12-01",
}


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def signed_in(installation: Installation, email: str, role: str) -> FlaskClient:
    """A client signed in as a new user of a role."""
    installation.add_user(email, role)
    client = installation.app.test_client()
    installation.login(client, email)
    return client


def decisions(installation: Installation) -> list[tuple[str, str, int]]:
    """The recorded decisions: class, reference, days."""
    with installation.app.app_context():
        return [(d.information_class, d.reference, d.retention_days) for d in gallring.history()]


@pytest.mark.parametrize("role", ["caseworker", "organiser", "partner"])
def test_only_admins_reach_the_page(installation: Installation, role: str) -> None:
    client = signed_in(installation, f"{role}@alvsbyn.se", role)
    assert client.get(PATH).status_code == 403
    assert client.post(PATH, data=FORM).status_code == 403
    assert decisions(installation) == []


def test_anonymous_visitors_are_sent_to_sign_in(installation: Installation) -> None:
    response = installation.app.test_client().post(PATH, data=FORM)
    assert response.status_code == 302 and "/personal/logga-in" in response.headers["Location"]
    assert decisions(installation) == []


def test_an_admin_records_a_decision_audited_and_listed(installation: Installation) -> None:
    admin = signed_in(installation, CHEF, "admin")
    page = text(admin.get(PATH))
    assert page.count("Inget beslut: gallras inte.") == len(gallring.CLASSES)
    response = admin.post(PATH, data=FORM)
    assert response.status_code == 302
    assert decisions(installation) == [("report_content", "SN 2026/40", 90)]
    page = text(admin.get(PATH))
    assert "90 dagar · SN 2026/40" in page and "Socialnämnden" in page
    with installation.app.app_context():
        [event] = db.session.scalars(
            sa.select(audit.AuditEvent).where(
                audit.AuditEvent.action == "retention_decision_recorded"
            )
        ).all()
        assert event.actor == CHEF and event.target_type == "retention_decision"
        assert event.details["reference"] == "SN 2026/40"
        assert event.details["retention_days"] == 90


def test_history_is_kept_and_the_newest_valid_applies(installation: Installation) -> None:
    admin = signed_in(installation, CHEF, "admin")
    admin.post(PATH, data=FORM)
    admin.post(PATH, data={**FORM, "reference": "SN 2026/41", "retention_days": "60"})
    admin.post(
        PATH,
        data={**FORM, "reference": "SN 2026/99", "retention_days": "5", "valid_from": "2030-01-01"},
    )
    assert len(decisions(installation)) == 3
    page = text(admin.get(PATH))
    assert "60 dagar · SN 2026/41" in page  # applies today (the future one does not yet)
    assert "SN 2026/40" in page and "SN 2026/99" in page  # history


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference", "", "Skriv beslutets diarienummer."),
        ("decided_by", "", "Skriv vem som fattade beslutet."),
        ("retention_days", "0", "Skriv ett tal mellan 1 och 36500."),
        ("retention_days", "tretti", "Skriv ett tal mellan 1 och 36500."),
        ("decided_on", "0001-01-01", "Skriv ett datum mellan 1990-01-01 och"),
        ("decided_on", "2999-01-01", "Skriv ett datum mellan 1990-01-01 och"),
        ("valid_from", "", "Skriv ett datum som ÅÅÅÅ-MM-DD."),
        ("information_class", "drafts", "Välj ett av alternativen."),
    ],
)
def test_a_bad_decision_is_refused_plainly_and_what_was_typed_stays(
    installation: Installation, field: str, value: str, message: str
) -> None:
    admin = signed_in(installation, CHEF, "admin")
    response = admin.post(PATH, data={**FORM, field: value})
    assert response.status_code == 200
    found = errors(text(response))
    assert any(error.startswith(message) or message in error for error in found), found
    assert 'value="Socialnämnden"' in text(response) or field == "decided_by"
    assert decisions(installation) == []


def test_the_form_needs_its_csrf_token(make_app: Any) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        result = bootstrap.run_setup()
    installation = Installation(app=app, recovery_codes=result.recovery_codes)
    installation.add_user(CHEF, "admin")
    client = app.test_client()
    # Sign in with the forms' own tokens, then post the decision without one

    def token(path: str) -> str:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get(path)))
        assert found is not None
        return found.group(1)

    client.post(
        "/personal/logga-in",
        data={"email": CHEF, "password": PASSWORD, "csrf_token": token("/personal/logga-in")},
    )
    client.post(
        "/personal/tvastegsverifiering",
        data={
            "code": installation.code(CHEF),
            "csrf_token": token("/personal/tvastegsverifiering"),
        },
    )
    assert client.get(PATH).status_code == 200
    assert client.post(PATH, data=FORM).status_code == 400
    assert decisions(installation) == []
    assert client.post(PATH, data={**FORM, "csrf_token": token(PATH)}).status_code == 302
    assert len(decisions(installation)) == 1


def test_the_overview_warns_until_every_class_has_a_decision(installation: Installation) -> None:
    admin = signed_in(installation, CHEF, "admin")
    page = text(admin.get("/personal/"))
    assert "Gallringsbeslut saknas" in page
    for code in gallring.CLASSES:
        admin.post(PATH, data={**FORM, "information_class": code})
    assert "Gallringsbeslut saknas" not in text(admin.get("/personal/"))


def test_setup_with_demo_records_demo_decisions_and_a_plain_setup_none(
    installation: Installation,
) -> None:
    runner = installation.app.test_cli_runner()
    with installation.app.app_context():  # what the flask command pushes
        assert runner.invoke(args=["setup"]).exit_code == 0
    assert decisions(installation) == []
    with installation.app.app_context():
        result = runner.invoke(args=["setup", "--demo"])
    assert result.exit_code == 0, result.output
    with installation.app.app_context():
        recorded = gallring.history()
        assert {d.information_class for d in recorded} == set(gallring.CLASSES)
        assert all(d.demo and "(demo)" in d.describe() for d in recorded)
    admin = signed_in(installation, CHEF, "admin")
    assert "demo, inte ett riktigt beslut" in text(admin.get(PATH))
