"""Sign-in costs one Argon2id derivation (issue 14 §1): its HKDF halves check the password and
unwrap the private key. Accounts on the older form (an argon2-cffi hash plus a key wrapped
under a second derivation) still sign in, and are moved to the new form on that sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from intake.accounts import guard, service
from intake.crypto import CryptoError, custody, keywrap, passwords
from intake.extensions import db

from ..staff_helpers import PASSWORD, Installation

EMAIL = "vera.lindqvist@alvsbyn.invalid"
NEW_PASSWORD = "en lång och ovanlig mening om hjortron"


@dataclass
class Work:
    """Argon2 runs counted: derivations (keywrap) and legacy PHC verifications."""

    derivations: int = 0
    legacy_checks: int = 0


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """Count every Argon2id run the code under test makes."""
    counted = Work()
    derive, hasher = keywrap.derive, passwords._HASHER

    def counting_derive(*args: Any, **kwargs: Any) -> bytes:
        counted.derivations += 1
        return derive(*args, **kwargs)

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            counted.legacy_checks += 1
            return bool(hasher.verify(stored, password))

        def hash(self, password: str) -> str:
            return str(hasher.hash(password))

    monkeypatch.setattr(keywrap, "derive", counting_derive)
    monkeypatch.setattr(passwords, "_HASHER", CountingHasher())
    yield counted


@pytest.fixture
def vera(installation: Installation) -> Installation:
    """A caseworker in "Vuxna"."""
    installation.add_user(EMAIL, "caseworker", inboxes=("Vuxna",))
    return installation


def _sign_in(password: str = PASSWORD) -> service.SignedIn:
    return service.authenticate(EMAIL, password, throttle_key=guard.throttle_key())


def _make_legacy(site: Installation) -> bytes:
    """Put Vera's account back on the older two-derivation form; returns her private key."""
    with site.app.app_context():
        private = _sign_in().private_key
        user = site.user(EMAIL)
        user.password_hash = passwords.hash_password(PASSWORD)
        user.wrapped_private_key = custody.wrap_user_key(
            private, PASSWORD, user_id=user.id, cost=service.configured_cost()
        )
        db.session.commit()
        return private


def test_a_new_account_signs_in_with_one_derivation(vera: Installation, work: Work) -> None:
    with vera.app.app_context():
        assert passwords.is_derived(vera.user(EMAIL).password_hash)
        signed_in = _sign_in()
        # One Argon2id run, no second one for the key, and the key opens her inbox
        assert (work.derivations, work.legacy_checks) == (1, 0)
        inbox = vera.inbox("Vuxna")
        service.inbox_secret(signed_in.user, signed_in.private_key, inbox.id)


def test_an_older_account_still_signs_in_and_moves_to_one_derivation(
    vera: Installation, work: Work
) -> None:
    # Given Vera's account on the older form
    private = _make_legacy(vera)
    work.derivations = work.legacy_checks = 0
    with vera.app.app_context():
        # When she signs in: the old check and unwrap, and the move (once)
        first = _sign_in()
        db.session.commit()
        assert (work.legacy_checks, work.derivations) == (1, 2)
        assert first.private_key == private
        user = vera.user(EMAIL)
        assert passwords.is_derived(user.password_hash)
        assert user.wrapped_private_key is not None
        # Then the next sign-in is one derivation, with the same key and inbox
        work.derivations = work.legacy_checks = 0
        again = _sign_in()
        assert (work.legacy_checks, work.derivations) == (0, 1)
        assert again.private_key == private
        service.inbox_secret(again.user, again.private_key, vera.inbox("Vuxna").id)
        # And the wrapped key still opens with the password alone (recovery, backup tests)
        assert custody.unwrap_user_key(user.wrapped_private_key, PASSWORD, user_id=user.id) == (
            private
        )


