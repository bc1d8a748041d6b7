"""Failed mail on the admin's overview: "Försök igen" while the address is still there (a
failed row's address is usually wiped, and the page says it cannot be resent), and "Ta bort
från listan", audit-logged. Both go through intake.outbox."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import audit, clock, outbox
from intake.extensions import db, mail
from intake.outbox import OutboxMessage

from .accounts.back_office import text
from .staff_helpers import Installation

CHEF = "chef@alvsbyn.se"


@pytest.fixture
def admin(installation: Installation) -> FlaskClient:
    installation.add_user(CHEF, "admin")
    client = installation.app.test_client()
    installation.login(client, CHEF)
    return client


def given_up(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """A mail the outbox gave up on the ordinary way (its address wiped); returns its id."""

    def refuse(message: object) -> None:
        raise smtplib.SMTPRecipientsRefused({})

    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    with app.app_context():
        outbox.enqueue("new_report", "vuxna@alvsbyn.se", {"inbox": "Vuxna", "acute": False})
        db.session.commit()
        monkeypatch.setattr(mail, "send", refuse)
        outbox.deliver_due()
        monkeypatch.undo()
        row = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert row is not None and row.failed_at is not None and row.recipient_protected is None
        return row.id


def failed_with_address(app: Flask) -> int:
    """A failed mail that still has its address (e.g. given up before addresses were wiped)."""
    with app.app_context():
        outbox.enqueue("new_report", "vuxna@alvsbyn.se", {"inbox": "Vuxna", "acute": False})
        row = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert row is not None
        row.attempts, row.failed_at, row.last_error = 12, clock.now(), "SMTPDataError"
        db.session.commit()
        return row.id


def row(app: Flask, message_id: int) -> OutboxMessage | None:
    with app.app_context():
        found = db.session.get(OutboxMessage, message_id)
        if found is not None:
            db.session.expunge(found)
        return found


def events(app: Flask, action: str) -> list[audit.AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(sa.select(audit.AuditEvent).where(audit.AuditEvent.action == action))
        )
        for event in found:
            db.session.expunge(event)
        return found


def test_a_row_without_its_address_cannot_be_resent_and_the_page_says_so(
    installation: Installation, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = installation.app
    message_id = given_up(app, monkeypatch)
    # The overview offers no resend for it, and says why
    html = text(admin.get("/personal/"))
    assert f"/personal/admin/e-post/{message_id}/forsok-igen" not in html
    assert "Kan inte skickas igen: adressen är raderad." in html
    assert f"/personal/admin/e-post/{message_id}/ta-bort" in html
    # A hand-made request to resend it is refused with the reason, and nothing changes
    response = admin.post(f"/personal/admin/e-post/{message_id}/forsok-igen", follow_redirects=True)
    assert response.status_code == 200
    assert "kan inte skickas igen" in text(response)
    still = row(app, message_id)
    assert still is not None and still.failed_at is not None
    assert events(app, "failed_mail_requeued") == []


def test_a_row_with_its_address_is_requeued(installation: Installation, admin: FlaskClient) -> None:
    app = installation.app
    message_id = failed_with_address(app)
    html = text(admin.get("/personal/"))
    assert f"/personal/admin/e-post/{message_id}/forsok-igen" in html
    # When the admin presses "Försök igen"
    response = admin.post(f"/personal/admin/e-post/{message_id}/forsok-igen")
    assert response.status_code == 302
    # Then the row gets a fresh round of attempts, now, and the log says who did it
    again = row(app, message_id)
    assert again is not None
    assert (again.failed_at, again.attempts, again.last_error) == (None, 0, None)
    assert again.next_attempt_at <= clock.now() + timedelta(seconds=1)
    (event,) = events(app, "failed_mail_requeued")
    assert (event.actor, event.target_type, event.target_id) == (CHEF, "outbox", str(message_id))
    assert "E-postmeddelandet skickas igen." in text(admin.get("/personal/"))


def test_dismissing_takes_the_row_off_the_list_and_logs_it(
    installation: Installation, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = installation.app
    message_id = given_up(app, monkeypatch)
    response = admin.post(f"/personal/admin/e-post/{message_id}/ta-bort")
    assert response.status_code == 302
    assert row(app, message_id) is None
    (event,) = events(app, "failed_mail_dismissed")
    assert event.target_id == str(message_id)
    assert event.details["template"] == "new_report"
    assert event.details["error"] == "SMTPRecipientsRefused"
    html = text(admin.get("/personal/"))
    assert f"/personal/admin/e-post/{message_id}/" not in html
    assert "har inte kunnat skickas" not in html


@pytest.mark.parametrize("action", ["forsok-igen", "ta-bort"])
def test_only_failed_rows_and_only_admins(
    installation: Installation, admin: FlaskClient, action: str
) -> None:
    app = installation.app
    message_id = failed_with_address(app)
    # A row that is still trying (not failed) or does not exist is not found
    with app.app_context():
        outbox.enqueue("new_report", "vuxna@alvsbyn.se", {"inbox": "Vuxna", "acute": False})
        db.session.commit()
        pending = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id)))
    assert admin.post(f"/personal/admin/e-post/{pending}/{action}").status_code == 404
    assert admin.post(f"/personal/admin/e-post/999999/{action}").status_code == 404
    # A caseworker may not touch it
    installation.add_user("vera@alvsbyn.se", "caseworker", inboxes=("Vuxna",))
    caseworker = app.test_client()
    installation.login(caseworker, "vera@alvsbyn.se")
    assert caseworker.post(f"/personal/admin/e-post/{message_id}/{action}").status_code == 403
    kept = row(app, message_id)
    assert kept is not None and kept.failed_at is not None
