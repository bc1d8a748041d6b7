"""An organiser creates a dialogue; residents sign up until the waiting list; one cancels."""

from __future__ import annotations

import email.header
import re

import sqlalchemy as sa

from intake import outbox
from intake.dialogues.models import Registration
from intake.extensions import db


def test_signup_waitlist_cancel_promote(installation, smtp) -> None:  # type: ignore[no-untyped-def]
    app = installation.app
    app.config.update(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    from intake.extensions import mail

    mail.init_app(app)
    installation.add_user("olle@alvsbyn.invalid", "organiser", inboxes=("Medborgardialog",))
    staff = app.test_client()
    installation.login(staff, "olle@alvsbyn.invalid")
    response = staff.post(
        "/personal/dialoger/ny",
        data={
            "title": "Trygghet i centrum",
            "hosts": ["polisen", "kommunen"],
            "themes": ["trygghet"],
            "starts_at": "2099-03-14 18:00",
            "ends_at": "2099-03-14 20:00",
            "format": "in_person",
            "place": "Folkets hus",
            "capacity": "2",
            "reminder_hours": "24",
            "accepts_questions": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    dialogue_id = int(re.search(r"/personal/dialoger/(\d+)", response.location).group(1))
    resident = app.test_client()
    # A new dialogue is a draft: not public until the organiser publishes it
    assert resident.get(f"/dialoger/{dialogue_id}").status_code == 404
    assert staff.post(f"/personal/dialoger/{dialogue_id}/publicera").status_code == 302
    assert resident.get(f"/dialoger/{dialogue_id}").status_code == 200
    for n in range(3):
        r = resident.post(
            f"/dialoger/{dialogue_id}/anmalan",
            data={
                "name": f"Person {n}",
                "email": f"p{n}@example.com",
                "party_size": "1",
                "privacy": "y",
            },
        )
        assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    assert r.location.endswith("/anmald/reserv-1")
    dup = resident.post(
        f"/dialoger/{dialogue_id}/anmalan",
        data={"name": "Igen", "email": "P0@example.com", "party_size": "1", "privacy": "y"},
    )
    # The page answers as for a new address; the mail tells the address's owner the truth.
    assert dup.status_code == 303 and dup.location.endswith("/anmald/reserv-2")
    with app.app_context():
        assert outbox.deliver_due() == 4
    messages = smtp.mailbox.wait_for(4)
    subject = str(email.header.make_header(email.header.decode_header(messages[3]["Subject"])))
    assert subject.startswith("Du är redan anmäld")
    first = messages[0]
    assert any(part.get_content_type() == "text/calendar" for part in first.walk())
    text = next(
        p.get_payload(decode=True).decode()
        for p in first.walk()
        if p.get_content_type() == "text/plain"
    )
    token = re.search(r"/dialoger/avboka/([\w.\-]+)", text).group(1)
    assert resident.get(f"/dialoger/avboka/{token}").status_code == 200
    assert resident.post(f"/dialoger/avboka/{token}").status_code == 200
    with app.app_context():
        statuses = sorted(db.session.scalars(sa.select(Registration.status)))
        assert statuses == ["cancelled", "confirmed", "confirmed"]
    assert staff.get(f"/personal/dialoger/{dialogue_id}").status_code == 200
    csv = staff.get(f"/personal/dialoger/{dialogue_id}/deltagare.csv")
    assert "Person 1" in csv.get_data(as_text=True)
    q = resident.post(
        f"/dialoger/{dialogue_id}/fraga",
        data={"text": "Varför är det mörkt i parken?", "theme": "trygghet"},
    )
    assert q.status_code == 303
    page = staff.get(f"/personal/dialoger/{dialogue_id}/fragor").get_data(as_text=True)
    assert "Varför är det mörkt i parken?" in page
