"""Children's rules for children only: deadlines by subject type, återkoppling refused for
adult reports at every layer, "Vet inte" shown and sorted as acute, registration due the next
working day and its date bounded, linking only for children."""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import clock
from intake.extensions import db
from intake.outbox import OutboxMessage
from intake.reports import handling
from intake.reports.models import Report

from ..accounts.back_office import (
    CHILD_PNR,
    VERIFIED,
    Clock,
    errors,
    fast_passwords,
    freeze,
    stockholm,
    submit,
    submit_verified,
    text,
)
from ..staff_helpers import Installation
from .journey_helpers import PROFESSIONAL_ADULT, PROFESSIONAL_CHILD, walk

BOTH = "bo@alvsbyn.invalid"
PROFESSIONAL = {
    "reporter_type": "yrkesverksam",
    "anonymous": "nej",
    "wants_feedback": "ja",
    "reporter_email": "larare@skola.example",
}


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Monday 9 March 2026, 10:00 in Stockholm."""
    return freeze(monkeypatch, stockholm(2026, 3, 9, 10, 0))


@pytest.fixture
def desk(installation: Installation, frozen: Clock) -> Installation:
    """Bo reads both report inboxes."""
    installation.add_user(BOTH, "caseworker", inboxes=("Barn och unga", "Vuxna"))
    return installation


def signed_in(installation: Installation) -> FlaskClient:
    client = installation.app.test_client()
    installation.login(client, BOTH)
    return client


def report(installation: Installation, report_id: str) -> Report:
    found = db.session.get(Report, report_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("subject", "child_deadlines"),
    [("barn", True), ("ung_vuxen", True), ("vuxen", False), ("aldre", False), (None, True)],
)
def test_deadlines_apply_to_barn_och_unga_only(subject: str | None, child_deadlines: bool) -> None:
    received = stockholm(2026, 3, 9, 10, 0)
    found = Report(received_at=received, subject_type=subject, feedback_requested=False)
    d = handling.deadlines(found, today=date(2026, 3, 30), opens=time(8), closes=time(16, 30))
    if child_deadlines:
        assert (d.skyddsbedomning, d.forhandsbedomning) == (date(2026, 3, 9), date(2026, 3, 23))
        assert (d.skydd_state, d.forhand_state) == ("overdue", "overdue")
    else:
        assert (d.skyddsbedomning, d.forhandsbedomning, d.skydd_state, d.forhand_state) == (
            None,
            None,
            None,
            None,
        )
    # Registration is due for everyone, the next working day
    assert (d.registration, d.registration_state) == (date(2026, 3, 10), "overdue")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (stockholm(2026, 3, 9, 10, 0), date(2026, 3, 10)),  # Monday -> Tuesday
        (stockholm(2026, 3, 6, 17, 0), date(2026, 3, 9)),  # Friday evening -> Monday
        (stockholm(2026, 3, 7, 12, 0), date(2026, 3, 9)),  # Saturday -> Monday
        (stockholm(2026, 4, 2, 9, 0), date(2026, 4, 7)),  # Maundy Thursday -> after Easter
        (stockholm(2026, 12, 23, 9, 0), date(2026, 12, 28)),  # julafton and juldagar
    ],
)
def test_registration_is_due_the_next_working_day(received: object, due: date) -> None:
    assert clock.registration_due(received) == due  # type: ignore[arg-type]


def test_adult_reports_show_no_statutory_deadlines_but_handling_states(
    desk: Installation, frozen: Clock
) -> None:
    adult = submit(desk.app, subject_type="vuxen")
    client = signed_in(desk)
    page = text(client.get(f"/personal/anmalan/{adult}"))
    assert "Omedelbar skyddsbedömning senast" not in page
    assert "inga lagstadgade frister" in page
    for state in handling.ADULT_OUTCOMES:
        assert state in page
    # The child steps are refused for an adult report
    response = client.post(
        f"/personal/anmalan/{adult}/beslut", data={"decision": "opened", "decided_on": "2026-03-09"}
    )
    assert response.status_code == 302
    shown = text(client.get(f"/personal/anmalan/{adult}"))
    assert "Beslut inom 14 dagar gäller anmälningar om barn och unga." in shown
    with desk.app.app_context():
        assert report(desk, adult).decision is None
    # The inbox's own states are offered and recorded
    with desk.app.app_context():
        inbox = report(desk, adult).inbox
        inbox.adult_outcomes = "Kontakt tagen\nLVM-anmälan övervägs\n"
        db.session.commit()
    page = text(client.get(f"/personal/anmalan/{adult}"))
    assert "LVM-anmälan övervägs" in page and "Hänvisad" not in page
    bad = client.post(f"/personal/anmalan/{adult}/handlaggning", data={"outcome": "Hänvisad"})
    assert bad.status_code == 200 and errors(text(bad))
    ok = client.post(
        f"/personal/anmalan/{adult}/handlaggning", data={"outcome": "LVM-anmälan övervägs"}
    )
    assert ok.status_code == 302
    with desk.app.app_context():
        assert report(desk, adult).outcome == "LVM-anmälan övervägs"
    # A child report does not take an adult state
    child = submit(desk.app)
    response = client.post(
        f"/personal/anmalan/{child}/handlaggning", data={"outcome": "Kontakt tagen"}
    )
    assert response.status_code == 302
    assert "följer skyddsbedömning och beslut" in text(client.get(f"/personal/anmalan/{child}"))
    with desk.app.app_context():
        assert report(desk, child).outcome is None


def test_the_digest_counts_no_child_deadlines_for_adults(desk: Installation, frozen: Clock) -> None:
    from intake import jobs

    frozen.set(stockholm(2026, 2, 2, 10, 0))
    submit(desk.app, subject_type="vuxen")  # never assessed: no statutory deadline
    submit(desk.app, subject_type="aldre")
    frozen.set(stockholm(2026, 3, 9, 7, 0))
    with desk.app.app_context():
        jobs.daily_digest(now=clock.now())
        mails = {
            m.recipient: dict(m.context)
            for m in db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.template == "digest")
            )
        }
    vuxna = mails["vuxna@alvsbyn.invalid"]
    assert (vuxna["due_today"], vuxna["overdue"], vuxna["unregistered_overdue"]) == (0, 0, 2)


def _feedback_mails(installation: Installation) -> int:
    with installation.app.app_context():
        return len(
            db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.template == "feedback")
            ).all()
        )


def test_the_form_asks_about_aterkoppling_only_for_a_child(desk: Installation) -> None:
    # A mandated reporter about an adult is not asked, and a crafted answer is not kept
    resident = desk.app.test_client()
    walk(
        resident, {k: v for k, v in PROFESSIONAL_ADULT.items() if k != "dina-uppgifter"}, send=False
    )
    page = text(resident.get("/orosanmalan/dina-uppgifter"))
    assert "Vill du ha återkoppling" not in page
    walk(resident, PROFESSIONAL_ADULT)
    # A mandated reporter about a child is asked
    other = desk.app.test_client()
    walk(other, {k: v for k, v in PROFESSIONAL_CHILD.items() if k != "dina-uppgifter"}, send=False)
    assert "Vill du ha återkoppling" in text(other.get("/orosanmalan/dina-uppgifter"))
    walk(other, PROFESSIONAL_CHILD)
    with desk.app.app_context():
        rows = db.session.scalars(sa.select(Report)).all()
        requested = {r.subject_type: r.feedback_requested for r in rows}
    assert requested == {"vuxen": False, "barn": True}


def test_aterkoppling_is_refused_for_adults_by_the_service_and_the_staff_route(
    desk: Installation, frozen: Clock
) -> None:
    adult = submit_verified(desk.app, subject_type="vuxen", **PROFESSIONAL)
    client = signed_in(desk)
    base = f"/personal/anmalan/{adult}"
    client.post(f"{base}/handlaggning", data={"outcome": "Kontakt tagen"})
    with desk.app.app_context():
        found = report(desk, adult)
        found.decision = "opened"  # even with a decision on record
        db.session.commit()
    assert "Skicka återkoppling" not in text(client.get(base))
    client.post(f"{base}/aterkoppling")
    assert _feedback_mails(desk) == 0
    assert "Återkoppling kan inte skickas för den här anmälan." in text(client.get(base))
    with desk.app.app_context():
        found = report(desk, adult)
        answers = {"subject_type": "vuxen", **PROFESSIONAL}
        assert not handling.feedback_possible(found, answers, VERIFIED)
        from intake.accounts.models import User

        user = db.session.scalar(sa.select(User).where(User.email == BOTH))
        assert user is not None
        with pytest.raises(handling.HandlingError):
            handling.send_feedback(found, answers, VERIFIED, user=user, base_url="http://test")
    assert _feedback_mails(desk) == 0


def test_aterkoppling_for_a_child_has_a_deadline_until_sent(
    desk: Installation, frozen: Clock
) -> None:
    child = submit_verified(desk.app, **PROFESSIONAL)
    client = signed_in(desk)
    base = f"/personal/anmalan/{child}"
    client.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-09"})
    with desk.app.app_context():
        found = report(desk, child)
        d = handling.deadlines(found, today=date(2026, 3, 11), opens=time(8), closes=time(16, 30))
        assert (d.feedback, d.feedback_state) == (date(2026, 3, 10), "overdue")
    assert "Återkoppling senast" in text(client.get(base))
    assert client.post(f"{base}/aterkoppling").status_code == 302
    assert _feedback_mails(desk) == 1
    with desk.app.app_context():
        found = report(desk, child)
        d = handling.deadlines(found, today=date(2026, 3, 11), opens=time(8), closes=time(16, 30))
        assert d.feedback_state is None


def test_vet_inte_is_shown_as_vet_inte_and_sorted_with_the_acute(
    desk: Installation, frozen: Clock
) -> None:
    unsure = submit(desk.app, acute_danger="vet_ej")
    frozen.advance(minutes=5)
    calm = submit(desk.app, acute_danger="nej")
    client = signed_in(desk)
    inbox = text(client.get("/personal/inkorg"))
    # "Vet inte" comes before the newer "Nej" report, and reads "Vet inte"
    assert inbox.index(unsure) < inbox.index(calm)
    row = inbox[inbox.index(unsure) : inbox.index(calm)]
    assert "Vet inte" in row and ">Nej<" not in row
    assert unsure in text(client.get("/personal/inkorg?akut=vet_ej"))
    assert unsure not in text(client.get("/personal/inkorg?akut=nej"))
    # The report page and the notice mail say "vet inte"
    assert "Vet inte" in text(client.get(f"/personal/anmalan/{unsure}"))
    with desk.app.app_context():
        from intake import outbox

        notices = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "new_report")
        ).all()
        rendered = [outbox.render(m) for m in notices]
    bodies = [f"{r.subject}{r.body}" for r in rendered]
    assert any("Akut enligt anmälaren: vet inte" in b and "akut: vet inte" in b for b in bodies)


@pytest.mark.parametrize(
    ("registered_on", "message"),
    [
        ("2026-03-06", "Datumet kan inte vara före den dag anmälan kom in (2026-03-09)."),
        ("2026-03-10", "Datumet kan inte vara i framtiden."),
        ("2026-03-09", None),
    ],
)
def test_the_registration_date_lies_between_receipt_and_today(
    desk: Installation, frozen: Clock, registered_on: str, message: str | None
) -> None:
    child = submit(desk.app)
    client = signed_in(desk)
    base = f"/personal/anmalan/{child}"
    client.post(f"{base}/skyddsbedomning", data={"note": "Ingen akut fara."})
    client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-09"})
    response = client.post(
        f"{base}/registrerad", data={"registered_on": registered_on, "case_reference": "SN 1"}
    )
    if message:
        assert response.status_code == 200
        assert message in errors(text(response))
        assert "SN 1" in text(response)  # what was typed stays
    else:
        assert response.status_code == 302


def test_only_reports_about_children_are_linked(desk: Installation, frozen: Clock) -> None:
    adult_a = submit(desk.app, subject_type="vuxen", identity_number="19800101-0019")
    adult_b = submit(desk.app, subject_type="vuxen", identity_number="198001010019")
    child_a = submit(desk.app, identity_number=CHILD_PNR)
    child_b = submit(desk.app, identity_number="201605051232")
    client = signed_in(desk)
    for report_id in (adult_a, adult_b, child_a, child_b):
        client.get(f"/personal/anmalan/{report_id}")
    with desk.app.app_context():
        tags = {rid: report(desk, rid).link_tag for rid in (adult_a, adult_b, child_a, child_b)}
    assert tags[adult_a] is None and tags[adult_b] is None
    assert tags[child_a] is not None and tags[child_a] == tags[child_b]
    assert "Tidigare anmälningar om samma person" not in text(
        client.get(f"/personal/anmalan/{adult_b}")
    )
