"""Inboxes, routing rules, reports and the drafts of reports in progress."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Date, ForeignKey, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from intake import law
from intake.extensions import db
from intake.models_base import UTCDateTime

if TYPE_CHECKING:
    from intake.gallring import RetentionDecision


def acute_first_of(acute: bool | None, answer: str | None) -> int:
    """1 for reports that sort with the acute ones ("ja" and "vet inte"), else 0."""
    return 1 if acute or answer in law.ACUTE_AS_ACUTE else 0


def _acute_first_default(context: DefaultExecutionContext) -> int:
    # Also for Core inserts (intake.reports.service.submit): from the row's own parameters.
    params = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return acute_first_of(params.get("acute"), params.get("acute_answer"))


class Inbox(db.Model):  # type: ignore[name-defined]
    """A receiving unit of socialtjänsten, with its own key pair."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    notification_email: Mapped[str | None] = mapped_column(String(254))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The inbox secret (private key + linking key), wrapped under an Argon2id key from the
    # recovery code printed when the inbox was created.
    recovery_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    is_fallback: Mapped[bool] = mapped_column(default=False)
    # Handling states offered for reports about adults (no statutory deadlines), one per line;
    # None gives the defaults in intake.reports.handling.ADULT_OUTCOMES.
    adult_outcomes: Mapped[str | None] = mapped_column(String(400))
    # Professionals must sign in with e-legitimation to send a report here (intake.reports.eid).
    require_eid_professional: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingRule(db.Model):  # type: ignore[name-defined]
    """If a report matches every condition set here, it goes to the inbox. First match wins."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    subject_type: Mapped[str | None] = mapped_column(String(20))
    reporter_type: Mapped[str | None] = mapped_column(String(20))
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id"))

    inbox: Mapped[Inbox] = relationship()


# The plain columns the inbox's triage filters read (intake.reports.listing.Triage).
LIST_FILTERS = (
    "next_deadline",
    "concern_group",
    "reporter_kind",
    "subject_type",
    "assigned_to_id",
    "status",
    "acute_answer",
    "acute",
)


class Report(db.Model):  # type: ignore[name-defined]
    """A received orosanmälan. Only what handling needs is plain; the rest is sealed."""

    __tablename__ = "report"
    # The inbox list (intake.reports.listing): keyset pages in the list's order, per inbox,
    # with and without a status filter (the counts per status are in ReportTally).
    __table_args__ = (
        # The list's order, then the triage filters' columns: a filtered list is walked in
        # order from this index alone.
        sa.Index(
            "ix_report_inbox_list",
            "inbox_id",
            "acute_first",
            "received_at",
            "id",
            *LIST_FILTERS,
        ),
        sa.Index(
            "ix_report_inbox_status_list", "inbox_id", "status", "acute_first", "received_at", "id"
        ),
        # The "Mina" view (issue 13 §2): one caseworker's reports, in the list's order.
        sa.Index(
            "ix_report_inbox_assigned_list",
            "inbox_id",
            "assigned_to_id",
            "acute_first",
            "received_at",
            "id",
        ),
        # The inbox's matches under triage filters, with their sort keys, read from this
        # index alone (no row lookups).
        sa.Index(
            "ix_report_inbox_triage",
            "inbox_id",
            "next_deadline",
            "concern_group",
            "reporter_kind",
            "subject_type",
            "assigned_to_id",
            "status",
            "acute_first",
            "acute_answer",
            "acute",
            "received_at",
            "id",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id"), index=True)
    routing_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rule.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    acute: Mapped[bool] = mapped_column(default=False)
    # The reporter's answer to "is it acute?": "ja", "nej" or "vet_ej" (None: not known yet,
    # reports from before the column; filled in when the report is opened).
    acute_answer: Mapped[str | None] = mapped_column(String(10))
    # The inbox's first sort key, stored so that an index serves the list: 1 for "ja" and
    # "vet inte" (acute_first_of), 0 for the rest. Kept by intake.reports.handling._learn.
    acute_first: Mapped[int] = mapped_column(
        sa.SmallInteger, default=_acute_first_default, server_default=sa.text("0")
    )
    # Whom the report concerns (choices.SUBJECT_TYPES): decides which rules apply (intake.law).
    # The inbox a report was routed to tells as much; None until known (filled when opened).
    subject_type: Mapped[str | None] = mapped_column(String(20))
    # A mandated reporter asked for återkoppling about a child (a deadline runs once decided).
    feedback_requested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Coarse triage columns (intake.reports.triage): plain so that the inbox lists and filters
    # them; None = okänd (older reports, until opened). The answers themselves stay sealed.
    reporter_kind: Mapped[str | None] = mapped_column(String(20))
    concern_group: Mapped[str | None] = mapped_column(String(20))
    # The caseworker the report is assigned to (intake.reports.assignment), a member of its inbox.
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The earliest open deadline and which one it is (intake.reports.next_deadline): stored
    # by the mapper event below whenever the row changes, so lists never compute it per row.
    next_deadline: Mapped[date | None] = mapped_column(Date)
    next_deadline_kind: Mapped[str | None] = mapped_column(String(20))
    schema_version: Mapped[int] = mapped_column(default=1)
    # None once purged (gallrad): the row stays as a content-free tombstone.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    # Anonymous follow-up: a random lookup id in the clear, the secret half only as a slow hash.
    followup_lookup: Mapped[str | None] = mapped_column(String(16), unique=True)
    followup_hash: Mapped[str | None] = mapped_column(String(200))
    # Keyed blind index of the personnummer (see intake.reports.linking); set when opened.
    link_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    # The reporter's channel (intake.reports.channel): the public half of a key pair derived
    # from the follow-up code; the private half is never stored. None for older reports.
    channel_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "unanswered" (a question waits for the reporter) or "new" (the reporter answered and no
    # caseworker has opened the report since); None when nothing waits. Plain: no content.
    channel_flag: Mapped[str | None] = mapped_column(String(12), index=True)
    channel_flag_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Handling: omedelbar skyddsbedömning, förhandsbedömning decision, case registration.
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    assessment_note: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    registered_on: Mapped[date | None] = mapped_column(Date)
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    case_reference: Mapped[str | None] = mapped_column(String(60))
    feedback_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reports about adults: the inbox's own handling state instead of the child deadlines.
    outcome: Mapped[str | None] = mapped_column(String(60))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The gallringsbeslut the content was purged under (intake.gallring), named on the tombstone.
    purge_decision_id: Mapped[int | None] = mapped_column(ForeignKey("retention_decision.id"))

    inbox: Mapped[Inbox] = relationship()
    routing_rule: Mapped[RoutingRule | None] = relationship()
    purge_decision: Mapped[RetentionDecision | None] = relationship()
    messages: Mapped[list[ReportMessage]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportMessage.received_at"
    )


# On every mapper, not on Report itself: listening on a mapped class configures all mappers
# at import time, before the other domains' models exist.
@sa.event.listens_for(Mapper, "before_insert")
@sa.event.listens_for(Mapper, "before_update")
def _stamp_next_deadline(_mapper: object, _connection: object, target: object) -> None:
    # The one place the stored next deadline follows the handling state (issue 14 §1).
    if isinstance(target, Report):
        from intake.reports import next_deadline  # it imports this module

        next_deadline.stamp(target)


class ReportTally(db.Model):  # type: ignore[name-defined]
    """How many reports an inbox holds per status, acute answer and acute flag.

    Kept by the database itself: triggers on every INSERT, DELETE and UPDATE of `report`
    (migration 0021_tally), so the inbox's counts are one small read at any number of reports
    (issue 14 §1) and no code path can forget them. On PostgreSQL the latest changes wait in
    ReportTallyChange. Read through intake.reports.tally only.
    `acute_answer` '' stands for "not known" (NULL in `report`: a key column cannot be NULL)."""

    __tablename__ = "report_tally"

    inbox_id: Mapped[int] = mapped_column(
        ForeignKey("inbox.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    acute_answer: Mapped[str] = mapped_column(String(10), primary_key=True)
    acute: Mapped[bool] = mapped_column(primary_key=True)
    reports: Mapped[int]


class ReportTallyChange(db.Model):  # type: ignore[name-defined]
    """A change to ReportTally not yet folded into it (PostgreSQL only; SQLite's triggers
    update the tally itself): +1 or -1 for one key, appended by the trigger, so that writers
    never wait for each other on a tally row. intake.reports.tally reads and folds them."""

    __tablename__ = "report_tally_change"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    acute_answer: Mapped[str] = mapped_column(String(10))
    acute: Mapped[bool]
    change: Mapped[int]


class ReportMessage(db.Model):  # type: ignore[name-defined]
    """More information the reporter added later with the follow-up code (sealed)."""

    __tablename__ = "report_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="messages")


class ChannelMessage(db.Model):  # type: ignore[name-defined]
    """One message in the channel between caseworkers and the reporter (append-only, sealed).

    `sealed` is the copy sealed to the inbox (what caseworkers read); `sealed_reporter` the copy
    sealed to the key derived from the follow-up code (what the reporter reads)."""

    __tablename__ = "channel_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "to_reporter" (a caseworker's question) or "from_reporter" (the reporter's answer).
    direction: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Who sent it as shown on the staff side (the caseworker's address, kept if the account
    # goes); None for the reporter.
    author_label: Mapped[str | None] = mapped_column(String(254))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_reporter: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Återkoppling only (intake.reports.feedback): the message protected under the application
    # key, and a keyed hash of the verified reporter's personnummer that finds it again after
    # an e-legitimation sign-in as the same person.
    protected: Mapped[bytes | None] = mapped_column(LargeBinary)
    reporter_tag: Mapped[str | None] = mapped_column(String(80), index=True)


class CaseNote(db.Model):  # type: ignore[name-defined]
    """One note in a report's case history: append-only, the text sealed to the inbox.

    Who wrote it and when are plain (the history shows them); the text is sealed like the
    report's content (intake.reports.casenotes). There is no update: a note is never edited,
    and the purge (gallring) deletes the rows with the rest of the content."""

    __tablename__ = "case_note"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The author as shown (the caseworker's address), kept if the account goes.
    author_label: Mapped[str] = mapped_column(String(254))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


@sa.event.listens_for(CaseNote, "before_update")
def _notes_are_append_only(*_args: object) -> None:
    raise CaseNoteImmutable("a case note is never changed")


class CaseNoteImmutable(RuntimeError):
    """Something tried to change a stored case note."""


class Draft(db.Model):  # type: ignore[name-defined]
    """Answers in progress, encrypted under a key that only the resident's cookie holds."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A hash of the draft's id token, so a database copy cannot be matched to cookies.
    token_hash: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