@pytest.mark.parametrize("legacy", [False, True], ids=["derived", "older"])
def test_a_wrong_password_is_refused_after_one_check(
    vera: Installation, work: Work, legacy: bool
) -> None:
    if legacy:
        _make_legacy(vera)
    with vera.app.app_context():
        before = vera.user(EMAIL).password_hash
        work.derivations = work.legacy_checks = 0
        with pytest.raises(service.LoginError):
            _sign_in("fel lösenord helt och hållet")
        assert work.derivations + work.legacy_checks == 1
        # A refused sign-in moves nothing
        assert vera.user(EMAIL).password_hash == before


def test_an_unknown_address_costs_one_derivation_too(vera: Installation, work: Work) -> None:
    with vera.app.app_context():
        service.dummy_hash(service.configured_cost())  # made once per process
        work.derivations = 0
        with pytest.raises(service.LoginError):
            service.authenticate(
                "ingen@alvsbyn.invalid", PASSWORD, throttle_key=guard.throttle_key()
            )
        assert (work.derivations, work.legacy_checks) == (1, 0)


def test_a_changed_password_is_one_derivation_and_keeps_the_key(
    vera: Installation, work: Work
) -> None:
    with vera.app.app_context():
        signed_in = _sign_in()
        user = signed_in.user
        service.set_password(
            user, NEW_PASSWORD, signed_in.private_key, cost=service.configured_cost()
        )
        db.session.commit()
        work.derivations = 0
        assert _sign_in(NEW_PASSWORD).private_key == signed_in.private_key
        assert work.derivations == 1
        with pytest.raises(service.LoginError):
            _sign_in()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: re.sub(r"m=\d+", "m=99999999", s),  # more memory than we allow
        lambda s: re.sub(r"t=\d+", "t=0", s),  # impossible cost
        lambda s: s.rsplit("$", 1)[0] + "$@@@",  # not base64
        lambda s: s.rsplit("$", 1)[0],  # a field missing
        lambda s: s.replace(",p=", ",q=", 1),  # a parameter missing
        lambda s: s[:-4] + ("AAAA" if not s.endswith("AAAA") else "BBBB"),  # another verifier
    ],
    ids=["memory", "zero-time", "base64", "field", "parameter", "verifier"],
)
def test_a_tampered_verifier_never_matches(vera: Installation, tamper: Any) -> None:
    with vera.app.app_context():
        stored = vera.user(EMAIL).password_hash
        assert passwords.check_password(stored, PASSWORD)[0]
        assert passwords.check_password(tamper(stored), PASSWORD) == (False, None)
        assert not passwords.verify_password(tamper(stored), PASSWORD)


def test_the_halves_are_independent_and_bound_to_the_derivation() -> None:
    cost = keywrap.Cost(1, 8, 1)
    one = keywrap.new_derivation("lösenord", cost)
    other = keywrap.new_derivation("lösenord", cost)
    assert len({one.verifier(), one.kek(), one.output, other.kek()}) == 4
    blob = keywrap.wrap_derived(b"nyckel", one, aad=b"x")
    assert keywrap.unwrap_derived(blob, one, aad=b"x") == b"nyckel"
    assert keywrap.unwrap(blob, "lösenord", aad=b"x") == b"nyckel"
    with pytest.raises(CryptoError):
        keywrap.unwrap_derived(blob, other, aad=b"x")
    with pytest.raises(CryptoError):
        keywrap.unwrap_derived(blob, one, aad=b"y")
    with pytest.raises(CryptoError):
        keywrap.unwrap(blob, "fel", aad=b"x")


def test_the_sign_in_page_stores_the_move(vera: Installation, work: Work) -> None:
    # Given Vera's account on the older form
    private = _make_legacy(vera)
    # When she signs in on the page (password, then her code)
    response = vera.login(vera.app.test_client(), EMAIL)
    assert response.status_code == 302
    # Then her account is on the one-derivation form, with the same key
    with vera.app.app_context():
        user = vera.user(EMAIL)
        assert passwords.is_derived(user.password_hash)
        assert _sign_in().private_key == private
