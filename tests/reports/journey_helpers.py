"""Walk the resident's journey with a test client."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

PRIVATE_ANONYMOUS_CHILD: dict[str, dict[str, Any]] = {
    "om-dig": {"reporter_type": "privat", "anonymous": "ja"},
    "personen": {"subject_type": "barn", "first_name": "Alva", "age": "8"},
    "vardnadshavare": {"guardian1_name": "Förälder Ett", "guardians_aware": "nej"},
    "oro": {
        "categories": ["omsorgssvikt"],
        "what_happened": "Barnet är ofta hungrigt.",
        "acute_danger": "nej",
    },
}

PROFESSIONAL_ADULT: dict[str, dict[str, Any]] = {
    "om-dig": {"reporter_type": "yrkesverksam", "anonymous": "nej"},
    "personen": {"subject_type": "vuxen", "first_name": "Bo"},
    "oro": {
        "what_happened": "Bo verkar inte klara sin vardag.",
        "acute_danger": "ja",
        "acute_how": "Hot",
    },
    "dina-uppgifter": {
        "reporter_name": "Lärare Lärarsson",
        "reporter_phone": "0929-123 45",
        "reporter_email": "larare@skola.example",
        "workplace": "Älvåkraskolan",
        "role": "Lärare",
        "information_received_by": "Jag själv",
        "information_received_on": "2026-01-10",
        "wants_feedback": "ja",
    },
}

# A mandated reporter (a teacher) about a child, asking for återkoppling.
PROFESSIONAL_CHILD: dict[str, dict[str, Any]] = {
    "om-dig": {"reporter_type": "yrkesverksam", "anonymous": "nej"},
    "personen": {"subject_type": "barn", "first_name": "Alva", "age": "8"},
    "vardnadshavare": {"guardian1_name": "Förälder Ett", "guardians_aware": "nej"},
    "oro": {
        "categories": ["omsorgssvikt"],
        "what_happened": "Alva är ofta hungrig i skolan.",
        "acute_danger": "vet_ej",
    },
    "dina-uppgifter": {**PROFESSIONAL_ADULT["dina-uppgifter"]},
}


def walk(client: FlaskClient, steps: dict[str, dict[str, Any]], *, send: bool = True) -> Any:
    """Post every step, then the check page; return the last response."""
    for slug, data in steps.items():
        response = client.post(f"/orosanmalan/{slug}", data=data)
        assert response.status_code == 302, (slug, response.get_data(as_text=True)[:2000])
    if not send:
        return response
    return client.post("/orosanmalan/granska", data={"confirm": "ja"})
