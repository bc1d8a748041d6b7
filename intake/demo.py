"""Demo content for trying the service: a few made-up reports, sent through the real path."""

from __future__ import annotations

from flask import current_app

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
        "reporter_email": "demo@example.invalid",
        "workplace": "Hemtjänsten",
        "role": "Undersköterska",
        "information_received_by": "Jag själv",
        "information_received_on": "2026-01-15",
        "wants_feedback": "ja",
    },
)


def add_demo_content() -> int:
    """Send the demo reports; returns how many."""
    for answers in DEMO_REPORTS:
        service.submit(dict(answers), base_url=current_app.config["BASE_URL"])
    return len(DEMO_REPORTS)
