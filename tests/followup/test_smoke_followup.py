"""The seed promise is loaded; a police partner records traffic controls; pages render."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from intake.extensions import db
from intake.followup.models import Activity, Commitment


def test_partner_records_and_dashboard_counts(installation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import intake.clock

    monkeypatch.setattr(intake.clock, "now", lambda: datetime(2026, 7, 2, 10, 0, tzinfo=UTC))
    app = installation.app
    installation.add_user("polis@example.com", "partner")
    client = app.test_client()
    installation.login(client, "polis@example.com")
    with app.app_context():
        traffic = db.session.scalar(
            sa.select(Commitment).where(Commitment.text.contains("trafikkontroller"))
        )
        survey = db.session.scalar(
            sa.select(Commitment).where(Commitment.text.contains("droganeundersökning"))
        )
        traffic_id, survey_id = traffic.id, survey.id
    r = client.post(
        f"/personal/uppfoljning/atagande/{traffic_id}/aktiviteter",
        data={"occurred_on": "2026-03-10", "count": "3", "place": "Lomma skola"},
    )
    assert r.status_code == 302
    assert (
        client.post(
            f"/personal/uppfoljning/atagande/{survey_id}/aktiviteter",
            data={"occurred_on": "2026-03-10", "count": "1"},
        ).status_code
        == 403
    )
    page = client.get("/personal/uppfoljning/?ar=2026").get_data(as_text=True)
    assert "3 av 10" in page
    assert re.search(r"Efter plan \(5 väntat hittills\)", page), page[
        page.find("trafikkontroller") - 200 : page.find("trafikkontroller") + 800
    ]
    assert client.get(f"/personal/uppfoljning/atagande/{traffic_id}?ar=2026").status_code == 200
    report = client.get("/personal/uppfoljning/rapport?fran=2026-01-01&till=2026-12-31")
    assert "Lomma skola" in report.get_data(as_text=True)
    csv = client.get("/personal/uppfoljning/rapport.csv?fran=2026-01-01&till=2026-12-31").get_data(
        as_text=True
    )
    assert "Lomma skola (3)" in csv
    public = app.test_client().get("/medborgarloftet/").get_data(as_text=True)
    assert "3 av 10" in public and "2021" in public
    with app.app_context():
        recorded = sa.select(sa.func.count()).where(Activity.commitment_id == traffic_id)
        assert db.session.scalar(recorded) == 1
