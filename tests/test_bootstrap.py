"""`flask --app intake setup`: the first admin's address comes from FIRST_ADMIN_EMAIL, setup
stays idempotent, and one rule says which addresses are placeholders."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap
from intake.accounts.models import User
from intake.extensions import db

from .accounts.back_office import fast_passwords

SETUP_OUTPUT = """\
Återställningskod för inkorgen Barn och unga (visas en gång, skriv ut och lås in):
    <hemlig>
Återställningskod för inkorgen Vuxna (visas en gång, skriv ut och lås in):
    <hemlig>
Återställningskod för inkorgen Medborgardialog (visas en gång, skriv ut och lås in):
    <hemlig>
Första administratör: {email}
    engångslösenord: <hemlig>
"""
# (INTAKE_FIRST_ADMIN_EMAIL, the admin's address): unset and empty both mean the default.
FIRST_ADMINS = [
    (None, "admin@alvsbyn.invalid"),
    ("", "admin@alvsbyn.invalid"),
    ("socialchef@alvsbyn.se", "socialchef@alvsbyn.se"),
    (" Socialchef@Alvsbyn.SE ", "socialchef@alvsbyn.se"),
]


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def _with_first_admin(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> None:
    if setting is None:
        monkeypatch.delenv("INTAKE_FIRST_ADMIN_EMAIL", raising=False)
    else:
        monkeypatch.setenv("INTAKE_FIRST_ADMIN_EMAIL", setting)


def _masked(output: str) -> str:
    """The setup output with its random secrets (recovery codes, password) blanked."""
    return re.sub(r"(?m)^    (engångslösenord: )?\S+$", r"    \1<hemlig>", output)


def _setup(app: Flask) -> Any:
    """`flask --app intake setup` (the flask command pushes the context test_cli_runner lacks)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["setup"])


def _admins(app: Flask) -> list[tuple[str, str, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(User.email, User.role, User.must_change_password).order_by(User.id)
        ).all()
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(("setting", "email"), FIRST_ADMINS)
def test_setup_creates_the_configured_first_admin(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, setting: str | None, email: str
) -> None:
    # Given INTAKE_FIRST_ADMIN_EMAIL set (or not)
    _with_first_admin(monkeypatch, setting)
    app: Flask = make_app()
    # When setup runs
    with app.app_context():
        result = bootstrap.run_setup()
    # Then the one admin has that address, and the result says which address it used
    assert result.admin_email == email
    assert result.admin_password is not None
    assert f"admin {email}" in result.created
    assert _admins(app) == [(email, "admin", True)]


@pytest.mark.parametrize(("setting", "email"), FIRST_ADMINS)
def test_setup_prints_the_configured_first_admin_and_nothing_else_new(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, setting: str | None, email: str
) -> None:
    _with_first_admin(monkeypatch, setting)
    app: Flask = make_app()
    result = _setup(app)
    assert result.exit_code == 0, result.output
    assert _masked(result.stdout) == SETUP_OUTPUT.format(email=email)


def test_setup_twice_changes_nothing_even_with_another_first_admin(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an installation whose first admin came from the setting
    _with_first_admin(monkeypatch, "socialchef@alvsbyn.se")
    first: Flask = make_app()
    assert _setup(first).exit_code == 0
    # When setup runs again, now configured with another address
    _with_first_admin(monkeypatch, "annan.chef@alvsbyn.se")
    again: Flask = make_app()
    result = _setup(again)
    # Then it creates nothing and says so, and the first admin is the one there was
    assert result.exit_code == 0, result.output
    assert result.stdout == "Allt fanns redan; inget ändrat.\n"
    with again.app_context():
        assert bootstrap.run_setup().created == []
    assert _admins(again) == [("socialchef@alvsbyn.se", "admin", True)]


@pytest.mark.parametrize(
    ("email", "placeholder"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ("vuxna@alvsbyn.invalid", True),
        (" VUXNA@Alvsbyn.Invalid ", True),
        ("vuxna@alvsbyn.invalid.", True),
        ("vuxna@invalid", True),
        ("vuxna@alvsbyn.se", False),
        ("invalid@alvsbyn.se", False),
        ("vuxna@invalid.alvsbyn.se", False),
        ("vuxna@alvsbyn-invalid.se", False),
    ],
)
def test_what_counts_as_a_placeholder_address(email: str | None, placeholder: bool) -> None:
    assert bootstrap.is_placeholder(email) is placeholder


def test_setup_leaves_every_default_inbox_with_a_placeholder(app: Flask) -> None:
    # The warning on the admin pages relies on this: setup's addresses are all stand-ins.
    with app.app_context():
        found = bootstrap.placeholders()
        assert sorted(i.name for i in found.inboxes) == [
            "Barn och unga",
            "Medborgardialog",
            "Vuxna",
        ]
        assert [u.email for u in found.admins] == [bootstrap.FIRST_ADMIN]
