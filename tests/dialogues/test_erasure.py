"""Erasure after a dialogue (intake.dialogues.erasure) and `retention dialogues [--dry-run]`:
the dry run lists exactly what the real run then erases, changes nothing, and neither prints a
name or an e-mail address."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import audit, clock
from intake.audit import AuditEvent
from intake.dialogues import erasure, questions
from intake.dialogues.models import CANCELLED, Dialogue, Question, Registration
from intake.extensions import db

from ..accounts.back_office import Clock, freeze
from ..gallring_helpers import decide
from ..staff_helpers import Installation
from .helpers import change, new_dialogue, sign_up, stockholm
from .test_questions_and_reports import audited, sealed_whole

SIGN_UP_AT = stockholm(2031, 3, 1, 10, 0)
RUN_AT = stockholm(2031, 4, 20, 10, 0)  # the decisions say 30 days: due if it ended before
LISTED = re.compile(
    r"^  dialog (?P<id>\d+)  (?P<title>.+?)  (?P<on>\d{4}-\d\d-\d\d)(?P<cancelled>  inställd)?"
    r"  gallringsdag (?P<erase>\d{4}-\d\d-\d\d)  (?P<count>\d+) (?:anmälningar|frågor)"
    r"(?:, (?P<waiting>\d+) väntar)?$"
)
QUESTIONS_HEADING = "Frågeställare (namn och e-post):"


@dataclass(frozen=True)
class Case:
    """A dialogue, when it ended (days before the run; negative: still to come), what it has."""

    title: str
    ended_days_ago: float
    registrations: int = 0
    questions: int = 0
    whole: int = 0  # questions sealed in one piece, as before migration 0008
    cancelled: bool = False

    @property
    def due(self) -> bool:
        """Whether its personal data is due for erasure at RUN_AT."""
        return self.ended_days_ago > 30


CASES = [
    Case("Ended 40 days ago", 40, registrations=2, questions=2),
    Case("Ended 31 days ago, nobody came", 31),
    Case("Cancelled, ended 35 days ago", 35, registrations=1, questions=1, cancelled=True),
    Case("Ended 33 days ago, asked before 0008", 33, questions=1, whole=1),
    Case("Ended 30 days ago less an hour", 30 - 1 / 24, registrations=1, questions=1),
    Case("Ended 29 days ago", 29, registrations=2, questions=1),
    Case("Cancelled, ended 10 days ago", 10, registrations=1, questions=1, cancelled=True),
    Case("Still to come", -7, registrations=1, questions=1),
]


@dataclass
class Table:
    """The dialogues of CASES by title, and every personal detail typed in."""

    ids: dict[str, int]
    canaries: list[str]


def _canary(field: str) -> str:
    return f"CANARY-{field}-{uuid.uuid4().hex}"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock, at sign-up time until the test moves it."""
    return freeze(monkeypatch, SIGN_UP_AT)


@pytest.fixture
def table(site: Installation, resident: FlaskClient, frozen: Clock) -> Table:
    """Every case of CASES, signed up to and asked before it took place; the clock at RUN_AT;
    gallringsbeslut of 30 days for registrations and askers' contact details."""
    decide(site.app, "dialogue_registrations", "question_contacts", days=30)
    found = Table(ids={}, canaries=[])
    for case in CASES:
        starts = RUN_AT - timedelta(days=case.ended_days_ago, hours=2)
        dialogue_id = new_dialogue(site.app, title=case.title, starts_at=starts)
        found.ids[case.title] = dialogue_id
        for _ in range(case.registrations):
            person = {
                "name": _canary("namn"),
                "phone": f"070-{uuid.uuid4().hex[:8]}",
                "needs": _canary("behov"),
            }
            email = f"{_canary('epost').lower()}@example.com"
            assert sign_up(resident, dialogue_id, email, **person).status_code == 303
            found.canaries += [email, *person.values()]
        with site.app.app_context():
            dialogue = db.session.get(Dialogue, dialogue_id)
            assert dialogue is not None
            for _ in range(case.questions):
                contact = {"name": _canary("namn"), "email": f"{_canary('epost')}@example.com"}
                text = _canary("text")
                questions.submit_question(dialogue, text=text, theme="", **contact)
                found.canaries += [text, *contact.values()]
        for _ in range(case.whole):
            contact = {"name": _canary("namn"), "email": f"{_canary('epost')}@example.com"}
            text = _canary("text")
            sealed_whole(site, dialogue_id, text=text, **contact)
            found.canaries += [text, *contact.values()]
        if case.cancelled:
            change(site.app, dialogue_id, status=CANCELLED)
    frozen.set(RUN_AT)
    return found


