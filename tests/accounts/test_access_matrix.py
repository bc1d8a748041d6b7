"""Every route in app.url_map × every kind of visitor → the expected status.

The expectations are an explicit table keyed by endpoint name. A route without an entry
fails `test_the_table_covers_every_route`, so nobody adds a page without deciding who may
see it. Report routes are tried with the report of "Barn och unga", the report of "Vuxna",
a random uuid and a string that is no uuid at all (IDOR).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import clock, create_app
from intake.accounts.models import User
from intake.dialogues.models import Dialogue
from intake.extensions import db
from intake.followup.models import Activity, Commitment
from intake.reports.models import Report, RoutingRule

from ..conftest import POSTGRES, _empty_postgres, base_config
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT, walk
from ..staff_helpers import Installation
from .back_office import client_with, cookie, fast_passwords, install

ANONYMOUS, ADMIN, BARN, VUXNA, ORGANISER, PARTNER = (
    "anonymous",
    "admin",
    "barn",
    "vuxna",
    "organiser",
    "partner",
)
VISITORS = (ANONYMOUS, ADMIN, BARN, VUXNA, ORGANISER, PARTNER)
STAFF = VISITORS[1:]
EMAILS = {
    ADMIN: "chef@alvsbyn.invalid",
    BARN: "bea@alvsbyn.invalid",
    VUXNA: "vera@alvsbyn.invalid",
    ORGANISER: "olle@alvsbyn.invalid",
    PARTNER: "polis@alvsbyn.invalid",
}
LOGIN = "/personal/logga-in"


def everyone(status: int) -> dict[str, int]:
    """The same status for every visitor."""
    return dict.fromkeys(VISITORS, status)


def staff(status: int) -> dict[str, int]:
    """Anonymous visitors are sent to sign in; every staff member gets `status`."""
    return {ANONYMOUS: 302, **dict.fromkeys(STAFF, status)}


def organisers(status: int) -> dict[str, int]:
    """Anonymous visitors sign in; organisers and the admin get `status`; other staff 403."""
    return {ANONYMOUS: 302, **dict.fromkeys(STAFF, 403), ORGANISER: status, ADMIN: status}


def police(status: int) -> dict[str, int]:
    """A police commitment: the partner and the admin get `status`; other staff 403."""
    return {ANONYMOUS: 302, **dict.fromkeys(STAFF, 403), PARTNER: status, ADMIN: status}


def admins(status: int) -> dict[str, int]:
    """Anonymous visitors sign in; the admin gets `status`; other staff 403."""
    return {ANONYMOUS: 302, **dict.fromkeys(STAFF, 403), ADMIN: status}


@dataclass(frozen=True)
class Route:
    """How to call an endpoint and what each visitor gets."""

    method: str
    path: str
    expected: dict[str, int]


# {inbox}: "Barn och unga"; {user}: a caseworker nobody else touches; {rule}: the first rule.
ROUTES: dict[str, Route] = {
    "site.home": Route("GET", "/", everyone(200)),
    "site.language": Route("GET", "/sprak/sv?next=/", everyone(302)),
    "site.leave": Route("GET", "/lamna", everyone(302)),
    "site.accessibility": Route("GET", "/tillganglighet", everyone(200)),
    "site.privacy": Route("GET", "/personuppgifter", everyone(200)),
    # Probes for a monitor: the same for everyone; no worker runs here, so not ready.
    "health.healthz": Route("GET", "/healthz", everyone(200)),
    "health.readyz": Route("GET", "/readyz", everyone(503)),
    "site.cookies": Route("GET", "/kakor", everyone(200)),
    "site.favicon": Route("GET", "/favicon.ico", everyone(200)),
    "site.municipal_logo": Route("GET", "/logotyp.svg", everyone(200)),
    "reports.start": Route("GET", "/orosanmalan/", everyone(200)),
    "reports.step": Route("GET", "/orosanmalan/om-dig", everyone(200)),
    "reports.check": Route("GET", "/orosanmalan/granska", everyone(302)),
    "reports.receipt": Route("GET", "/orosanmalan/kvitto", everyone(302)),
    "reports.discard": Route("POST", "/orosanmalan/avbryt", everyone(302)),
    "discard.confirm": Route("GET", "/orosanmalan/radera-svar", everyone(200)),
    # Without a broker configured (as here), e-legitimation sends everyone to the start page.
    "eid.sign_in": Route("POST", "/orosanmalan/e-legitimation/logga-in", everyone(302)),
    "eid.back": Route("GET", "/orosanmalan/e-legitimation/retur", everyone(302)),
    "followup.start": Route("GET", "/orosanmalan/uppfoljning/", everyone(200)),
    "followup.add": Route("POST", "/orosanmalan/uppfoljning/lagg-till", everyone(200)),
    "followup.answer": Route("POST", "/orosanmalan/uppfoljning/svara", everyone(200)),
    "mine.index": Route("GET", "/orosanmalan/mina-anmalningar/", everyone(200)),
    # Without a broker, sign-in and its return go back to the page; signing out too.
    "mine.sign_in": Route("POST", "/orosanmalan/mina-anmalningar/logga-in", everyone(302)),
    "mine.back": Route("GET", "/orosanmalan/mina-anmalningar/retur", everyone(302)),
    "mine.sign_out": Route("POST", "/orosanmalan/mina-anmalningar/logga-ut", everyone(303)),
    # Nobody signed in with e-legitimation: back to the page (staff sign-in is no e-legitimation).
    "mine.conversation": Route(
        "GET", "/orosanmalan/mina-anmalningar/fragor/not-a-report", everyone(303)
    ),
    "staff_auth.login": Route("GET", LOGIN, everyone(200)),
    "staff_auth.second_factor": Route("GET", "/personal/tvastegsverifiering", staff(200)),
    # Enrolled users are sent on: the page would otherwise replace their authenticator.
    "staff_auth.enrol": Route("GET", "/personal/tvastegsverifiering/aktivera", staff(302)),
    "staff_auth.change_password": Route("GET", "/personal/byt-losenord", staff(200)),
    "staff_auth.logout": Route("POST", "/personal/logga-ut", everyone(302)),
    "staff.dashboard": Route("GET", "/personal/", staff(200)),
    "staff.inbox": Route("GET", "/personal/inkorg", staff(200)),
    "casefile.find": Route("GET", "/personal/sok?referens=2026-AAAA-BBBB", staff(200)),
    "admin.users": Route("GET", "/personal/admin/anvandare", admins(200)),
    "admin.new_user": Route("GET", "/personal/admin/anvandare/ny", admins(200)),
    "admin.edit_user": Route("GET", "/personal/admin/anvandare/{user}", admins(200)),
    "admin.reset_user": Route("GET", "/personal/admin/anvandare/{user}/aterstall", admins(200)),
    "admin.inboxes": Route("GET", "/personal/admin/inkorgar", admins(200)),
    "admin.edit_inbox": Route("GET", "/personal/admin/inkorgar/{inbox}", admins(200)),
    # An empty form: the admin gets it back with errors, nothing changes.
    "admin.grant": Route("POST", "/personal/admin/inkorgar/{inbox}/medlemmar", admins(200)),
    "admin.revoke": Route(
        "POST", "/personal/admin/inkorgar/{inbox}/medlemmar/{user}/ta-bort", admins(302)
    ),
    "admin.rules": Route("GET", "/personal/admin/routning", admins(200)),
    "admin.add_rule": Route("POST", "/personal/admin/routning", admins(200)),
    # The first rule cannot move up: a redirect and no change.
    "admin.move_rule": Route("POST", "/personal/admin/routning/{rule}/upp", admins(302)),
    "admin.audit_log": Route("GET", "/personal/admin/logg", admins(200)),
    "admin.retention_decisions": Route("GET", "/personal/admin/gallring", admins(200)),
    # Failed mail: no such row, so the admin gets 404 behind the guard.
    "admin.requeue_mail": Route("POST", "/personal/admin/e-post/999999/forsok-igen", admins(404)),
    "admin.dismiss_mail": Route("POST", "/personal/admin/e-post/999999/ta-bort", admins(404)),
    # Citizen dialogues. {dialogue}: a coming dialogue; 999999 ids exist nowhere, so the
    # routes that would change something answer 404 behind their guard.
    "dialogues.index": Route("GET", "/dialoger/", everyone(200)),
    "dialogues.show": Route("GET", "/dialoger/{dialogue}", everyone(200)),
    "dialogues.signup": Route("POST", "/dialoger/{dialogue}/anmalan", everyone(200)),
    "dialogues.registered": Route("GET", "/dialoger/{dialogue}/anmald/bekraftad", everyone(200)),
    "dialogues.ask": Route("POST", "/dialoger/{dialogue}/fraga", everyone(200)),
    "dialogues.asked": Route("GET", "/dialoger/{dialogue}/fraga-skickad", everyone(200)),
    "dialogues.cancel": Route("GET", "/dialoger/avboka/forged.token", everyone(404)),
    "dialogues.change": Route("GET", "/dialoger/andra-anmalan/forged.token", everyone(404)),
    "dialogues.changed": Route("GET", "/dialoger/andra-anmalan/forged.token/klart", everyone(404)),
    "organiser.index": Route("GET", "/personal/dialoger/", organisers(200)),
    "organiser.new": Route("GET", "/personal/dialoger/ny", organisers(200)),
    "organiser.edit": Route("GET", "/personal/dialoger/{dialogue}/andra", organisers(200)),
    "organiser.cancel": Route("POST", "/personal/dialoger/999999/stall-in", organisers(404)),
    "organiser.show": Route("GET", "/personal/dialoger/{dialogue}", organisers(200)),
    "organiser.attendee_list": Route(
        "GET", "/personal/dialoger/{dialogue}/deltagarlista", organisers(200)
    ),
    "organiser.attendee_csv": Route(
        "GET", "/personal/dialoger/{dialogue}/deltagare.csv", organisers(200)
    ),
    "organiser.check_in": Route(
        "POST", "/personal/dialoger/{dialogue}/incheckning/999999", organisers(404)
    ),
    "organiser.questions": Route("GET", "/personal/dialoger/{dialogue}/fragor", organisers(200)),
    "organiser.publish": Route(
        "POST", "/personal/dialoger/{dialogue}/fragor/finns-inte", organisers(404)
    ),
    "organiser.held_report": Route("GET", "/personal/dialoger/{dialogue}/rapport", organisers(200)),
    "organiser.preview": Route(
        "GET", "/personal/dialoger/{dialogue}/forhandsvisning", organisers(200)
    ),
    "organiser.publish_dialogue": Route(
        "POST", "/personal/dialoger/999999/publicera", organisers(404)
    ),
    "organiser.walk_in": Route("POST", "/personal/dialoger/999999/pa-plats", organisers(404)),
    "organiser.promote": Route(
        "POST", "/personal/dialoger/{dialogue}/reservlista/999999", organisers(404)
    ),
    "organiser.message": Route("GET", "/personal/dialoger/{dialogue}/meddelande", organisers(200)),
    "organiser.answer": Route(
        "POST", "/personal/dialoger/{dialogue}/fragor/finns-inte/svara", organisers(404)
    ),
    # Promise follow-up. {commitment}: the police's traffic controls; {activity}: one of them.
    "promise.public_page": Route("GET", "/medborgarloftet/", everyone(200)),
    "followup_staff.dashboard": Route("GET", "/personal/uppfoljning/", staff(200)),
    "followup_staff.commitment": Route(
        "GET", "/personal/uppfoljning/atagande/{commitment}", staff(200)
    ),
    "followup_staff.add_activity": Route(
        "POST", "/personal/uppfoljning/atagande/{commitment}/aktiviteter", police(200)
    ),
    "followup_staff.edit_activity": Route(
        "GET", "/personal/uppfoljning/aktivitet/{activity}", police(200)
    ),
    "followup_staff.delete_activity": Route(
        "POST", "/personal/uppfoljning/aktivitet/999999/ta-bort", staff(404)
    ),
    "followup_staff.save_note": Route(
        "POST", "/personal/uppfoljning/atagande/{commitment}/orsak", police(200)
    ),
    # Traffic controls were never "done once" under an earlier promise: a message, redirected.
    "followup_staff.done_earlier": Route(
        "POST", "/personal/uppfoljning/atagande/{commitment}/gjort-tidigare", police(302)
    ),
    # Only a dialogue commitment has a counting rule: traffic controls have none.
    "followup_staff.counting_rule": Route(
        "POST", "/personal/uppfoljning/atagande/{commitment}/rakneregel", admins(404)
    ),
    "followup_staff.report": Route("GET", "/personal/uppfoljning/rapport", staff(200)),
    "followup_staff.report_csv": Route("GET", "/personal/uppfoljning/rapport.csv", staff(200)),
    "followup_staff.new_promise": Route("GET", "/personal/uppfoljning/nytt-lofte", admins(200)),
}

# Report routes: (method, path after /personal/anmalan/<id>, status for a member).
# POSTs carry empty forms: a re-rendered page (200) or a flash and redirect (302).
REPORT_ROUTES: dict[str, tuple[str, str, int]] = {
    "staff.report": ("GET", "", 200),
    "staff.print_report": ("GET", "/utskrift", 200),
    "staff.assess": ("POST", "/skyddsbedomning", 200),
    "staff.decide": ("POST", "/beslut", 200),
    "staff.register": ("POST", "/registrerad", 200),
    "staff.outcome": ("POST", "/handlaggning", 200),
    "staff.feedback": ("POST", "/aterkoppling", 302),
    "staff.ask": ("POST", "/fraga", 200),
    "staff.move": ("POST", "/flytta", 302),
    "casefile.add_note": ("POST", "/anteckning", 200),
    "casework.assign_form": ("GET", "/handlaggare", 200),
    "casework.assign": ("POST", "/handlaggare", 302),
}
TARGETS = ("barn_report", "vuxna_report", "random_uuid", "not_a_uuid")
# Who reads which report: everyone else gets 404, never 403 (a non-member must not learn
# that a report exists).
READS = {BARN: "barn_report", VUXNA: "vuxna_report"}


@dataclass
class World:
    """One installation with a user of every kind, two reports and signed-in cookies."""

    installation: Installation
    cookies: dict[str, str]
    ids: dict[str, str]

    @property
    def app(self) -> Flask:
        """The app."""
        return self.installation.app


def _fresh_database(migrated_database: str, folder: Path) -> str:
    if POSTGRES:
        _empty_postgres(migrated_database)
        return migrated_database
    target = folder / "matrix.sqlite3"
    shutil.copy(Path(migrated_database.removeprefix("sqlite:///")), target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def world(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once for the module: the matrix only reads, or sends forms that change nothing."""
    folder = tmp_path_factory.mktemp("matrix")
    url = _fresh_database(migrated_database, folder)
    built: list[Flask] = []
    with pytest.MonkeyPatch.context() as patch:
        fast_passwords(patch)
        patch.setenv("INTAKE_INSTANCE_PATH", str(folder / "instance"))

        def make_app(**extra: object) -> Flask:
            built.append(create_app(base_config(url, **extra)))
            return built[-1]

        installation = install(make_app)
        app = installation.app
        inboxes = {BARN: ("Barn och unga",), VUXNA: ("Vuxna",)}
        for visitor, email in EMAILS.items():
            role = {BARN: "caseworker", VUXNA: "caseworker"}.get(visitor, visitor)
            installation.add_user(email, role, inboxes=inboxes.get(visitor, ()))
        bystander = installation.add_user("bystander@alvsbyn.invalid", "caseworker")
        walk(app.test_client(), PRIVATE_ANONYMOUS_CHILD)
        walk(app.test_client(), PROFESSIONAL_ADULT)
        cookies = {}
        for visitor, email in EMAILS.items():
            client = app.test_client()
            installation.login(client, email)
            cookies[visitor] = cookie(client)
        with app.app_context():
            by_inbox = {r.inbox.name: r.id for r in db.session.scalars(sa.select(Report))}
            ids = {
                "barn_report": by_inbox["Barn och unga"],
                "vuxna_report": by_inbox["Vuxna"],
                "random_uuid": str(uuid.uuid4()),
                "not_a_uuid": "inte-ett-id'; DROP TABLE report;--",
                "inbox": str(installation.inbox("Barn och unga").id),
                "user": str(bystander),
                "rule": str(
                    db.session.scalar(sa.select(RoutingRule.id).order_by(RoutingRule.position))
                ),
                **_dialogue_and_activity(),
            }
        yield World(installation=installation, cookies=cookies, ids=ids)
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _dialogue_and_activity() -> dict[str, str]:
    """A coming dialogue, and one activity of the police's traffic commitment."""
    now = clock.now()
    dialogue = Dialogue(
        title="Matris",
        hosts=["polisen"],
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=2),
        place="Kulturhuset",
        capacity=10,
        created_at=now,
        updated_at=now,
    )
    traffic = db.session.scalar(
        sa.select(Commitment).where(Commitment.text.contains("trafikkontroller"))
    )
    assert traffic is not None
    activity = Activity(
        commitment_id=traffic.id,
        occurred_on=clock.local_date(now),
        count=1,
        place="Skola",
        recorded_at=now,
    )
    db.session.add_all([dialogue, activity])
    db.session.commit()
    return {
        "dialogue": str(dialogue.id),
        "commitment": str(traffic.id),
        "activity": str(activity.id),
    }


