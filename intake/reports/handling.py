"""Caseworkers' handling of reports: deadlines, assessment, decision,
registration, återkoppling and the anonymous reporter's additions (moving: intake.reports.moving;
case notes: intake.reports.casenotes).

Plain functions; the caller passes the unlocked inbox secret where content is read or sealed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from intake import audit, clock, law, outbox
from intake.accounts.models import User
from intake.crypto import custody, sealing
from intake.extensions import db
from intake.reports import feedback, linking, service, triage
from intake.reports.models import Inbox, Report, ReportMessage, acute_first_of

RECEIVED, ASSESSED, DECIDED, REGISTERED, PURGED = (
    "received",
    "assessed",
    "decided",
    "registered",
    "purged",
)
STATUSES = (RECEIVED, ASSESSED, DECIDED, REGISTERED, PURGED)
DECISIONS = ("opened", "not_opened", "ongoing")


class HandlingError(Exception):
    """An action that does not fit the report's state; `message` is Swedish."""


EMPTY_ASSESSMENT = "Skriv vad skyddsbedömningen kom fram till och vilka åtgärder som vidtogs."

# Handling states of reports about adults when the inbox sets none of its own.
ADULT_OUTCOMES = ("Kontakt tagen", "Ingen åtgärd", "Hänvisad")


def child_rules(report: Report) -> bool:
    """Whether the children's deadlines apply (barn och unga; unknown counts as a child)."""
    return report.subject_type is None or report.subject_type in law.CHILD_RULES_SUBJECTS


def adult_outcomes(inbox: Inbox) -> list[str]:
    """The handling states an inbox offers for reports about adults."""
    configured = [line.strip() for line in (inbox.adult_outcomes or "").splitlines()]
    return [line for line in configured if line] or list(ADULT_OUTCOMES)


def acute_rank(answer: str | None, acute: bool) -> bool:
    """Whether a report sorts with the acute ones: "ja" and "vet inte" both do."""
    return acute or answer in law.ACUTE_AS_ACUTE


@dataclass(frozen=True)
class Deadlines:
    """The statutory deadlines of a report and where they stand today (None: none applies)."""

    skyddsbedomning: date | None
    forhandsbedomning: date | None
    skydd_state: str | None
    forhand_state: str | None
    registration: date
    registration_state: str | None
    feedback: date | None = None
    feedback_state: str | None = None

    @property
    def states(self) -> tuple[str | None, ...]:
        """Every open deadline's state, for highlighting a row."""
        return (self.skydd_state, self.forhand_state, self.feedback_state)


def deadlines(report: Report, *, today: date, opens: time, closes: time) -> Deadlines:
    """Due dates, with 'overdue' / 'due_today' / 'upcoming' while the step is not done."""
    registration = clock.registration_due(report.received_at)
    registration_state = (
        None if report.registered_on else clock.deadline_state(registration, today=today)
    )
    feedback = feedback_state = None
    if report.feedback_requested and report.decided_on is not None:
        feedback = clock.feedback_due(report.decided_on)
        if report.feedback_sent_at is None:
            feedback_state = clock.deadline_state(feedback, today=today)
    if not child_rules(report):
        return Deadlines(None, None, None, None, registration, registration_state)
    skydd = clock.skyddsbedomning_due(report.received_at, opens=opens, closes=closes)
    forhand = clock.forhandsbedomning_due(report.received_at)
    return Deadlines(
        skyddsbedomning=skydd,
        forhandsbedomning=forhand,
        skydd_state=None if report.assessed_at else clock.deadline_state(skydd, today=today),
        forhand_state=None if report.decision else clock.deadline_state(forhand, today=today),
        registration=registration,
        registration_state=registration_state,
        feedback=feedback,
        feedback_state=feedback_state,
    )


@dataclass(frozen=True)
class OpenedReport:
    """A report's content, opened for one request."""

    answers: dict[str, Any]
    assessment_note: str | None
    messages: list[tuple[datetime, str]]
    linked: list[Report]
    verified: dict[str, str] | None = None  # who the eID broker said sent it (service)


def note_context(report: Report) -> bytes:
    """What the sealed skyddsbedömning note is bound to."""
    return f"intake:assessment-note:v1:{report.id}:inbox:{report.inbox_id}".encode()


def message_context(message: ReportMessage, inbox_id: int) -> bytes:
    """What a sealed addition from the reporter is bound to."""
    return f"intake:report-message:v1:{message.id}:{message.report_id}:inbox:{inbox_id}".encode()


