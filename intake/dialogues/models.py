"""Dialogues, registrations (protected), questions (sealed) and held-dialogue reports."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.models_base import UTCDateTime

IN_PERSON, DIGITAL, HYBRID = "in_person", "digital", "hybrid"
# A new dialogue is a draft (DRAFT) until the organiser publishes it (PLANNED): a draft is on
# no public page, takes no sign-ups or questions, and cannot be reported held, so it never
# counts toward the promise (intake.followup.progress counts held reports only).
DRAFT, PLANNED, CANCELLED = "draft", "planned", "cancelled"
CONFIRMED, WAITLISTED, WITHDRAWN = "confirmed", "waitlisted", "cancelled"


class Dialogue(db.Model):  # type: ignore[name-defined]
    """A citizen dialogue. Everything here is public except the meeting link."""

    __tablename__ = "dialogue"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    format: Mapped[str] = mapped_column(String(20), default=IN_PERSON)
    place: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    # Shown only to registrants (in their mails), never on the public page.
    meeting_link: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column()
    signup_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signup_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepts_questions: Mapped[bool] = mapped_column(default=True)
    accessibility: Mapped[str] = mapped_column(Text, default="")
    reminder_hours: Mapped[int] = mapped_column(default=24)
    status: Mapped[str] = mapped_column(String(20), default=PLANNED)
    # Bumped under lock by every sign-up and cancellation: serialises seat counting.
    seat_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the organiser published it (migration 0018 set it for the dialogues already there).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    report: Mapped[HeldReport | None] = relationship(back_populates="dialogue", uselist=False)


class Registration(db.Model):  # type: ignore[name-defined]
    """A sign-up. Name, e-mail, phone and needs are protected (application key)."""

    __tablename__ = "registration"
    # One registration per e-mail and dialogue; the e-mail is compared by a keyed hash.
    # The waiting list is counted and paged on (dialogue, status, created_at, id): a sign-up's
    # cost does not grow with the list's length.
    __table_args__ = (
        UniqueConstraint("dialogue_id", "email_tag"),
        Index("ix_registration_queue", "dialogue_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(
        ForeignKey("dialogue.id", ondelete="CASCADE"), index=True
    )
    email_tag: Mapped[str | None] = mapped_column(String(64))
    protected: Mapped[bytes | None] = mapped_column(LargeBinary)
    party_size: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Added by the organiser at the door: no e-mail, no mail, arrived on arrival.
    walk_in: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class Question(db.Model):  # type: ignore[name-defined]
    """A question sent before a dialogue, sealed to the Medborgardialog inbox."""

    __tablename__ = "dialogue_question"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(
        ForeignKey("dialogue.id", ondelete="CASCADE"), index=True
    )
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id"))
    theme: Mapped[str] = mapped_column(String(60), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The text, sealed. The asker's name and e-mail are sealed apart in `sealed_contact` so
    # that they alone can be erased once the dialogue is over (intake.dialogues.questions).
    # Questions sent before migration 0008 hold all three in `sealed` (both columns below
    # empty) until a member of the inbox opens them and they are sealed again in two parts.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_contact: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the organiser chose to publish (edited wording) and the answer; public once set.
    published_question: Mapped[str | None] = mapped_column(Text)
    published_answer: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When an organiser last answered the asker by mail (the answer itself is not kept).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HeldReport(db.Model):  # type: ignore[name-defined]
    """What the organiser records after a dialogue. Only held=True counts as held."""

    __tablename__ = "dialogue_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(
        ForeignKey("dialogue.id", ondelete="CASCADE"), unique=True
    )
    held: Mapped[bool] = mapped_column()
    attendees: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    themes_raised: Mapped[str] = mapped_column(Text, default="")
    follow_up_actions: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    dialogue: Mapped[Dialogue] = relationship(back_populates="report")