def run(app: Flask, *args: str) -> str:
    """`flask --app intake retention dialogues [args]`; its output (it must exit 0)."""
    result = app.test_cli_runner().invoke(args=["retention", "dialogues", *args])
    assert result.exit_code == 0, result.output
    return str(result.output)


def listed(output: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The dialogue lines of the two sections: registrants, then askers."""
    registrants, _, askers = output.partition(QUESTIONS_HEADING)
    assert askers, output

    def lines(section: str) -> list[dict[str, Any]]:
        return [
            found.groupdict()
            for line in section.splitlines()
            if (found := LISTED.match(line)) is not None
        ]

    return lines(registrants), lines(askers)


def expected(table: Table) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What CASES say a round at RUN_AT erases, as the command prints it, in dialogue order."""
    registrants, askers = [], []
    for case in sorted(CASES, key=lambda case: table.ids[case.title]):
        if not case.due:
            continue
        ends = RUN_AT - timedelta(days=case.ended_days_ago)
        line = {
            "id": str(table.ids[case.title]),
            "title": case.title,
            "on": str(clock.local_date(ends - timedelta(hours=2))),
            "cancelled": "  inställd" if case.cancelled else None,
            "erase": str(clock.local_date(ends + timedelta(days=30))),
        }
        registrants.append({**line, "count": str(case.registrations), "waiting": None})
        if case.questions or case.whole:
            waiting = str(case.whole) if case.whole else None
            askers.append({**line, "count": str(case.questions), "waiting": waiting})
    return registrants, askers


def state(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every column an erasure touches, and the audit trail."""
    with app.app_context():
        queries = {
            "dialogues": sa.select(Dialogue.id, Dialogue.personal_data_erased_at),
            "registrations": sa.select(
                Registration.id, Registration.protected, Registration.email_tag
            ),
            "questions": sa.select(
                Question.id, Question.sealed_contact, Question.contact_erased_at
            ),
            "audit": sa.select(AuditEvent.seq, AuditEvent.action, AuditEvent.hash),
        }
        return {
            name: sorted(tuple(row) for row in db.session.execute(query))
            for name, query in queries.items()
        }


def test_the_dry_run_lists_exactly_what_the_real_run_erases(
    site: Installation, table: Table
) -> None:
    # When the dry run lists what a round would erase now
    dry = run(site.app, "--dry-run")
    # Then it lists, per section, exactly the dialogues that ended more than 30 days ago, with
    # their date, whether cancelled, the day they became due and how many
    registrants, askers = expected(table)
    assert listed(dry) == (registrants, askers)
    assert "Anmälningar till 4 dialoger skulle gallras." in dry
    assert "Kontaktuppgifter i 4 frågor skulle gallras." in dry
    assert "1 frågor väntar:" in dry
    # When the real run follows
    real = run(site.app)
    # Then it prints the same dialogues as done
    assert listed(real) == listed(dry)
    assert "Anmälningar till 4 dialoger gallrade." in real
    assert "Kontaktuppgifter i 4 frågor gallrade." in real
    # And it erased exactly those: registrants of the due dialogues, askers of their questions
    # (not those sealed in one piece, which wait), nothing of the others
    due = {table.ids[case.title] for case in CASES if case.due}
    after = state(site.app)
    assert {row[0] for row in after["dialogues"] if row[1] is not None} == due
    assert all(row[1] == RUN_AT for row in after["dialogues"] if row[1] is not None)
    with site.app.app_context():
        for case in CASES:
            dialogue_id = table.ids[case.title]
            rows = db.session.scalars(
                sa.select(Registration).where(Registration.dialogue_id == dialogue_id)
            ).all()
            assert len(rows) == case.registrations
            assert all((r.protected is None) is case.due for r in rows), case
            assert all((r.email_tag is None) is case.due for r in rows), case
            asked = db.session.scalars(
                sa.select(Question).where(Question.dialogue_id == dialogue_id)
            ).all()
            erased = [q for q in asked if q.contact_erased_at is not None]
            assert len(erased) == (case.questions if case.due else 0), case
            assert all(q.sealed_contact is None and q.contact_erased_at == RUN_AT for q in erased)
            waiting = [q for q in asked if questions.sealed_whole(q)]
            assert len(waiting) == case.whole, case
    # And audited as the worker's round does: one row per dialogue and kind, counts only
    erased_registrants = audited(site, "registrations_erased")
    assert sorted(int(target) for target, details in erased_registrants) == sorted(due)
    # each naming the gallringsbeslut it erased under
    named = {"decision": "SN 2026/40, Socialnämnden, 2000-01-01"}
    assert all(details.keys() == {"decision", "decision_id"} for _t, details in erased_registrants)
    assert all(details.items() >= named.items() for _target, details in erased_registrants)
    assert all(details["decision"] == named["decision"] for _t, details in erased_registrants)
    erased_contacts = {
        (int(target), details["questions"])
        for target, details in audited(site, "question_contacts_erased")
    }
    assert erased_contacts == {
        (int(line["id"]), int(line["count"])) for line in askers if line["count"] != "0"
    }
    # And afterwards only the question that waits for its resealing is still listed
    again = run(site.app, "--dry-run")
    waits = [line for line in askers if line["waiting"]]
    assert listed(again) == ([], [{**line, "count": "0"} for line in waits])
    assert "Anmälningar till 0 dialoger skulle gallras." in again


def test_the_dry_run_changes_nothing(site: Installation, table: Table) -> None:
    # Given the state of everything an erasure touches, and the audit trail
    before = state(site.app)
    # When the dry run runs, twice
    run(site.app, "--dry-run")
    run(site.app, "--dry-run")
    # Then no row changed and nothing was audited; the chain is whole
    assert state(site.app) == before
    with site.app.app_context():
        assert audit.verify().ok
    # And the worker's round still finds all of it due
    with site.app.app_context():
        assert len(erasure.erase_registrants(now=clock.now())) == 4


def test_no_name_or_email_is_printed(site: Installation, table: Table) -> None:
    # Given names, e-mails, phone numbers, needs and question texts, each a unique canary
    assert len(set(table.canaries)) == len(table.canaries) > 20
    # When the dry run and the real run print what they do
    output = run(site.app, "--dry-run") + run(site.app) + run(site.app, "--dry-run")
    # Then the dialogues are named, the people not
    assert "Ended 40 days ago" in output
    assert [canary for canary in table.canaries if canary in output] == []
    assert "@" not in output and "CANARY" not in output


@pytest.mark.parametrize(
    ("due", "erase"),
    [
        (erasure.registrants_due, erasure.erase_registrants),
        (erasure.contacts_due, erasure.erase_contacts),
    ],
    ids=["registrants", "question-contacts"],
)
def test_the_erasure_erases_what_its_due_query_lists(
    site: Installation,
    table: Table,
    due: Callable[..., list[erasure.Due]],
    erase: Callable[..., list[erasure.Due]],
) -> None:
    with site.app.app_context():
        listed_first = due(now=clock.now(), after_days=30)
        assert listed_first and erase(now=clock.now()) == listed_first
        # Once done, nothing is left to erase but what waits for its resealing
        assert [item for item in due(now=clock.now(), after_days=30) if not item.waiting] == []


@pytest.mark.parametrize(
    ("due", "erase", "action"),
    [
        (erasure.registrants_due, erasure.erase_registrants, "registrations_erased"),
        (erasure.contacts_due, erasure.erase_contacts, "question_contacts_erased"),
    ],
    ids=["registrants", "question-contacts"],
)
def test_a_round_that_comes_second_erases_and_audits_nothing(
    site: Installation,
    table: Table,
    monkeypatch: pytest.MonkeyPatch,
    due: Callable[..., list[erasure.Due]],
    erase: Callable[..., list[erasure.Due]],
    action: str,
) -> None:
    # Given a round that listed what was due just before another round erased it
    with site.app.app_context():
        stale = due(now=clock.now(), after_days=30)
        erase(now=clock.now())
    before = state(site.app)
    monkeypatch.setattr(erasure, due.__name__, lambda **_: stale)
    # When it erases from its stale list
    with site.app.app_context():
        second = erase(now=clock.now() + timedelta(minutes=1))
    # Then it erases and audits nothing more (the audit trail is part of the state), and says so
    assert stale and sum(item.count for item in second) == 0
    assert state(site.app) == before


def test_dates_are_stockholm_days(site: Installation, frozen: Clock) -> None:
    # A dialogue that ends at 00:30 Stockholm time is due from that Stockholm day 30 days on,
    # not from the UTC day before
    decide(site.app, "dialogue_registrations", "question_contacts", days=30)
    dialogue_id = new_dialogue(site.app, starts_at=stockholm(2031, 3, 9, 22, 30))
    frozen.set(stockholm(2031, 4, 20, 10, 0))
    [line] = listed(run(site.app, "--dry-run"))[0]
    assert line["id"] == str(dialogue_id)
    assert (line["on"], line["erase"]) == (str(date(2031, 3, 9)), str(date(2031, 4, 9)))
