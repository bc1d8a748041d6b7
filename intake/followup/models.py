"""Promises (medborgarlöften), commitments with yearly targets, recorded activities, and the
monthly totals of those activities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstanceState, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from intake import database
from intake.extensions import db
from intake.models_base import UTCDateTime

POLICE, MUNICIPALITY, BOTH = "polisen", "kommunen", "bada"
PARTIES = (POLICE, MUNICIPALITY, BOTH)
AT_LEAST_PER_YEAR, ONCE_PER_YEAR, ONCE, ONGOING = "per_year", "once_per_year", "once", "ongoing"
TARGET_TYPES = (AT_LEAST_PER_YEAR, ONCE_PER_YEAR, ONCE, ONGOING)
FROM_ACTIVITIES, FROM_DIALOGUES = "activities", "dialogues"
# Which held dialogues a dialogue commitment counts: only those the organiser marked as hosted
# by both the police and the municipality (the partners' joint dialogues), or any.
BOTH_HOSTS, ANY_DIALOGUE = "both_hosts", "any"
COUNTING_RULES = (BOTH_HOSTS, ANY_DIALOGUE)


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
    counting_rule: Mapped[str] = mapped_column(
        String(20), default=ANY_DIALOGUE, server_default=ANY_DIALOGUE
    )
    # The commitment of the earlier promise this one was copied from, and (for "done once")
    # the date it was done under that promise, once staff point to it to mark this one done.
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitment.id", ondelete="SET NULL")
    )
    done_earlier_on: Mapped[date | None] = mapped_column(Date)

    promise: Mapped[Promise] = relationship(back_populates="commitments")


class Activity(db.Model):  # type: ignore[name-defined]
    """Something done toward a commitment: a dated count, with a place and a note."""

    __tablename__ = "activity"
    # Covers sums over a commitment's dates (commitment, date, count) without touching the
    # table: the ledger's days outside a promise's window, a recount of the monthly totals.
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


class ActivityTotal(db.Model):  # type: ignore[name-defined]
    """The sum of a commitment's activity counts in a calendar month.

    Kept by the mapper events below, in the same transaction as each activity added, changed
    or deleted through the session, so the dashboard sums at most twelve rows per commitment
    and year instead of every activity. Months, not years: promises start on the first of a
    month and the one before ends the day before, so a window seldom cuts a month and the
    ledger seldom has to look at single activities. A bulk statement on `activity` (which
    fires no mapper events) must be followed by `service.recount_totals()`."""

    __tablename__ = "activity_total"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitment.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    total: Mapped[int] = mapped_column()


class YearOf(FunctionElement[int]):
    """The calendar year of a DATE column, as an integer."""

    type = sa.Integer()
    name = "year_of"
    inherit_cache = True


@compiles(YearOf)
def _year_of(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(YearOf, "sqlite")
def _year_of_sqlite(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a DATE as 'YYYY-MM-DD' text; substr is much cheaper than strftime.
    return f"CAST(substr({compiler.process(element.clauses, **kw)}, 1, 4) AS INTEGER)"


class MonthOf(FunctionElement[date]):
    """The first day of the month of a DATE column."""

    type = Date()
    name = "month_of"
    inherit_cache = True


@compiles(MonthOf)
def _month_of(element: MonthOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(MonthOf, "sqlite")
def _month_of_sqlite(element: MonthOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 8) || '01'"


def _upsert(connection: sa.Connection) -> database.Upsert:
    return database.upsert(ActivityTotal, connection.dialect.name)


def _add_to_totals(connection: sa.Connection, insert: database.Upsert) -> None:
    # An increment, not a recount: two transactions adding to the same month serialise on the
    # row and neither loses the other's amount.
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[ActivityTotal.commitment_id, ActivityTotal.month],
            set_={"total": ActivityTotal.total + insert.excluded.total},
        )
    )


def _add_stored(connection: sa.Connection, activity_id: int, *, sign: int) -> None:
    """Add (+1) or take away (-1) the activity's count as its row now stands in the database.

    From the row, not the object: the object may hold values another transaction has since
    changed. One statement that locks the row it reads (FOR UPDATE on PostgreSQL; on SQLite
    the statement takes the write lock), so the amount taken away is the one replaced."""
    amount = Activity.count if sign > 0 else -Activity.count
    stored = (
        sa.select(Activity.commitment_id, MonthOf(Activity.occurred_on), amount)
        .where(Activity.id == activity_id)
        .with_for_update()
    )
    _add_to_totals(
        connection, _upsert(connection).from_select(["commitment_id", "month", "total"], stored)
    )


def _changes_total(target: Activity) -> bool:
    state: InstanceState[Activity] = sa.inspect(target)
    return any(
        state.attrs[name].history.has_changes()
        for name in ("commitment_id", "occurred_on", "count")
    )


@sa.event.listens_for(Activity, "after_insert")
def _count_added(mapper: Mapper[Any], connection: sa.Connection, target: Activity) -> None:
    added = _upsert(connection).values(
        commitment_id=target.commitment_id,
        month=target.occurred_on.replace(day=1),
        total=target.count,
    )
    _add_to_totals(connection, added)


@sa.event.listens_for(Activity, "before_update")
def _uncount_changed(mapper: Mapper[Any], connection: sa.Connection, target: Activity) -> None:
    if _changes_total(target):
        _add_stored(connection, target.id, sign=-1)


@sa.event.listens_for(Activity, "after_update")
def _count_changed(mapper: Mapper[Any], connection: sa.Connection, target: Activity) -> None:
    if _changes_total(target):
        _add_stored(connection, target.id, sign=+1)


@sa.event.listens_for(Activity, "before_delete")
def _uncount_deleted(mapper: Mapper[Any], connection: sa.Connection, target: Activity) -> None:
    _add_stored(connection, target.id, sign=-1)
