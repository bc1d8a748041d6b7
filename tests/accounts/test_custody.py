"""Key custody: who can unlock which inbox, and what survives a password change or reset."""

from __future__ import annotations

import base64
import os
import re

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap, clock
from intake.accounts import service
from intake.accounts.models import Membership, StaffSession
from intake.crypto import CryptoError, custody
from intake.extensions import db
from intake.reports.models import Report
from intake.reports.service import open_answers

from ..staff_helpers import PASSWORD, Installation
from .back_office import (
    Clock,
    client_with,
    cookie,
    errors,
    freeze,
    signed_cookie,
    staff_cookie,
    stockholm,
    submit,
    text,
)

BEA, VERA, CHEF = "bea@alvsbyn.invalid", "vera@alvsbyn.invalid", "chef@alvsbyn.invalid"
LOGIN, ENROL = "/personal/logga-in", "/personal/tvastegsverifiering/aktivera"
NEW_PASSWORD = "en lång och ovanlig mening om hjortron"
NOT_MEMBER = "Du är inte medlem i inkorgen, och återställningskoden stämmer inte."


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A Tuesday morning that only moves when the test says so."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


@pytest.fixture
def office(installation: Installation, frozen: Clock) -> Installation:
    """Bea in "Barn och unga", Vera in "Vuxna", an admin in nothing; a report in each."""
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    installation.add_user(VERA, "caseworker", inboxes=("Vuxna",))
    installation.add_user(CHEF, "admin")
    submit(installation.app, what_happened="Barnets KANARIE-text.")
    submit(installation.app, subject_type="vuxen", what_happened="Vuxens KANARIE-text.")
    return installation


def _report(inbox: str) -> Report:
    return next(r for r in db.session.scalars(sa.select(Report)) if r.inbox.name == inbox)


def _report_id(app: Flask, inbox: str) -> str:
    with app.app_context():
        return _report(inbox).id


def _private_key(installation: Installation, email: str, password: str = PASSWORD) -> bytes:
    user = installation.user(email)
    assert user.wrapped_private_key is not None
    return custody.unwrap_user_key(user.wrapped_private_key, password, user_id=user.id)


def test_a_member_of_one_inbox_cannot_open_another_even_with_the_database(
    office: Installation,
) -> None:
    with office.app.app_context():
        # Given Bea's unlocked private key (her password and the whole database)
        bea = office.user(BEA)
        key = _private_key(office, BEA)
        barn, vuxna = office.inbox("Barn och unga"), office.inbox("Vuxna")
        own = service.inbox_secret(bea, key, barn.id)
        assert "Barnets KANARIE-text." in str(open_answers(_report("Barn och unga"), own.private))
        # When she asks for the other inbox, then she is not a member
        with pytest.raises(service.AccessError):
            service.inbox_secret(bea, key, vuxna.id)
        # And her own inbox's key does not open the other inbox's report
        with pytest.raises(CryptoError):
            open_answers(_report("Vuxna"), own.private)
        # And a membership row forged from her own copy does not unlock the other inbox
        mine = db.session.scalar(sa.select(Membership).where(Membership.user_id == bea.id))
        assert mine is not None
        db.session.add(Membership(
            user_id=bea.id, inbox_id=vuxna.id, sealed_secret=mine.sealed_secret,
            granted_at=clock.now(),
        ))  # fmt: skip
        db.session.flush()
        with pytest.raises(service.AccessError):
            service.inbox_secret(bea, key, vuxna.id)
        # And Vera's copy of the other inbox's secret is sealed to Vera, not to Bea
        veras = db.session.scalar(
            sa.select(Membership).where(Membership.user_id == office.user(VERA).id)
        )
        assert veras is not None
        with pytest.raises(CryptoError):
            custody.open_membership(veras.sealed_secret, key, inbox_id=vuxna.id, user_id=bea.id)
        db.session.rollback()


def test_the_session_row_and_the_cookie_are_useless_apart(office: Installation) -> None:
    app = office.app
    # Given Bea signed in
    client = app.test_client()
    office.login(client, BEA)
    value = cookie(client)
    staff = staff_cookie(app, value)
    with app.app_context():
        row = db.session.scalar(sa.select(StaffSession))
        assert row is not None
        bea = office.user(BEA)
        # Then the row opens only with the key from her cookie
        key = base64.urlsafe_b64decode(staff["k"])
        private = custody.unwrap_from_session(
            row.wrapped_key, key, session_id=row.id, user_id=bea.id
        )
        assert private == _private_key(office, BEA)
        with pytest.raises(CryptoError):
            custody.unwrap_from_session(
                row.wrapped_key, os.urandom(32), session_id=row.id, user_id=bea.id
            )
        # And it is bound to its own row and user
        with pytest.raises(CryptoError):
            custody.unwrap_from_session(row.wrapped_key, key, session_id=row.id + 1, user_id=bea.id)
        # And the wrapped key is not the private key in any plain form
        assert private not in row.wrapped_key
    # When a cookie carries the right token but another key, it is refused
    forged = {"staff": {"t": staff["t"], "k": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}}
    assert client_with(app, signed_cookie(app, forged)).get("/personal/").status_code == 302
    report_id = _report_id(app, "Barn och unga")
    assert client_with(app, value).get(f"/personal/anmalan/{report_id}").status_code == 200
    # When the row is gone, the untouched cookie is refused too
    with app.app_context():
        db.session.execute(sa.delete(StaffSession))
        db.session.commit()
    response = client_with(app, value).get(f"/personal/anmalan/{report_id}")
    assert response.status_code == 302 and response.location.startswith(LOGIN)


