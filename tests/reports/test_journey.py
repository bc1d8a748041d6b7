"""The resident's journey through the test client: paths, validation, nothing lost."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports.identity import luhn_check_digit
from intake.reports.models import Draft, Inbox, Report

from .journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT, walk


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The inline error texts on a page."""
    html = response.get_data(as_text=True)
    return [
        re.sub(r"<[^>]+>", "", e).replace("Fel:", "").strip()
        for e in re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S)
    ]


def test_private_anonymous_child_is_received_routed_and_notified(
    app: Flask, client: FlaskClient
) -> None:
    # Given a private person reporting anonymously about a child
    # When they walk the whole journey and send
    response = walk(client, PRIVATE_ANONYMOUS_CHILD)
    # Then they land on the receipt with a reference and no content
    assert response.status_code == 303
    receipt = client.get(response.location)
    html = receipt.get_data(as_text=True)
    assert re.search(r"\d{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", html)
    assert "hungrigt" not in html and "Alva" not in html
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report is not None
        assert report.inbox.name == "Barn och unga"
        assert report.routing_rule is not None and report.acute is False
        mail = db.session.scalar(sa.select(OutboxMessage))
        assert mail is not None and mail.template == "new_report"
        assert mail.context == {
            "inbox": "Barn och unga",
            "acute": False,
            "acute_answer": "nej",
            "login_url": "http://127.0.0.1:5000/personal/",
        }
        # The draft now holds only the receipt: the answers are gone from it.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 1
    assert client.get("/orosanmalan/granska").location == "/orosanmalan/om-dig"


def test_professional_adult_goes_to_vuxna_and_is_acute(app: Flask, client: FlaskClient) -> None:
    response = walk(client, PROFESSIONAL_ADULT)
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report is not None and report.inbox.name == "Vuxna" and report.acute is True