def open_report(
    report: Report, secret: custody.InboxSecret, *, user: User, readable_inboxes: Sequence[int]
) -> OpenedReport:
    """Decrypt a report for a member; tag it for linking; audit the view. The caller commits
    (before it shows anything: the page's other reads first, so the request needs one
    transaction)."""
    if report.sealed is None:
        raise HandlingError("Innehållet är gallrat.")
    content = service.open_content(report, secret.private)
    answers: dict[str, Any] = content["answers"]
    note = None
    if report.assessment_note is not None:
        note = sealing.open_sealed(
            report.assessment_note, secret.private, context=note_context(report)
        ).decode()
    messages = [
        (
            m.received_at,
            sealing.open_sealed(
                m.sealed, secret.private, context=message_context(m, report.inbox_id)
            ).decode(),
        )
        for m in report.messages
        if m.sealed is not None
    ]
    _learn(report, answers)
    linked: list[Report] = []
    tag = None
    if linking.allowed(report.subject_type):
        tag = linking.tag_for(
            answers.get("identity_number"), secret.link_key, today=clock.local_date(clock.now())
        )
    if report.link_tag != tag:
        report.link_tag = tag  # a report about an adult keeps no tag (intake.reports.linking)
    if report.link_tag:
        linked = list(
            db.session.scalars(
                sa.select(Report)
                .where(
                    Report.link_tag == report.link_tag,
                    Report.id != report.id,
                    Report.inbox_id.in_(readable_inboxes),
                )
                .order_by(Report.received_at.desc())
            )
        )
    audit.record(
        "report_viewed",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
    )
    return OpenedReport(
        answers=answers,
        assessment_note=note,
        messages=messages,
        linked=linked,
        verified=content.get("verified"),
    )


def _learn(report: Report, answers: dict[str, Any]) -> None:
    """Fill the plain handling columns of a report from before they existed."""
    if report.subject_type is None and answers.get("subject_type"):
        report.subject_type = str(answers["subject_type"])
    if report.acute_answer is None and answers.get("acute_danger"):
        report.acute_answer = str(answers["acute_danger"])
        report.acute_first = acute_first_of(report.acute, report.acute_answer)
    # Set only what changes: a report marked dirty is flushed and stamped (next_deadline)
    # on every view even when no value differs.
    if not report.feedback_requested and law.feedback_requested(answers):
        report.feedback_requested = True
    if report.reporter_kind is None and (kind := triage.reporter_kind(answers)) is not None:
        report.reporter_kind = kind
    if report.concern_group is None and (group := triage.concern_group(answers)) is not None:
        report.concern_group = group


