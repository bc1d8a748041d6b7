"""A caseworker signs in, reads a report and handles it (test client)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from intake import clock
from intake.extensions import db
from intake.reports.models import Report

from ..reports.journey_helpers import PROFESSIONAL_CHILD, walk


def test_caseworker_reads_and_handles_a_report(installation) -> None:  # type: ignore[no-untyped-def]
    app = installation.app
    installation.add_user("vera@alvsbyn.invalid", "caseworker", inboxes=("Barn och unga",))
    resident = app.test_client()
    walk(resident, PROFESSIONAL_CHILD)
    staff = app.test_client()
    response = installation.login(staff, "vera@alvsbyn.invalid")
    assert response.status_code == 302 and response.location == "/personal/"
    assert staff.get("/personal/").status_code == 200
    inbox = staff.get("/personal/inkorg").get_data(as_text=True)
    report_id = re.search(r"/personal/anmalan/([0-9a-f-]{36})", inbox).group(1)
    page = staff.get(f"/personal/anmalan/{report_id}")
    assert page.status_code == 200, page.get_data(as_text=True)[:3000]
    assert "Alva är ofta hungrig i skolan." in page.get_data(as_text=True)
    assert (
        staff.post(
            f"/personal/anmalan/{report_id}/skyddsbedomning", data={"note": "Ingen akut fara."}
        ).status_code
        == 302
    )
    assert (
        staff.post(
            f"/personal/anmalan/{report_id}/beslut",
            data={"decision": "opened", "decided_on": clock.local_date(clock.now()).isoformat()},
        ).status_code
        == 302
    )
    r = staff.post(f"/personal/anmalan/{report_id}/aterkoppling")
    assert r.status_code == 302
    assert (
        staff.post(
            f"/personal/anmalan/{report_id}/registrerad",
            data={
                "registered_on": clock.local_date(clock.now()).isoformat(),
                "case_reference": "SN 2026/1",
            },
        ).status_code
        == 302
    )
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        # The reporter did not sign in with e-legitimation: no återkoppling (issue 12 §2)
        assert report.status == "registered" and report.feedback_sent_at is None
    assert staff.get(f"/personal/anmalan/{report_id}/utskrift").status_code == 200