def test_check_page_lists_answers_with_change_links(client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    html = client.get("/orosanmalan/granska").get_data(as_text=True)
    assert "Barnet är ofta hungrigt." in html
    assert "Omsorgssvikt eller försummelse" in html
    assert 'href="/orosanmalan/oro?granska=1"' in html


def test_change_link_returns_to_check_page(client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    response = client.post(
        "/orosanmalan/oro?granska=1",
        data={**PRIVATE_ANONYMOUS_CHILD["oro"], "what_happened": "Ändrat."},
    )
    assert response.location == "/orosanmalan/granska"
    assert "Ändrat." in client.get("/orosanmalan/granska").get_data(as_text=True)


def test_an_earlier_change_that_breaks_a_later_step_is_caught_before_sending(
    app: Flask, client: FlaskClient
) -> None:
    # Given a whole, valid draft about a child (validated whole when its last step was saved)
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    # When the concern is changed to be about an adult, whose categories differ
    client.post(
        "/orosanmalan/personen?granska=1",
        data={**PRIVATE_ANONYMOUS_CHILD["personen"], "subject_type": "vuxen", "age": "40"},
    )
    # Then neither the check page nor a send trusts the earlier validation
    assert client.get("/orosanmalan/granska").location == "/orosanmalan/oro"
    assert client.post("/orosanmalan/granska", data={"confirm": "ja"}).location == (
        "/orosanmalan/oro"
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_choosing_adult_later_drops_guardian_answers(client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    client.post("/orosanmalan/personen?granska=1", data={"subject_type": "vuxen"})
    html = client.get("/orosanmalan/granska").get_data(as_text=True)
    assert "Förälder Ett" not in html and "Vårdnadshavare" not in html


def test_skipping_ahead_redirects_to_first_missing_step(client: FlaskClient) -> None:
    assert client.get("/orosanmalan/oro").location == "/orosanmalan/om-dig"
    assert client.get("/orosanmalan/granska").location == "/orosanmalan/om-dig"


def test_unknown_step_is_404(client: FlaskClient) -> None:
    assert client.get("/orosanmalan/finns-inte").status_code == 404


BAD_INPUT = [
    ("om-dig", {}, "reporter_type", "Välj om du är privatperson eller yrkesverksam."),
    (
        "om-dig",
        {"reporter_type": "yrkesverksam", "anonymous": "ja"},
        "anonymous",
        "Du som anmäler i din yrkesroll kan inte vara anonym. Välj Nej.",
    ),
    ("om-dig", {"reporter_type": "hackare"}, "reporter_type", "Välj ett av alternativen."),
    (
        "personen",
        {"subject_type": "barn", "identity_number": "20120317-2388"},
        "identity_number",
        "Personnumret stämmer inte.",
    ),
    (
        "personen",
        {"subject_type": "barn", "identity_number": "20230230-123" + luhn_check_digit("230230123")},
        "identity_number",
        "datum som inte finns",
    ),
    (
        "personen",
        {"subject_type": "barn", "identity_number": "abc"},
        "identity_number",
        "Skriv personnumret som",
    ),
    (
        "personen",
        {"subject_type": "barn", "birth_date": "2099-01-01"},
        "birth_date",
        "Datumet kan inte vara i framtiden.",
    ),
    (
        "personen",
        {"subject_type": "barn", "birth_date": "2021-02-29"},
        "birth_date",
        "Datumet finns inte.",
    ),
    ("personen", {"subject_type": "barn", "age": "tolv"}, "age", "Skriv åldern som ett tal"),
    (
        "personen",
        {"subject_type": "barn", "first_name": "x" * 201},
        "first_name",
        "högst 200 tecken",
    ),
    (
        "personen",
        {"subject_type": "vuxen", "identity_number": "19121212-1212"},
        "identity_number",
        "Personnumret gäller en person som är",
    ),
    ("oro", {"acute_danger": "nej"}, "what_happened", "Beskriv vad som gör dig orolig."),
    (
        "oro",
        {"what_happened": "x" * 8001, "acute_danger": "nej"},
        "what_happened",
        "högst 8000 tecken",
    ),
    (
        "oro",
        {"what_happened": "a", "acute_danger": "nej", "seen_or_heard": "andra"},
        "heard_from",
        "Skriv vem som berättade och när.",
    ),
]


@pytest.mark.parametrize(("slug", "data", "field", "message"), BAD_INPUT)
def test_bad_input_gets_swedish_error_and_answers_back(
    client: FlaskClient, slug: str, data: dict[str, str], field: str, message: str
) -> None:
    # Given the steps before this one are done
    before = {
        "om-dig": PRIVATE_ANONYMOUS_CHILD["om-dig"],
        "personen": PRIVATE_ANONYMOUS_CHILD["personen"],
        "vardnadshavare": PRIVATE_ANONYMOUS_CHILD["vardnadshavare"],
    }
    for earlier, answers in before.items():
        if earlier == slug:
            break
        client.post(f"/orosanmalan/{earlier}", data=answers)
    # When the bad answer is posted
    response = client.post(f"/orosanmalan/{slug}", data=data)
    # Then the page comes back with the error, linked from the summary, and the typed values
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert any(message in e for e in errors(response)), errors(response)
    assert f'href="#{field}' in html
    for value in data.values():
        if (
            isinstance(value, str)
            and value
            and len(value) < 300
            and value not in {"ja", "nej", "vet_ej", "hackare"}
        ):
            assert value in html


def test_script_payload_is_shown_escaped(client: FlaskClient) -> None:
    payload = "<script>alert(1)</script>"
    walk(
        client,
        {
            **PRIVATE_ANONYMOUS_CHILD,
            "oro": {**PRIVATE_ANONYMOUS_CHILD["oro"], "what_happened": payload},
        },
        send=False,
    )
    html = client.get("/orosanmalan/granska").get_data(as_text=True)
    assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_invalid_utf8_is_an_error_not_a_crash(client: FlaskClient) -> None:
    response = client.post(
        "/orosanmalan/om-dig",
        data=b"reporter_type=\xff\xfe&anonymous=ja",
        content_type="application/x-www-form-urlencoded",
    )
    # Refused by intake.textguard with the Swedish page that keeps the rest of the answers.
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Texten innehåller tecken som inte går att spara" in html
    assert 'name="anonymous" value="ja"' in html


def test_oversize_body_gets_a_swedish_page(client: FlaskClient) -> None:
    walk(client, {k: v for k, v in PRIVATE_ANONYMOUS_CHILD.items() if k != "oro"}, send=False)
    response = client.post("/orosanmalan/oro", data={"what_happened": "x" * 600_000})
    assert response.status_code == 413
    assert "för stort" in response.get_data(as_text=True)


def test_honeypot_blocks_sending_but_keeps_the_draft(app: Flask, client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    response = client.post("/orosanmalan/granska", data={"confirm": "ja", "website": "http://spam"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    assert "Barnet är ofta hungrigt." in response.get_data(as_text=True)


def test_missing_confirmation_is_an_error(client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    response = client.post("/orosanmalan/granska", data={})
    assert "Bekräfta att du har läst hur uppgifterna behandlas." in " ".join(errors(response))


def test_discard_deletes_the_draft(app: Flask, client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    client.post("/orosanmalan/avbryt")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    assert client.get("/orosanmalan/granska").location == "/orosanmalan/om-dig"


def test_fallback_inbox_takes_reports_no_rule_matches(app: Flask, client: FlaskClient) -> None:
    from intake.reports.models import RoutingRule

    with app.app_context():
        db.session.execute(sa.delete(RoutingRule))
        db.session.commit()
    walk(client, PRIVATE_ANONYMOUS_CHILD)
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        fallback = db.session.scalar(sa.select(Inbox).where(Inbox.is_fallback.is_(True)))
        assert report is not None and fallback is not None
        assert report.inbox_id == fallback.id and report.routing_rule_id is None


@pytest.mark.parametrize("path", ["/", "/orosanmalan/", "/orosanmalan/om-dig"])
def test_resident_pages_do_not_load_a_staff_user(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # Templates get Flask-Login's proxy: only a page that reads current_user loads the user.
    from intake.accounts import guard

    loads: list[bool] = []
    found = guard.active_session
    monkeypatch.setattr(guard, "active_session", lambda: loads.append(True) or found())
    assert client.get(path).status_code == 200
    assert loads == []
