"""The resident's e-legitimation round trip through the app, and every failure page."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap
from intake.extensions import db
from intake.reports import drafts
from intake.reports.models import Draft, Inbox, Report
from intake.reports.service import open_answers, open_verified

from ..reports.journey_helpers import PROFESSIONAL_ADULT, walk
from . import provider as op
from .conftest import eid_settings

SIGN_IN = "/orosanmalan/e-legitimation/logga-in"
PNR = "198112189876"


@pytest.fixture
def eid_app(make_app: Any, broker: op.Provider) -> tuple[Flask, dict[str, str]]:
    """The app (CSRF off) set up with its inboxes and e-legitimation against the test OP."""
    app: Flask = make_app(WTF_CSRF_ENABLED=False, **eid_settings(broker.issuer))
    with app.app_context():
        codes = bootstrap.run_setup().recovery_codes
    return app, codes


def _to_broker(client: FlaskClient, step: str = "om-dig") -> str:
    response = client.post(SIGN_IN, data={"steg": step})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return str(response.headers["Location"])


def _come_back(client: FlaskClient, url: str) -> Any:
    path = url.removeprefix("http://127.0.0.1:5000")
    return client.get(path)


def _sign_in(client: FlaskClient, account: str = "anna", **kw: bool) -> Any:
    return _come_back(client, op.sign_in_at(_to_broker(client), account, **kw))


def test_without_a_broker_nothing_is_said_about_e_legitimation(make_app: Any) -> None:
    """No EID_ISSUER: the journey is as before and never mentions e-legitimation."""
    app: Flask = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        bootstrap.run_setup()
    client = app.test_client()
    for path in ("/orosanmalan/", "/orosanmalan/om-dig"):
        page = client.get(path).get_data(as_text=True)
        assert "e-legitimation" not in page.lower(), path
    response = walk(client, PROFESSIONAL_ADULT)
    assert response.status_code == 303
    # The sign-in route only sends the resident back to the start.
    assert client.post(SIGN_IN).headers["Location"].endswith("/orosanmalan/")


def test_step_one_offers_sign_in_beside_go_on_without(eid_app: Any) -> None:
    """With a broker: "Logga in med e-legitimation" beside "Fortsätt utan", no JavaScript."""
    app, _codes = eid_app
    page = app.test_client().get("/orosanmalan/om-dig").get_data(as_text=True)
    assert f'action="{SIGN_IN}"' in page
    assert "Logga in med e-legitimation" in page and "Fortsätt utan" in page


def test_a_verified_professional_reports(eid_app: Any) -> None:
    """Sign in on step 1; the name and personnummer are verified, can't be changed, sealed."""
    app, codes = eid_app
    client = app.test_client()
    # Given a professional who has answered step 1 and then signs in
    client.post("/orosanmalan/om-dig", data=PROFESSIONAL_ADULT["om-dig"])
    response = _sign_in(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/orosanmalan/om-dig")
    # Then step 1 keeps the answers and shows the verified identity
    page = client.get("/orosanmalan/om-dig").get_data(as_text=True)
    assert "Verifierad med e-legitimation" in page
    assert "Anna Lärare" in page and "19811218-9876" in page
    assert 'value="yrkesverksam" checked' in page
    # When the details step is posted with another name
    steps = dict(PROFESSIONAL_ADULT)
    steps["dina-uppgifter"] = {**steps["dina-uppgifter"], "reporter_name": "Mallory Fejk"}
    details = client.get("/orosanmalan/dina-uppgifter")
    assert 'name="reporter_name"' not in details.get_data(as_text=True)
    response = walk(client, steps)
    assert response.status_code == 303
    # Then the sealed report holds the verified name and says the identity was verified
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report is not None
        key = bootstrap.unlock_with_recovery_code(report.inbox, codes[report.inbox.name])
        answers = open_answers(report, key)
        verified = open_verified(report, key)
    assert answers["reporter_name"] == "Anna Lärare"
    assert verified is not None
    assert verified["method"] == "e-legitimation"
    assert verified["personnummer"] == PNR
    assert verified["acr"] == "http://id.elegnamnden.se/loa/1.0/loa3"


def test_the_identity_never_leaves_the_encrypted_draft(eid_app: Any) -> None:
    """The session cookie holds only the draft's handle; the draft row only ciphertext."""
    app, _codes = eid_app
    client = app.test_client()
    _sign_in(client)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    from itsdangerous import URLSafeTimedSerializer

    with app.test_request_context():
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        assert isinstance(serializer, URLSafeTimedSerializer)
        content = serializer.loads(cookie.value)
    assert set(content) <= {"draft", "_flashes", "_permanent", "csrf_token"}
    assert PNR not in repr(content) and "Anna" not in repr(content)
    with app.app_context():
        rows = db.session.scalars(sa.select(Draft.sealed)).all()
        assert rows and all(PNR.encode() not in row and b"Anna" not in row for row in rows)
        handle = drafts.DraftHandle.from_cookie(content["draft"])
        assert handle is not None
        state = drafts.load(handle)
    assert state is not None and state.verified is not None
    assert state.verified["personnummer"] == PNR
    assert state.eid_pending is None  # spent


FAILURES = [
    # (what happens, account, cancel, expected status, expected heading)
    ("cancel", "anna", True, 200, "Du avbröt inloggningen"),
    ("no acr", "utan-acr", False, 400, "E-legitimationen räcker inte här"),
    ("no personnummer", "utan-pnr", False, 400, "Vi fick inte ditt personnummer"),
]


@pytest.mark.parametrize(("case", "account", "cancel", "status", "heading"), FAILURES)
def test_failure_pages_keep_the_draft(
    eid_app: Any,
    caplog: pytest.LogCaptureFixture,
    case: str,
    account: str,
    cancel: bool,
    status: int,
    heading: str,
) -> None:
    """A failed sign-in: a Swedish page, the draft kept, going on without offered."""
    app, _codes = eid_app
    client = app.test_client()
    client.post("/orosanmalan/om-dig", data=PROFESSIONAL_ADULT["om-dig"])
    with caplog.at_level(logging.WARNING):
        response = _sign_in(client, account, cancel=cancel)
    page = response.get_data(as_text=True)
    assert response.status_code == status, case
    assert heading in page
    assert "Dina svar är kvar." in page
    assert "Fortsätt utan e-legitimation" in page
    assert 'href="/orosanmalan/om-dig"' in page
    step_one = client.get("/orosanmalan/om-dig").get_data(as_text=True)
    assert 'value="yrkesverksam" checked' in step_one
    assert "Verifierad med e-legitimation" not in step_one
    # Only the failure's kind is logged, never a claim
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "e-legitimation failed:" in logged
    assert "196502154567" not in logged and "Ulla" not in logged and "Acke" not in logged


def test_a_replayed_answer_is_refused(eid_app: Any) -> None:
    """The broker's answer used a second time (same code and state) gets the failure page."""
    app, _codes = eid_app
    client = app.test_client()
    back = op.sign_in_at(_to_broker(client), "anna")
    assert _come_back(client, back).status_code == 303
    again = _come_back(client, back)
    assert again.status_code == 400
    assert "Inloggningen kunde inte kontrolleras" in again.get_data(as_text=True)
    # The identity verified the first time stays
    assert "Verifierad med e-legitimation" in client.get("/orosanmalan/om-dig").get_data(
        as_text=True
    )


def test_an_answer_from_another_browser_is_refused(eid_app: Any) -> None:
    """An answer for another draft's sign-in (wrong state): refused, nothing verified."""
    app, _codes = eid_app
    victim, attacker = app.test_client(), app.test_client()
    _to_broker(victim)
    back = op.sign_in_at(_to_broker(attacker), "bertil")
    response = _come_back(victim, back)
    assert response.status_code == 400
    # The unspent code and the state are nowhere on the page (not in the language link)
    page = response.get_data(as_text=True)
    assert all(value not in page for value in op.query_of(back).values())
    assert "Verifierad" not in victim.get("/orosanmalan/om-dig").get_data(as_text=True)


def test_broker_down(make_app: Any) -> None:
    """The broker is not running: a 503 page that keeps the draft, no hanging."""
    stopped = op.start()
    stopped.stop()
    app: Flask = make_app(WTF_CSRF_ENABLED=False, **eid_settings(stopped.issuer))
    with app.app_context():
        bootstrap.run_setup()
    client = app.test_client()
    client.post("/orosanmalan/om-dig", data=PROFESSIONAL_ADULT["om-dig"])
    response = client.post(SIGN_IN, data={"steg": "om-dig"})
    assert response.status_code == 503
    assert "Inloggningen svarar inte just nu" in response.get_data(as_text=True)
    assert 'value="yrkesverksam" checked' in client.get("/orosanmalan/om-dig").get_data(
        as_text=True
    )


def test_broker_silent(make_app: Any, silent_broker: str) -> None:
    """A broker that never answers: the page comes after the timeout, not never."""
    app: Flask = make_app(
        WTF_CSRF_ENABLED=False, **eid_settings(silent_broker, EID_TIMEOUT_SECONDS=0.5)
    )
    with app.app_context():
        bootstrap.run_setup()
    response = app.test_client().post(SIGN_IN, data={"steg": "om-dig"})
    assert response.status_code == 503


def _require_eid_everywhere(app: Flask) -> None:
    with app.app_context():
        db.session.execute(sa.update(Inbox).values(require_eid_professional=True))
        db.session.commit()


def test_an_inbox_can_require_e_legitimation_of_professionals(eid_app: Any) -> None:
    """Unverified professionals cannot send there (draft kept); signed in, they can."""
    app, _codes = eid_app
    _require_eid_everywhere(app)
    client = app.test_client()
    response = walk(client, PROFESSIONAL_ADULT)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Yrkesverksamma behöver logga in med e-legitimation" in page
    assert f'action="{SIGN_IN}"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    # A failed sign-in does not offer to go on without
    failed = _sign_in(client, "utan-pnr")
    assert "Fortsätt utan e-legitimation" not in failed.get_data(as_text=True)
    assert "Tillbaka till dina svar" in failed.get_data(as_text=True)
    # Signed in, the same draft can be sent
    assert _sign_in(client).status_code == 303
    sent = client.post("/orosanmalan/granska", data={"confirm": "ja"})
    assert sent.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_private_reporters_are_not_held_back(eid_app: Any) -> None:
    """The inbox setting is about professionals: an anonymous private person still sends."""
    from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD

    app, _codes = eid_app
    _require_eid_everywhere(app)
    assert walk(app.test_client(), PRIVATE_ANONYMOUS_CHILD).status_code == 303


def test_the_admin_sets_the_requirement_on_an_inbox(eid_app: Any) -> None:
    """The inbox form has the setting when a broker is configured, and saves it."""
    from ..staff_helpers import Installation

    app, codes = eid_app
    site = Installation(app=app, recovery_codes=codes)
    site.add_user("chef@alvsbyn.se", "admin")
    admin = app.test_client()
    site.login(admin, "chef@alvsbyn.se")
    with app.app_context():
        inbox = site.inbox("Vuxna")
        path = f"/personal/admin/inkorgar/{inbox.id}"
        data = {"name": inbox.name, "notification_email": "", "retention_days": 30}
    assert 'name="require_eid_professional"' in admin.get(path).get_data(as_text=True)
    assert admin.post(path, data={**data, "require_eid_professional": "y"}).status_code == 302
    with app.app_context():
        assert site.inbox("Vuxna").require_eid_professional is True
    assert admin.post(path, data=data).status_code == 302
    with app.app_context():
        assert site.inbox("Vuxna").require_eid_professional is False
