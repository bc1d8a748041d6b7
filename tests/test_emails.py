"""E-mail addresses (intake.emails): one validator for every form, one stored form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from intake import bootstrap, emails
from intake.accounts.models import User
from intake.extensions import db

from .dialogues.helpers import errors, new_dialogue, queued, sign_up

NON_ASCII_MESSAGE = "Adressen får bara innehålla a–z, 0–9 och . _ - + före @"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("anna@example.org", "anna@example.org"),
        ("  Anna.Andersson@Skola.Alvsbyn.SE ", "anna.andersson@skola.alvsbyn.se"),
        ("pro+orosanmalan@x.se", "pro+orosanmalan@x.se"),
        # A line break pasted at either end is only surrounding white space.
        ("pro@x.se\r\n", "pro@x.se"),
        ("a_b-c@sub.example.com", "a_b-c@sub.example.com"),
        # An internationalised domain is stored as IDNA ASCII.
        ("sven@räksmörgås.se", "sven@xn--rksmrgs-5wao1o.se"),
        ("Sven@RÄKSMÖRGÅS.se", "sven@xn--rksmrgs-5wao1o.se"),
    ],
)
def test_valid_addresses_are_stored_normalised(typed: str, stored: str) -> None:
    assert emails.normalise(typed) == stored
    assert emails.normalise(stored) == stored  # idempotent


@pytest.mark.parametrize(
    ("typed", "non_ascii"),
    [
        ("åsa@skola.se", True),
        ("jörgen.öberg@alvsbyn.se", True),
        ("pro@x.se\r\nBcc: x@y.se", False),
        ("pro@x.se\nBcc: x@y.se", False),
        ("pro\r@x.se", False),
        ("pro\x00@x.se", False),
        ("Anna <anna@example.org>", False),
        ("a@b", False),
        ("@x.se", False),
        ("anna@", False),
        ("anna", False),
        ("", False),
        ("   ", False),
        ("a@x.se, b@y.se", False),
        ("anna@alvsbyn.invalid", False),  # setup's stand-in is never typed anew
        ("anna@localhost", False),
        ("x" * 250 + "@x.se", False),
    ],
)
def test_invalid_addresses_are_refused_with_a_named_error(typed: str, non_ascii: bool) -> None:
    with pytest.raises(emails.InvalidAddress) as caught:
        emails.normalise(typed)
    assert caught.value.non_ascii_local is non_ascii


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("admin@alvsbyn.invalid", "admin@alvsbyn.invalid"),
        ("Barnochunga@Alvsbyn.INVALID", "barnochunga@alvsbyn.invalid"),
        ("anna@example.org", "anna@example.org"),
    ],
)
def test_setup_stand_ins_pass_only_when_allowed(typed: str, stored: str) -> None:
    assert emails.normalise(typed, stand_in_ok=True) == stored


@pytest.mark.parametrize("typed", ["åsa@alvsbyn.invalid", "a\r\n@alvsbyn.invalid", "@x.invalid"])
def test_a_stand_in_is_still_checked(typed: str) -> None:
    with pytest.raises(emails.InvalidAddress):
        emails.normalise(typed, stand_in_ok=True)


@given(st.text(max_size=80))
def test_whatever_passes_is_ascii_and_free_of_header_breaks(text: str) -> None:
    try:
        stored = emails.normalise(text)
    except emails.InvalidAddress:
        return
    assert stored.isascii()
    assert not any(ch in stored for ch in "\r\n\x00 ,<>;:")
    assert stored == stored.lower() and stored.count("@") == 1


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("åsa@skola.se", NON_ASCII_MESSAGE),
        ("anna@alvsbyn.invalid", "Skriv e-postadressen som namn@exempel.se."),
    ],
)
def test_the_sign_up_form_refuses_poison_addresses_in_swedish(
    app: Flask, address: str, message: str
) -> None:
    # Given a dialogue
    dialogue_id = new_dialogue(app)
    # When a resident signs up with a poison address
    response = sign_up(app.test_client(), dialogue_id, address, name="Åsa Öberg")
    # Then the page comes back with a Swedish error, what they typed kept, and nothing queued
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert any(message in error for error in errors(html))
    assert "Åsa Öberg" in html
    assert queued(app) == []


def test_a_line_break_in_the_address_never_reaches_the_form_or_the_outbox(app: Flask) -> None:
    # Given a dialogue, when a resident signs up with a header injection in the address
    dialogue_id = new_dialogue(app)
    response = sign_up(app.test_client(), dialogue_id, "pro@x.se\r\nBcc: x@y.se", name="Åsa Öberg")
    # Then the one input gate (intake.textguard) refuses it in Swedish before any form sees it,
    # with everything typed kept (the line break made a space), and nothing is queued
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Texten innehåller tecken som inte går att spara" in html
    assert "Åsa Öberg" in html and "pro@x.se Bcc: x@y.se" in html
    assert queued(app) == []


def test_the_sign_up_form_stores_the_normalised_address(app: Flask) -> None:
    dialogue_id = new_dialogue(app)
    response = sign_up(app.test_client(), dialogue_id, "  Sven@RÄKSMÖRGÅS.se ")
    assert response.status_code == 303
    [row] = queued(app)
    with app.app_context():
        assert row.recipient == "sven@xn--rksmrgs-5wao1o.se"


@pytest.mark.parametrize(
    ("configured", "stored"),
    [
        ("Chef@Alvsbyn.SE", "chef@alvsbyn.se"),
        ("admin@alvsbyn.invalid", "admin@alvsbyn.invalid"),
        ("", "admin@alvsbyn.invalid"),
    ],
)
def test_setup_stores_the_first_admin_normalised(
    make_app: Callable[..., Flask], configured: str, stored: str
) -> None:
    app = make_app(FIRST_ADMIN_EMAIL=configured)
    with app.app_context():
        assert bootstrap.run_setup().admin_email == stored


@pytest.mark.parametrize("configured", ["åsa@alvsbyn.se", "chef@alvsbyn.se\nBcc: x@y.se", "chef"])
def test_setup_refuses_a_bad_first_admin_address(
    make_app: Callable[..., Flask], configured: str
) -> None:
    app = make_app(FIRST_ADMIN_EMAIL=configured)
    with app.app_context():  # the flask command pushes the context test_cli_runner lacks
        result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 1
    assert "FIRST_ADMIN_EMAIL (INTAKE_FIRST_ADMIN_EMAIL) är ingen giltig e-postadress." in (
        result.stderr
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
