"""The README's `.invalid` stand-ins and the staff forms agree: a local trial (`make run`,
ALLOW_STAND_IN_EMAILS) accepts them; any other setup asks for a real address; residents'
forms never take them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from intake import config
from intake.accounts.admin_forms import InboxForm, UserForm
from intake.dialogues.forms import SignupForm

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_STAND_INS = sorted(set(re.findall(r"[\w.+-]+@[\w.-]+\.invalid", README)))
REFUSED = "Skriv e-postadressen som namn@exempel.se."


def user_form(app: Flask, email: str) -> UserForm:
    with app.test_request_context(
        method="POST", data={"name": "Kim", "email": email, "role": "caseworker"}
    ):
        form = UserForm()
        form.validate()
        return form


def test_the_readme_names_stand_ins_and_the_setting() -> None:
    assert "admin@alvsbyn.invalid" in README_STAND_INS and len(README_STAND_INS) >= 2
    assert "INTAKE_ALLOW_STAND_IN_EMAILS" in README
    assert "ALLOW_STAND_IN_EMAILS" in config.ENVIRONMENT
    serve_local = (ROOT / "bin" / "serve-local").read_text(encoding="utf-8")
    assert "INTAKE_ALLOW_STAND_IN_EMAILS=${INTAKE_ALLOW_STAND_IN_EMAILS:-1}" in serve_local


@pytest.mark.parametrize("email", README_STAND_INS)
@pytest.mark.parametrize("allowed", [True, False])
def test_the_user_form_takes_the_readme_stand_ins_only_in_a_trial(
    make_app: Any, email: str, allowed: bool
) -> None:
    app = make_app(WTF_CSRF_ENABLED=False, ALLOW_STAND_IN_EMAILS=allowed)
    form = user_form(app, email.upper())
    if allowed:
        assert form.email.errors == [] and form.email.data == email
    else:
        assert form.email.errors == [REFUSED]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("åsa@alvsbyn.invalid", "Adressen får bara innehålla"),  # still checked
        ("@alvsbyn.invalid", REFUSED),
        ("kim@alvsbyn.test", REFUSED),  # only `.invalid` is a stand-in
    ],
)
def test_a_stand_in_is_still_an_address(make_app: Any, email: str, error: str) -> None:
    app = make_app(WTF_CSRF_ENABLED=False, ALLOW_STAND_IN_EMAILS=True)
    assert user_form(app, email).email.errors[0].startswith(error)


def test_the_inbox_form_follows_the_setting(make_app: Any) -> None:
    for allowed in (True, False):
        app = make_app(WTF_CSRF_ENABLED=False, ALLOW_STAND_IN_EMAILS=allowed)
        data = {"name": "Barn", "notification_email": "barn@alvsbyn.invalid"}
        with app.test_request_context(method="POST", data=data):
            form = InboxForm()
            form.validate()
            assert (form.notification_email.errors == []) is allowed


def test_residents_never_give_a_stand_in(make_app: Any) -> None:
    app = make_app(WTF_CSRF_ENABLED=False, ALLOW_STAND_IN_EMAILS=True)
    with app.test_request_context(method="POST", data={"email": "anna@alvsbyn.invalid"}):
        form = SignupForm()
        form.validate()
        assert form.email.errors == [REFUSED]


def test_the_setting_is_off_by_default_and_read_from_the_environment() -> None:
    assert config.DEFAULTS["ALLOW_STAND_IN_EMAILS"] is False
    on = config._from_environment({"INTAKE_ALLOW_STAND_IN_EMAILS": "1"})
    assert on == {"ALLOW_STAND_IN_EMAILS": True}
