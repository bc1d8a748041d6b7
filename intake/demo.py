"""Demo content for trying the service: made-up reports (sent through the real path), two
dialogues (one coming, one held with a summary), and some recorded activities."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from intake import clock, gallring
from intake.dialogues.models import Dialogue, HeldReport
from intake.extensions import db
from intake.followup.models import Activity, Commitment
from intake.reports import service

DEMO_REPORTS = (
    {
        "reporter_type": "privat",
        "anonymous": "ja",
        "subject_type": "barn",
        "first_name": "Exempel",
        "age": "9",
        "guardians_aware": "vet_ej",
        "categories": ["omsorgssvikt"],
        "what_happened": "Påhittat exempel: barnet kommer ofta till skolan utan mat och kläder.",
        "acute_danger": "nej",
    },
    {
        "reporter_type": "yrkesverksam",
        "anonymous": "nej",
        "subject_type": "aldre",
        "first_name": "Exempelperson",
        "what_happened": "Påhittat exempel: en äldre granne verkar inte klara sin vardag.",
        "acute_danger": "vet_ej",
        "reporter_name": "Demo Demosson",
        "reporter_phone": "0929-000 00",
        "reporter_email": "demo@example.com",
        "workplace": "Hemtjänsten",
        "role": "Undersköterska",
        "information_received_by": "Jag själv",
        "information_received_on": "2026-01-15",
        "wants_feedback": "ja",
    },
)


def _dialogues() -> None:
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    coming = Dialogue(
        title="Medborgardialog om trygghet i centrum",
        description="Polisen och kommunen vill höra vad du tycker om tryggheten i centrum.",
        themes=["trygghet", "narkotika"],
        hosts=["polisen", "kommunen"],
        starts_at=now + timedelta(days=21),
        ends_at=now + timedelta(days=21, hours=2),
        place="Kulturhuset",
        address="Storgatan 27, Älvsbyn",
        capacity=40,
        accessibility="Hörslinga finns. Teckentolk på begäran.",
        created_at=now,
        updated_at=now,
    )
    held = Dialogue(
        title="Medborgardialog om trafiken vid skolorna",
        description="Samtal om trafiksäkerhet vid skolorna.",
        themes=["trafik"],
        hosts=["polisen", "kommunen"],
        starts_at=now - timedelta(days=30),
        ends_at=now - timedelta(days=30) + timedelta(hours=2),
        place="Älvåkraskolan",
        address="Skolgatan 2, Älvsbyn",
        created_at=now - timedelta(days=60),
        updated_at=now - timedelta(days=29),
    )
    db.session.add_all([coming, held])
    db.session.flush()
    db.session.add(
        HeldReport(
            dialogue_id=held.id,
            held=True,
            attendees=23,
            summary="Många tog upp hastigheten på Skolgatan vid lämning och hämtning.",
            themes_raised="Trafik, belysning",
            follow_up_actions="Polisen gör trafikkontroller vid Älvåkraskolan under hösten.",
            recorded_at=now - timedelta(days=29),
        )
    )


def _activities() -> None:
    today = clock.local_date(clock.now())
    for text, place, count in (
        ("trafikkontroller", "Älvåkraskolan", 3),
        ("Polishundar", "Älvsbyns gymnasium", 1),
    ):
        commitment = db.session.query(Commitment).filter(Commitment.text.contains(text)).first()
        if commitment is not None:
            db.session.add(
                Activity(
                    commitment_id=commitment.id,
                    occurred_on=date(today.year, 1, 15)
                    if today >= date(today.year, 1, 15)
                    else today,
                    count=count,
                    place=place,
                    note="Demo",
                    recorded_at=clock.now(),
                )
            )


def _retention_decisions() -> None:
    """Demo gallringsbeslut (marked demo, shown as such) for classes that have none, so that
    the retention round can be tried. A production setup records none (intake.gallring)."""
    today = clock.local_date(clock.now())
    for code in gallring.CLASSES:
        if gallring.current(code, on=today) is None:
            gallring.record(
                code,
                reference="DEMO 2026/1",
                decided_on=today,
                decided_by="Demo – inget riktigt beslut",
                retention_days=30,
                valid_from=today,
                now=clock.now(),
                demo=True,
            )


def add_demo_content() -> int:
    """Send the demo reports and add dialogues, activities and demo gallringsbeslut; returns
    how many reports."""
    for answers in DEMO_REPORTS:
        service.submit(dict(answers), base_url=current_app.config["BASE_URL"])
    _dialogues()
    _activities()
    _retention_decisions()
    db.session.commit()
    return len(DEMO_REPORTS)