def test_a_password_change_keeps_access(office: Installation, frozen: Clock) -> None:
    app = office.app
    report_id = _report_id(app, "Barn och unga")
    # Given Bea signed in
    client = app.test_client()
    office.login(client, BEA)
    # When she changes her password and signs in again with the new one
    response = client.post(
        "/personal/byt-losenord",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    client.post("/personal/logga-ut")
    frozen.advance(seconds=30)
    office.login(client, BEA, password=NEW_PASSWORD)
    # Then she still reads the report: her key was re-wrapped, not replaced
    page = client.get(f"/personal/anmalan/{report_id}")
    assert page.status_code == 200 and "Barnets KANARIE-text." in text(page)
    with app.app_context(), pytest.raises(CryptoError):
        _private_key(office, BEA)  # the old password opens nothing


def _one_time_password(html: str) -> str:
    found = re.search(r'<p class="reference"><code>([^<]+)</code>', html)
    assert found is not None, html[-2000:]
    return found.group(1)


def _first_sign_in(office: Installation, client, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """A user with a one-time password: password, enrolment, own password."""
    response = client.post(LOGIN, data={"email": email, "password": password})
    assert response.location == ENROL
    client.get(ENROL)
    with office.app.app_context():
        secret = service.totp_secret(office.user(email), office.app.config["APP_KEYS"])
    done = client.post(ENROL, data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200
    # The one-time password is the current password: she just typed it
    response = client.post(
        "/personal/byt-losenord",
        data={"current_password": password, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.location == "/personal/"


def test_an_admin_reset_loses_access_until_granted_again(
    office: Installation, frozen: Clock
) -> None:
    app = office.app
    report_id = _report_id(app, "Barn och unga")
    with app.app_context():
        bea_id, barn_id = office.user(BEA).id, office.inbox("Barn och unga").id
    bea, admin = app.test_client(), app.test_client()
    office.login(bea, BEA)
    office.login(admin, CHEF)
    # Given the admin resets Bea's password; the page says plainly what that means
    page = admin.post(f"/personal/admin/anvandare/{bea_id}/aterstall")
    assert page.status_code == 200
    assert "förlorat tillgången till alla inkorgar" in text(page)
    one_time = _one_time_password(text(page))
    # Then her running session has ended
    assert bea.get("/personal/").status_code == 302
    # When she signs in with the one-time password, enrols and picks her own password
    _first_sign_in(office, bea, BEA, one_time)
    # Then the report is gone for her: a new key pair, no membership
    assert bea.get(f"/personal/anmalan/{report_id}").status_code == 404
    assert "Du är inte medlem i någon inkorg" in text(bea.get("/personal/"))
    # When the admin grants her the inbox again with its recovery code
    response = admin.post(
        f"/personal/admin/inkorgar/{barn_id}/medlemmar",
        data={"user_id": bea_id, "recovery_code": office.recovery_codes["Barn och unga"]},
    )
    assert response.status_code == 302
    # Then she reads it again, in the session she already has
    page = bea.get(f"/personal/anmalan/{report_id}")
    assert page.status_code == 200 and "Barnets KANARIE-text." in text(page)


@pytest.mark.parametrize(
    ("code", "admin_is_member", "granted"),
    [
        ("right", False, True),
        ("right, typed loosely", False, True),
        ("", True, True),  # a member grants with their own unlocked key
        ("", False, False),
        ("ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567", False, False),
    ],
)
def test_granting_membership(
    office: Installation, code: str, admin_is_member: bool, granted: bool
) -> None:
    app = office.app
    recovery = office.recovery_codes["Barn och unga"]
    typed = {"right": recovery, "right, typed loosely": recovery.lower().replace("-", " ")}
    newcomer = office.add_user("ny@alvsbyn.invalid", "caseworker")
    if admin_is_member:
        office.add_user("medlem@alvsbyn.invalid", "admin", inboxes=("Barn och unga",))
    report_id = _report_id(app, "Barn och unga")
    with app.app_context():
        barn_id = office.inbox("Barn och unga").id
    admin = app.test_client()
    office.login(admin, "medlem@alvsbyn.invalid" if admin_is_member else CHEF)
    # Given an admin who reads the report only if a member
    expected = 200 if admin_is_member else 404
    assert admin.get(f"/personal/anmalan/{report_id}").status_code == expected
    # When they grant the newcomer the inbox
    response = admin.post(
        f"/personal/admin/inkorgar/{barn_id}/medlemmar",
        data={"user_id": newcomer, "recovery_code": typed.get(code, code)},
    )
    # Then it works with the recovery code or their own membership, and only then
    newcomer_client = app.test_client()
    office.login(newcomer_client, "ny@alvsbyn.invalid")
    status = newcomer_client.get(f"/personal/anmalan/{report_id}").status_code
    if granted:
        assert response.status_code == 302 and status == 200
    else:
        assert response.status_code == 200 and status == 404
        assert NOT_MEMBER in errors(text(response))
    # And the admin who is not a member still reads nothing
    assert admin.get(f"/personal/anmalan/{report_id}").status_code == expected


def test_the_recovery_code_opens_the_inbox_and_nothing_else(office: Installation) -> None:
    with office.app.app_context():
        barn, vuxna = office.inbox("Barn och unga"), office.inbox("Vuxna")
        secret = bootstrap.recover_inbox_secret(barn, office.recovery_codes["Barn och unga"])
        assert "Barnets" in str(open_answers(_report("Barn och unga"), secret.private))
        with pytest.raises(CryptoError):
            bootstrap.recover_inbox_secret(vuxna, office.recovery_codes["Barn och unga"])
        with pytest.raises(CryptoError):
            # the wrapped secret is bound to its inbox: copying it over changes nothing
            custody.unwrap_with_recovery_code(
                barn.recovery_wrapped_key, office.recovery_codes["Barn och unga"], slug="vuxna"
            )
