"""Promises (medborgarlöften), commitments with yearly targets, and recorded activities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.models_base import UTCDateTime

POLICE, MUNICIPALITY, BOTH = "polisen", "kommunen", "bada"
PARTIES = (POLICE, MUNICIPALITY, BOTH)
AT_LEAST_PER_YEAR, ONCE_PER_YEAR, ONCE, ONGOING = "per_year", "once_per_year", "once", "ongoing"
TARGET_TYPES = (AT_LEAST_PER_YEAR, ONCE_PER_YEAR, ONCE, ONGOING)
FROM_ACTIVITIES, FROM_DIALOGUES = "activities", "dialogues"


class Promise(db.Model):  # type: ignore[name-defined]
    """A medborgarlöfte between the local police area and the municipality."""

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(120))
    police_area: Mapped[str] = mapped_column(String(120))
    introduction: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date] = mapped_column(Date, index=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # "Löftet gäller till … eller tills nytt löfte ges": in force past valid_to until replaced.
    until_replaced: Mapped[bool] = mapped_column(default=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    signatories: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="promise", order_by="Commitment.position", cascade="all, delete-orphan"
    )


class Commitment(db.Model):  # type: ignore[name-defined]
    """One commitment of a promise, with its yearly target and what counts."""

    __tablename__ = "commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(
        ForeignKey("promise.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(80))
    party: Mapped[str] = mapped_column(String(20))
    target_type: Mapped[str] = mapped_column(String(20))
    target: Mapped[int | None] = mapped_column()
    counts_what: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default=FROM_ACTIVITIES)

    promise: Mapped[Promise] = relationship(back_populates="commitments")


class Activity(db.Model):  # type: ignore[name-defined]
    """Something done toward a commitment: a dated count, with a place and a note."""

    __tablename__ = "activity"
    # Covers the dashboard's sums (commitment, date, count) without touching the table.
    __table_args__ = (Index("ix_activity_totals", "commitment_id", "occurred_on", "count"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitment.id", ondelete="CASCADE"), index=True
    )
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(default=1)
    place: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class YearNote(db.Model):  # type: ignore[name-defined]
    """Why a commitment is behind in a year, and when the next activity is planned."""

    __tablename__ = "commitment_year_note"
    __table_args__ = (UniqueConstraint("commitment_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    next_planned_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
