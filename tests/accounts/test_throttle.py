"""Sign-in delays do not tell who has an account: every typed address is counted the same
way, under a keyed hash, and forgotten after a while."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import audit
from intake.accounts import guard, service, throttle
from intake.accounts.models import SignInThrottle
from intake.crypto import keywrap, passwords
from intake.extensions import db

from ..staff_helpers import PASSWORD, Installation
from .back_office import Clock, errors, freeze, stockholm, text

EMAIL = "vera.lindqvist@alvsbyn.invalid"
UNKNOWN = "ingen.alls@alvsbyn.invalid"
GONE = "slutat@alvsbyn.invalid"  # an account that was deactivated
LOGIN, SECOND = "/personal/logga-in", "/personal/tvastegsverifiering"
WRONG = "Fel e-postadress eller lösenord."
BAD_CODE = "Koden stämmer inte. Försök igen med en ny kod."
MISS = "fel lösenord helt och hållet"
# What each kind of address is tried with: a stranger's guess; the deactivated account with
# its own right password (a former employee must not learn anything either).
GUESS = {EMAIL: MISS, EMAIL.upper(): MISS, UNKNOWN: MISS, GONE: PASSWORD}
Outcome = tuple[int, list[str]]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A Tuesday morning that only moves when the test says so."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


@pytest.fixture
def office(installation: Installation, frozen: Clock) -> Installation:
    """Vera (active) and a deactivated account."""
    installation.add_user(EMAIL, "caseworker", inboxes=("Vuxna",))
    installation.add_user(GONE, "caseworker")
    with installation.app.app_context():
        installation.user(GONE).active = False
        db.session.commit()
    return installation


def attempt(app: Flask, email: str, password: str | None = None) -> Outcome:
    """One sign-in from a fresh browser: the status and the inline errors."""
    response = app.test_client().post(
        LOGIN,
        data={"email": email, "password": GUESS.get(email, MISS) if password is None else password},
    )
    html = text(response)
    # Whatever happens, the typed password never comes back in the page
    assert 'value=""' in re.search(r'<input[^>]*id="password"[^>]*>', html, re.S).group(0)  # type: ignore[union-attr]
    return response.status_code, errors(html)


def waited(outcome: Outcome) -> int:
    """The seconds a 429 asks for (0 for any other answer)."""
    found = re.search(r"Vänta (\d+) sekund(?:er)?", " ".join(outcome[1]))
    return int(found.group(1)) if outcome[0] == 429 and found else 0


def fail_then_try(app: Flask, frozen: Clock, email: str, failures: int) -> list[Outcome]:
    """`failures` refused passwords (each wait sat out), then one more try at once."""
    seen: list[Outcome] = []
    while len([o for o in seen if o[0] == 200]) < failures:
        seen.append(attempt(app, email))
        frozen.advance(seconds=waited(seen[-1]))
    seen.append(attempt(app, email))
    return seen


def row(app: Flask, email: str) -> tuple[int, object] | None:
    """The throttle row of an address: its count and lock, or None."""
    with app.app_context():
        key_hash = throttle.key_for(email, key=guard.throttle_key())
        found = db.session.get(SignInThrottle, key_hash)
        return None if found is None else (found.failures, found.locked_until)


@pytest.mark.parametrize("other", [UNKNOWN, GONE])
@pytest.mark.parametrize("failures", [0, 1, 2, 3, 4, 5, 8])
def test_an_address_without_an_account_gets_the_same_answers(
    office: Installation, frozen: Clock, other: str, failures: int
) -> None:
    app, start = office.app, frozen()
    # Given N refused passwords for Vera's address, every wait sat out, and one more at once
    known = fail_then_try(app, frozen, EMAIL, failures)
    # When the same is done, from the same moment, with an address that has no account
    frozen.set(start)
    unknown = fail_then_try(app, frozen, other, failures)
    # Then every answer is the same, delays and their lengths included
    assert unknown == known
    assert row(app, other) == row(app, EMAIL)
    expected_last = (429, []) if failures >= 3 else (200, [WRONG])
    assert known[-1][0] == expected_last[0]
    if failures < 3:
        assert known[-1] == expected_last


@pytest.mark.parametrize("email", [EMAIL.upper(), UNKNOWN, GONE])
def test_hammering_reads_the_same_for_every_address(
    office: Installation, frozen: Clock, email: str
) -> None:
    app, start = office.app, frozen()

    def hammer(address: str) -> list[Outcome]:
        frozen.set(start)
        with app.app_context():  # the upper-case address shares Vera's count: start afresh
            db.session.execute(sa.delete(SignInThrottle))
            db.session.commit()
        outcomes = []
        for _ in range(14):  # one try a second: mostly refused, sometimes let through
            outcomes.append(attempt(app, address))
            frozen.advance(seconds=1)
        return outcomes

    known = hammer(EMAIL)
    assert hammer(email) == known
    assert {status for status, _ in known} == {200, 429}


@pytest.mark.parametrize("email", [EMAIL, UNKNOWN])
@pytest.mark.parametrize(
    ("hours", "delayed"),
    [
        (23, True),  # the lock is over, but the count goes on: the next miss locks again
        (24, False),  # forgotten: three free tries again
        (48, False),
    ],
)
def test_failures_are_forgotten_a_day_after_the_last(
    office: Installation, frozen: Clock, email: str, hours: int, delayed: bool
) -> None:
    app = office.app
    # Given four refused passwords (the fourth locked)
    fail_then_try(app, frozen, email, 4)
    # When the address is quiet for a while, then missed once more
    frozen.advance(hours=hours)
    assert attempt(app, email) == (200, [WRONG])
    # Then the next try waits only if the count was still remembered
    assert (attempt(app, email)[0] == 429) is delayed


@pytest.mark.parametrize(
    ("email", "password", "actor_id", "actor"),
    [
        (EMAIL, MISS, "vera", EMAIL),
        (f"  {EMAIL.upper()} ", MISS, "vera", EMAIL),
        (UNKNOWN, PASSWORD, None, service.UNKNOWN_ACTOR),
        (GONE, PASSWORD, "gone", GONE),
    ],
)
def test_every_failure_does_the_same_work(
    office: Installation,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    password: str,
    actor_id: str | None,
    actor: str,
) -> None:
    # Timing must not tell the cases apart: each failure is one Argon2 check (against the
    # dummy hash when there is no account), one throttle count and one audit row.
    app = office.app
    checked: list[str] = []
    check = passwords.check_password

    def counting(stored: str, typed: str) -> tuple[bool, keywrap.Derivation | None]:
        checked.append(stored)
        return check(stored, typed)

    monkeypatch.setattr(passwords, "check_password", counting)
    with app.app_context():
        ids = {"vera": office.user(EMAIL).id, "gone": office.user(GONE).id, None: None}
        before = db.session.scalar(sa.select(sa.func.count()).select_from(audit.AuditEvent))
        with pytest.raises(service.LoginError) as refused:
            service.authenticate(email, password, throttle_key=guard.throttle_key())
        assert not isinstance(refused.value, service.LoginDelayed)
        assert len(checked) == 1
        dummy = service.dummy_hash(service.configured_cost())
        assert (checked[0] == dummy) is (actor_id is None)
        assert db.session.scalar(sa.select(SignInThrottle.failures)) == 1
        events = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.seq > (before or 0))
        ).all()
        assert [(e.action, e.actor_id, e.actor) for e in events] == [
            ("login_failed", ids[actor_id], actor)
        ]


def test_no_typed_address_is_stored_in_plain_text(office: Installation, frozen: Clock) -> None:
    app = office.app
    typed = "  Hemlig.Person@Example.ORG "
    address = typed.strip().lower()
    # Given failed sign-ins, some delayed, with an address that has no account
    fail_then_try(app, frozen, typed, 5)
    # Then no table holds the address, any part of it, or a plain (unkeyed) hash of it
    unkeyed = [hashlib.sha256(v.encode()).hexdigest() for v in (address, typed)]
    unkeyed += [hashlib.md5(v.encode()).hexdigest() for v in (address, typed)]
    with app.app_context():
        dump = " ".join(
            repr(tuple(found))
            for table in db.metadata.sorted_tables
            for found in db.session.execute(sa.select(table)).all()
        ).lower()
        for secret in [address, "hemlig.person", "hemlig", "example.org", *unkeyed]:
            assert secret not in dump, secret
        # And the one row kept is an HMAC under a key of this installation
        key_hash = db.session.scalars(sa.select(SignInThrottle.key_hash)).one()
        assert key_hash == throttle.key_for(address, key=guard.throttle_key())
        assert key_hash != throttle.key_for(address, key=b"another installation's key")
        # And the audit trail says that an unknown address failed, not which
        actors = set(db.session.scalars(sa.select(audit.AuditEvent.actor)))
        assert actors == {EMAIL, service.UNKNOWN_ACTOR}  # Vera's grant, then the misses


@pytest.mark.parametrize(
    ("typed", "same"),
    [
        (EMAIL, True),
        (EMAIL.upper(), True),
        (f"  {EMAIL}\t", True),
        (EMAIL.replace("@", "@x."), False),
        (UNKNOWN, False),
    ],
)
def test_one_count_per_address_however_it_is_typed(typed: str, same: bool) -> None:
    key = b"k" * 32
    assert (throttle.key_for(typed, key=key) == throttle.key_for(EMAIL, key=key)) is same


def test_concurrent_failures_for_a_new_address_are_all_counted(
    office: Installation, frozen: Clock
) -> None:
    # Given eight sign-ins with the same unknown address at the same moment
    app, start = office.app, threading.Barrier(8)
    results: list[BaseException] = []

    def work() -> None:
        with app.app_context():
            start.wait()
            try:
                service.authenticate(UNKNOWN, MISS, throttle_key=guard.throttle_key())
            except BaseException as error:  # reported below
                results.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then each was refused (none crashed on the first insert), and each checked one counted
    assert len(results) == 8
    assert all(isinstance(r, service.LoginError) for r in results), results
    checked = [r for r in results if not isinstance(r, service.LoginDelayed)]
    assert row(app, UNKNOWN) is not None and row(app, UNKNOWN)[0] == len(checked)  # type: ignore[index]


def test_a_right_password_does_not_buy_fresh_guesses_at_the_code(
    office: Installation, frozen: Clock
) -> None:
    app = office.app
    client = app.test_client()
    # Given the right password and three wrong codes
    client.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    for _ in range(3):
        assert errors(text(client.post(SECOND, data={"code": "000000"}))) == [BAD_CODE]
    # When the wait is sat out and the password given again, one more wrong code
    frozen.advance(seconds=2)
    again = app.test_client()
    assert again.post(LOGIN, data={"email": EMAIL, "password": PASSWORD}).location == SECOND
    assert again.post(SECOND, data={"code": "000000"}).status_code == 200
    # Then the code still waits: the count of codes goes on across sign-ins
    assert again.post(SECOND, data={"code": office.code(EMAIL)}).status_code == 429
    # And a good code, once the wait is over, starts it again
    frozen.advance(seconds=3)
    assert again.post(SECOND, data={"code": office.code(EMAIL)}).location == "/personal/"
    third = app.test_client()
    frozen.advance(seconds=30)
    third.post(LOGIN, data={"email": EMAIL, "password": PASSWORD})
    assert third.post(SECOND, data={"code": "000000"}).status_code == 200
    assert third.post(SECOND, data={"code": office.code(EMAIL)}).location == "/personal/"


def test_an_admin_reset_lifts_the_delay(office: Installation, frozen: Clock) -> None:
    app = office.app
    # Given someone has been guessing Vera's password
    fail_then_try(app, frozen, EMAIL, 4)
    assert attempt(app, EMAIL, PASSWORD)[0] == 429
    # When an admin resets it
    office.add_user("chef@alvsbyn.invalid", "admin")
    with app.app_context():
        one_time = service.reset_password(
            office.user(EMAIL),
            by=office.user("chef@alvsbyn.invalid"),
            cost=guard.argon2_cost(),
            throttle_key=guard.throttle_key(),
        )
    # Then she signs in with the one-time password at once
    response = app.test_client().post(LOGIN, data={"email": EMAIL, "password": one_time})
    assert response.status_code == 302
    assert row(app, EMAIL) is None