def _client(world: World, visitor: str, *, fresh: bool = False):  # type: ignore[no-untyped-def]
    if visitor == ANONYMOUS:
        return world.app.test_client()
    if fresh:  # a session of its own, for requests that end it
        client = world.app.test_client()
        world.installation.login(client, EMAILS[visitor])
        return client
    return client_with(world.app, world.cookies[visitor])


def _cases() -> list[tuple[str, str]]:
    return [(endpoint, visitor) for endpoint in ROUTES for visitor in VISITORS]


def _report_cases() -> list[tuple[str, str, str]]:
    return [(e, v, t) for e in REPORT_ROUTES for v in VISITORS for t in TARGETS]


@pytest.mark.parametrize(("endpoint", "visitor"), _cases())
def test_route(world: World, endpoint: str, visitor: str) -> None:
    route = ROUTES[endpoint]
    client = _client(world, visitor, fresh=endpoint == "staff_auth.logout")
    response = client.open(route.path.format(**world.ids), method=route.method)
    assert response.status_code == route.expected[visitor], response.get_data(as_text=True)[:300]
    if visitor == ANONYMOUS and route.path.startswith("/personal/") and route.path != LOGIN:
        assert response.location.startswith(LOGIN)


@pytest.mark.parametrize(("endpoint", "visitor", "target"), _report_cases())
def test_report_route(world: World, endpoint: str, visitor: str, target: str) -> None:
    method, suffix, member_status = REPORT_ROUTES[endpoint]
    path = f"/personal/anmalan/{world.ids[target]}{suffix}"
    response = _client(world, visitor).open(path, method=method)
    if visitor == ANONYMOUS:
        assert response.status_code == 302
        assert response.location.startswith(LOGIN)
    elif READS.get(visitor) == target:
        assert response.status_code == member_status, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Kanarie" not in body and "Alva" not in body and "Bo verkar" not in body