def record_assessment(report: Report, note: str, inbox: Inbox, *, user: User) -> None:
    """The omedelbar skyddsbedömning is done; the outcome note is sealed. Commits."""
    if report.purged_at:
        raise HandlingError("Anmälan är gallrad.")
    note = note.strip()
    if not note:
        raise HandlingError(EMPTY_ASSESSMENT)
    report.assessed_at = clock.now()
    report.assessed_by_id = user.id
    report.assessment_note = sealing.seal(
        note.encode(), inbox.public_key, context=note_context(report)
    )
    if report.status == RECEIVED:
        report.status = ASSESSED
    audit.record(
        "assessment_recorded",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()


def record_decision(report: Report, decision: str, decided_on: date, *, user: User) -> None:
    """The förhandsbedömning decision: investigation opened, not opened, or already ongoing."""
    if decision not in DECISIONS:
        raise HandlingError("Välj ett beslut.")
    if not child_rules(report):
        raise HandlingError("Beslut inom 14 dagar gäller anmälningar om barn och unga.")
    if report.assessed_at is None:
        raise HandlingError("Registrera skyddsbedömningen först.")
    report.decision, report.decided_on, report.decided_by_id = decision, decided_on, user.id
    if report.status in (RECEIVED, ASSESSED):
        report.status = DECIDED
    audit.record(
        "decision_recorded",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
        decision=decision,
    )
    db.session.commit()


def register_in_case_system(
    report: Report, registered_on: date, case_reference: str, *, user: User
) -> None:
    """The report is registered in the case management system; retention starts counting."""
    if report.decision is None and report.outcome is None:
        raise HandlingError(
            "Registrera beslutet först."
            if child_rules(report)
            else "Registrera handläggningsläget först."
        )
    check_registration_date(report, registered_on)
    report.registered_on, report.case_reference = registered_on, case_reference
    report.registered_by_id = user.id
    report.status = REGISTERED
    audit.record(
        "registered", actor_id=user.id, actor=user.email, target_type="report", target_id=report.id
    )
    db.session.commit()


def check_registration_date(report: Report, registered_on: date) -> None:
    """A registration date lies between the day the report came in and today."""
    received = clock.local_date(report.received_at)
    if registered_on < received:
        raise HandlingError(
            f"Datumet kan inte vara före den dag anmälan kom in ({received.isoformat()})."
        )
    if registered_on > clock.local_date(clock.now()):
        raise HandlingError("Datumet kan inte vara i framtiden.")


def record_outcome(report: Report, outcome: str, *, user: User) -> None:
    """The handling state of a report about an adult (from the inbox's list). Commits."""
    if child_rules(report):
        raise HandlingError("Anmälningar om barn och unga följer skyddsbedömning och beslut.")
    if outcome not in adult_outcomes(report.inbox):
        raise HandlingError("Välj ett handläggningsläge.")
    report.outcome, report.outcome_at, report.outcome_by_id = outcome, clock.now(), user.id
    if report.status in (RECEIVED, ASSESSED):
        report.status = DECIDED
    audit.record(
        "outcome_recorded",
        actor_id=user.id,
        actor=user.email,
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()


def actors(report: Report) -> dict[str, str]:
    """Who recorded each handling step ("assessed", "decided", "registered", "outcome"), as
    shown: name and address; a step whose account is gone or predates the column is absent."""
    ids = {
        "assessed": report.assessed_by_id,
        "decided": report.decided_by_id,
        "registered": report.registered_by_id,
        "outcome": report.outcome_by_id,
    }
    wanted = sorted({user_id for user_id in ids.values() if user_id is not None})
    if not wanted:
        return {}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
    return {
        step: f"{users[user_id].name} ({users[user_id].email})"
        for step, user_id in ids.items()
        if user_id in users
    }


def feedback_possible(
    report: Report, answers: dict[str, Any], verified: dict[str, str] | None
) -> bool:
    """Återkoppling: a mandated reporter who asked for it, about a child, once decided, and
    whose identity was verified with e-legitimation (intake.reports.feedback)."""
    return (
        feedback_unverified(report, answers)
        and feedback.verified_personnummer(verified) is not None
    )


def feedback_unverified(report: Report, answers: dict[str, Any]) -> bool:
    """Återkoppling would be due but is not yet sent (whether or not the reporter is verified)."""
    return (
        law.feedback_requested(answers)
        and report.decision is not None
        and report.feedback_sent_at is None
    )


def send_feedback(
    report: Report,
    answers: dict[str, Any],
    verified: dict[str, str] | None,
    *,
    user: User,
    base_url: str,
) -> None:
    """Make the återkoppling available to the verified reporter; mail only that it waits."""
    personnummer = feedback.verified_personnummer(verified)
    if personnummer is None or not feedback_possible(report, answers, verified):
        raise HandlingError("Återkoppling kan inte skickas för den här anmälan.")
    feedback.give(
        report,
        personnummer,
        user=user,
        recipient=str(answers.get("reporter_email") or "") or None,
        base_url=base_url,
    )


def add_message(report: Report, text: str, *, base_url: str) -> None:
    """The anonymous reporter adds information with the follow-up code (sealed). Commits."""
    message = ReportMessage(
        id=str(uuid.uuid4()),
        report_id=report.id,
        received_at=clock.now().replace(second=0, microsecond=0),
    )
    message.sealed = sealing.seal(
        text.encode(), report.inbox.public_key, context=message_context(message, report.inbox_id)
    )
    db.session.add(message)
    if report.inbox.notification_email:
        outbox.enqueue(
            "report_addition",
            report.inbox.notification_email,
            {"inbox": report.inbox.name, "login_url": f"{base_url}/personal/"},
        )
    audit.record(
        "reporter_added_information",
        actor_id=None,
        actor="anmälare",
        target_type="report",
        target_id=report.id,
    )
    db.session.commit()


def answers_json(answers: dict[str, Any]) -> str:
    """The answers as JSON, for the export."""
    return json.dumps(answers, ensure_ascii=False, indent=2)
