"""The freed-seat rule (intake.dialogues.service docstring): a freed seat is held for the
waiting list while anyone waits, goes to the first in line when their party fits, and nobody
behind jumps the line; with nobody waiting it is free. The receipt and the page say exactly
which happened. Registrants change their party size and needs through their own link."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import appkeys
from intake.audit import AuditEvent
from intake.dialogues import service
from intake.dialogues.models import CONFIRMED, WAITLISTED, WITHDRAWN
from intake.extensions import db

from ..conftest import SMTPServer
from ..staff_helpers import Installation
from .helpers import (
    cancel_path,
    deliver,
    errors,
    new_dialogue,
    only_to,
    outcome,
    part,
    registration,
    sign_up,
)

PASSED_ON = "Din plats har gått till nästa person på reservlistan."
HELD = "Platsen hålls för reservlistan."
OPEN = "platsen är nu ledig för den som vill anmäla sig"
LEFT = "Du står inte längre på reservlistan."
FALSE_PROMISE = "Platsen går till nästa person"


def _links(path: str) -> dict[str, str]:
    return {"cancel": path, "change": path.replace("/avboka/", "/andra-anmalan/")}


def _status(site: Installation, dialogue_id: int, who: str) -> str:
    return registration(site.app, dialogue_id, f"{who}@example.com").status


def _cancel(resident: FlaskClient, path: str) -> str:
    response = resident.post(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("parties", "cancelling", "waiting_after", "told", "public_seats"),
    [
        # capacity 3: [confirmed...] then [waiting...]; who cancels; who still waits after
        ((["a:2", "b:1"], ["c:2"]), "b", ["c"], HELD, "1 plats är ledig men hålls"),
        ((["a:2", "b:1"], ["c:1"]), "b", [], PASSED_ON, None),
        ((["a:2", "b:1"], ["c:2", "d:1"]), "b", ["c", "d"], HELD, "1 plats är ledig men hålls"),
        ((["a:2", "b:1"], []), "b", [], OPEN, None),
        ((["a:2", "b:1"], ["c:2"]), "c", [], LEFT, None),
        ((["a:1", "b:2"], ["c:2", "d:1"]), "b", ["d"], PASSED_ON, None),
    ],
)
def test_what_a_freed_seat_becomes(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    parties: tuple[list[str], list[str]],
    cancelling: str,
    waiting_after: list[str],
    told: str,
    public_seats: str | None,
) -> None:
    # Given a 3-seat dialogue with confirmed parties and a waiting list, in sign-up order
    dialogue_id = new_dialogue(site.app, capacity=3)
    for who, size in (p.split(":") for p in parties[0] + parties[1]):
        sign_up(resident, dialogue_id, f"{who}@example.com", party_size=size)
    names = [p.split(":")[0] for p in parties[0] + parties[1]]
    waiting = [p.split(":")[0] for p in parties[1]]
    assert [n for n in names if _status(site, dialogue_id, n) == WAITLISTED] == waiting
    mails = deliver(site.app, smtp)
    path = cancel_path(only_to(mails, f"{cancelling}@example.com"))
    # When one of them cancels through their link
    page = _cancel(resident, path)
    # Then the page and the receipt say what became of the seat, never a false promise
    receipt = part(only_to(deliver(site.app, smtp), f"{cancelling}@example.com"), "text/plain")
    for text in (page, receipt):
        assert told in text
        assert FALSE_PROMISE not in text
    # And the waiting list is what the rule says
    assert [n for n in waiting if _status(site, dialogue_id, n) == WAITLISTED] == waiting_after
    # And the public page shows a held seat as held, not as free
    public = resident.get(f"/dialoger/{dialogue_id}").get_data(as_text=True)
    if public_seats:
        assert public_seats in public


def test_a_newcomer_does_not_take_a_seat_held_for_the_waiting_list(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a party of 2 waiting and one seat freed
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "a@example.com", party_size="2")
    sign_up(resident, dialogue_id, "b@example.com", party_size="1")
    sign_up(resident, dialogue_id, "c@example.com", party_size="2")
    first = deliver(site.app, smtp)
    _cancel(resident, cancel_path(only_to(first, "b@example.com")))
    # When a single person signs up
    response = sign_up(resident, dialogue_id, "d@example.com", party_size="1")
    # Then they queue behind the party of 2, as the page said they would
    assert outcome(response) == "reserv-2"
    # And when the party of 2 ahead of them cancels, the line moves in order: the waiting
    # party of 2 first, then the single person
    assert PASSED_ON in _cancel(resident, cancel_path(only_to(first, "a@example.com")))
    assert registration(site.app, dialogue_id, "c@example.com").status == CONFIRMED
    assert registration(site.app, dialogue_id, "d@example.com").status == CONFIRMED


def _change_path(site: Installation, resident: FlaskClient, smtp: SMTPServer, email: str) -> str:
    return _links(cancel_path(only_to(deliver(site.app, smtp), email)))["change"]


@pytest.mark.parametrize(
    ("capacity", "start", "others", "new_size", "ok", "message"),
    [
        (5, "2", [], "4", True, ""),
        (5, "2", ["b:2"], "3", True, ""),
        (5, "2", ["b:2"], "4", False, "Ni kan vara högst 3 personer."),
        (5, "2", ["b:3", "c:1"], "3", False, "Ni kan vara högst 2 personer."),
        (5, "2", [], "11", False, "Skriv ett antal mellan 1 och 10."),
        (5, "2", [], "6", False, "Dialogen har bara 5 platser."),
        (4, "2", [], "5", False, "Dialogen har bara 4 platser."),
        (5, "2", [], "x", False, "Skriv ett tal med siffror"),
        (5, "3", [], "1", True, ""),
    ],
)
def test_a_registrant_changes_their_party_size(
    site: Installation,
    resident: FlaskClient,
    smtp: SMTPServer,
    capacity: int,
    start: str,
    others: list[str],
    new_size: str,
    ok: bool,
    message: str,
) -> None:
    # Given a confirmed party (and others after it: some confirmed, some maybe waiting)
    dialogue_id = new_dialogue(site.app, capacity=capacity)
    sign_up(resident, dialogue_id, "a@example.com", party_size=start)
    for who, size in (o.split(":") for o in others):
        sign_up(resident, dialogue_id, f"{who}@example.com", party_size=size)
    path = _change_path(site, resident, smtp, "a@example.com")
    page = resident.get(path).get_data(as_text=True)
    assert f'value="{start}"' in page
    # When they ask for another party size and new needs through their link
    response = resident.post(path, data={"party_size": new_size, "needs": "Hörslinga"})
    found = registration(site.app, dialogue_id, "a@example.com")
    if ok:
        # Then it is saved (the needs protected with it) and audited without the needs
        assert response.status_code == 303
        assert found.party_size == int(new_size)
        with site.app.app_context():
            person = service.person_of(found, appkeys.keys())
            assert person is not None and person.needs == "Hörslinga"
            event = db.session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "registration_changed")
            )
            assert event is not None and "Hörslinga" not in str(event.details)
    else:
        # Or refused with a Swedish message on the field, keeping what was typed
        assert response.status_code == 200
        assert any(message in error for error in errors(response.get_data(as_text=True)))
        assert found.party_size == int(start)
        assert f'value="{new_size}"' in response.get_data(as_text=True)


def test_a_smaller_party_lets_the_next_in_line_in(
    site: Installation, resident: FlaskClient, smtp: SMTPServer
) -> None:
    # Given a 3-seat dialogue, full, with one person waiting
    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "a@example.com", party_size="3")
    sign_up(resident, dialogue_id, "b@example.com", party_size="1")
    path = _change_path(site, resident, smtp, "a@example.com")
    # When the party shrinks to 2
    assert resident.post(path, data={"party_size": "2", "needs": ""}).status_code == 303
    # Then the next in line gets the seat, and is told
    assert registration(site.app, dialogue_id, "b@example.com").status == CONFIRMED
    assert only_to(deliver(site.app, smtp), "b@example.com")


@pytest.mark.parametrize("state", ["cancelled", "forged", "started"])
def test_a_change_is_refused_when_it_cannot_be_made(
    site: Installation, resident: FlaskClient, smtp: SMTPServer, state: str
) -> None:
    from datetime import timedelta

    from intake import clock

    from .helpers import change

    dialogue_id = new_dialogue(site.app, capacity=3)
    sign_up(resident, dialogue_id, "a@example.com", party_size="1")
    cancel = cancel_path(only_to(deliver(site.app, smtp), "a@example.com"))
    path = _links(cancel)["change"]
    if state == "cancelled":
        _cancel(resident, cancel)
    elif state == "forged":
        path = re.sub(r"/[^/]+$", "/forged.token", path)
    else:
        now = clock.now()
        change(site.app, dialogue_id, starts_at=now - timedelta(minutes=5))
    response = resident.post(path, data={"party_size": "2", "needs": ""})
    assert response.status_code in (200, 404)
    assert response.status_code != 303
    assert registration(site.app, dialogue_id, "a@example.com").party_size == 1
    if state == "cancelled":
        assert registration(site.app, dialogue_id, "a@example.com").status == WITHDRAWN