def test_the_table_covers_every_route(world: World) -> None:
    # Given every rule the app serves (static files aside)
    rules = {r.endpoint: r for r in world.app.url_map.iter_rules() if r.endpoint != "static"}
    # Then each has exactly one entry, and the entry uses GET unless the route is POST-only
    known = set(ROUTES) | set(REPORT_ROUTES)
    assert not set(rules) - known, f"routes without an entry: {sorted(set(rules) - known)}"
    assert not known - set(rules), f"entries without a route: {sorted(known - set(rules))}"
    assert not set(ROUTES) & set(REPORT_ROUTES)
    methods = {e: r.method for e, r in ROUTES.items()} | {
        e: m for e, (m, _s, _c) in REPORT_ROUTES.items()
    }
    for endpoint, rule in rules.items():
        expected = "GET" if "GET" in (rule.methods or set()) else "POST"
        assert methods[endpoint] == expected, endpoint
    for endpoint, route in ROUTES.items():
        assert set(route.expected) == set(VISITORS), endpoint


def test_the_matrix_changed_nothing_it_should_not(world: World) -> None:
    # The matrix's forms were empty: every enrolled user keeps their authenticator (the
    # enrolment page was opened by all of them), memberships and the bystander are as set up.
    with world.app.app_context():
        enrolled = db.session.scalars(
            sa.select(User.email).where(User.totp_enrolled_at.is_not(None))
        ).all()
        assert sorted(enrolled) == sorted([*EMAILS.values(), "bystander@alvsbyn.invalid"])
        bystander = db.session.get(User, int(world.ids["user"]))
        assert bystander is not None and bystander.active and not bystander.memberships
        members = db.session.scalars(sa.select(User.email).join(User.memberships)).all()
        assert sorted(members) == sorted([EMAILS[BARN], EMAILS[VUXNA]])
