"""Gallringsbeslut: the recorded decisions that allow the service to delete information.

Allmänna handlingar are kept unless a law, an ordinance or a decision of the archive
authority allows them to be destroyed (gallras): arkivlagen (1990:782) 10 §, and in a kommun
the arkivmyndighet decides (arkivlagen 8 §; see e.g. Göteborgs Stad, "Gallra": "En myndighet
får gallra allmänna handlingar om det framgår av lag, förordning eller beslut av
arkivmyndigheten", https://goteborg.se/ → regionarkivet/for-myndigheter/…/gallra; Riksarkivet,
"Värdera och gallra", https://riksarkivet.se/vardera-och-gallra). The service therefore
never purges or erases a class of information until an admin has recorded the decision that
covers it: its reference (diarienummer), date, the deciding body, the retention period (days
counted from the event the class names) and the day it is valid from. History is kept; the
newest decision valid on a given day applies.

Drafts are not a class here. A draft is the resident's unsent text, kept for a technical
lifetime (DRAFT_LIFETIME_SECONDS, 2 h) and deleted by `drafts.purge_expired` without a
decision, because it has not been sent to the authority: a document is allmän when it is
"inkommen" (TF 2 kap. 4 and 9 §§), and in the part of an e-service where the resident is
still writing, before they send, no document has come in (Per Furberg, "Inkommande handlingar
— en IT-anpassad tolkning", SvJT 2005 s. 273, https://svjt.se/svjt/2005/273: checks offered
as "ren service" before the user sends do not make a handling inkommen). Once sent, it is a
report and falls under REPORT_CONTENT. If the municipality's archivist judges otherwise, make
drafts a class here and let `drafts.purge_expired` require a decision like the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.extensions import db
from intake.models_base import UTCDateTime

log = logging.getLogger(__name__)

REPORT_CONTENT = "report_content"
DIALOGUE_REGISTRATIONS = "dialogue_registrations"
QUESTION_CONTACTS = "question_contacts"


@dataclass(frozen=True)
class InformationClass:
    """What a decision covers and the event its retention is counted from."""

    code: str
    label: object  # a lazy string, for pages
    counted_from: object  # a lazy string, for pages
    plain: str  # for the command line and logs (outside any request: no translation)


CLASSES: dict[str, InformationClass] = {
    REPORT_CONTENT: InformationClass(
        REPORT_CONTENT,
        _l("Orosanmälans innehåll efter registrering i verksamhetssystemet"),
        _l("registreringen i verksamhetssystemet (och aldrig tidigare än från mottagandet)"),
        "orosanmälans innehåll",
    ),
    DIALOGUE_REGISTRATIONS: InformationClass(
        DIALOGUE_REGISTRATIONS,
        _l("Anmälningar till medborgardialoger (namn, e-post, telefon, behov)"),
        _l("dialogens slut"),
        "anmälningar till dialoger",
    ),
    QUESTION_CONTACTS: InformationClass(
        QUESTION_CONTACTS,
        _l("Frågor till medborgardialoger: frågeställarens namn och e-post"),
        _l("dialogens slut"),
        "frågeställares namn och e-post",
    ),
}


class RetentionDecision(db.Model):  # type: ignore[name-defined]
    """A recorded gallringsbeslut for one information class. Rows are never changed."""

    __tablename__ = "retention_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    information_class: Mapped[str] = mapped_column(String(40), index=True)
    reference: Mapped[str] = mapped_column(String(80))  # diarienummer
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(200))  # the deciding body
    retention_days: Mapped[int]
    valid_from: Mapped[date] = mapped_column(Date)
    # Recorded by `setup --demo`: not a real decision, and every page that shows it says so.
    demo: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    def describe(self) -> str:
        """How a tombstone, an audit row or a log line names the decision."""
        demo = " (demo)" if self.demo else ""
        return f"{self.reference}{demo}, {self.decided_by}, {self.decided_on.isoformat()}"


class NoDecision(Exception):
    """No gallringsbeslut is recorded for a class of information: nothing of it may go."""

    def __init__(self, information_class: str) -> None:
        self.information_class = information_class
        super().__init__(
            f"inget gallringsbeslut är registrerat för {CLASSES[information_class].plain} "
            f"({information_class}), så inget av det gallras. En administratör registrerar "
            "beslutet under /personal/admin/gallring."
        )


def current(information_class: str, *, on: date) -> RetentionDecision | None:
    """The decision that applies on a day: the newest valid from that day or earlier."""
    return db.session.scalar(
        sa.select(RetentionDecision)
        .where(
            RetentionDecision.information_class == information_class,
            RetentionDecision.valid_from <= on,
        )
        .order_by(
            RetentionDecision.valid_from.desc(),
            RetentionDecision.decided_on.desc(),
            RetentionDecision.id.desc(),
        )
        .limit(1)
    )


def require(information_class: str, *, on: date) -> RetentionDecision:
    """The decision that applies on a day, or NoDecision."""
    found = current(information_class, on=on)
    if found is None:
        raise NoDecision(information_class)
    return found


def missing(*, on: date) -> list[InformationClass]:
    """The classes with no decision valid on a day (nothing of them is deleted)."""
    return [cls for code, cls in CLASSES.items() if current(code, on=on) is None]


def history() -> list[RetentionDecision]:
    """Every recorded decision, newest first within each class."""
    return list(
        db.session.scalars(
            sa.select(RetentionDecision).order_by(
                RetentionDecision.information_class,
                RetentionDecision.valid_from.desc(),
                RetentionDecision.id.desc(),
            )
        )
    )


def record(
    information_class: str,
    *,
    reference: str,
    decided_on: date,
    decided_by: str,
    retention_days: int,
    valid_from: date,
    now: datetime,
    recorded_by_id: int | None = None,
    demo: bool = False,
) -> RetentionDecision:
    """Add a decision to the caller's transaction (history is kept: nothing is replaced)."""
    if information_class not in CLASSES:
        raise ValueError(f"unknown information class {information_class!r}")
    decision = RetentionDecision(
        information_class=information_class,
        reference=reference,
        decided_on=decided_on,
        decided_by=decided_by,
        retention_days=retention_days,
        valid_from=valid_from,
        demo=demo,
        recorded_at=now,
        recorded_by_id=recorded_by_id,
    )
    db.session.add(decision)
    db.session.flush()
    return decision


def reclaim(*tables: str) -> None:
    """Make purged bytes leave the database files, after the purge has committed.

    PostgreSQL keeps an updated row's old version (here: the ciphertext) in the table's heap
    until vacuum, and a plain VACUUM only marks that space free: the bytes stay in the page
    until reused (tried with a canary and `pg_read_binary_file` on PostgreSQL 15). VACUUM FULL
    writes the table and its TOAST and indexes anew and drops the old files, so it is what
    runs here, once a day and only for tables a round changed. It takes an exclusive lock
    for as long as the rewrite lasts (milliseconds at a municipality's volumes). VACUUM cannot
    run inside a transaction: it gets its own AUTOCOMMIT connection.

    SQLite overwrites deleted content in its pages (PRAGMA secure_delete, set on every
    connection by intake.database), but the write-ahead log still holds the pages as they
    were until a checkpoint: TRUNCATE copies them back and empties the log file.

    What neither can reach: PostgreSQL's WAL segments and archives until recycled, file-system
    free blocks and backups taken before the purge. Their own retention must be set to match.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        preparer = engine.dialect.identifier_preparer
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            _wait_for_older_transactions(connection)
            # A reader holding the table must not make the round wait (and block others) long.
            connection.exec_driver_sql("SET lock_timeout = '30s'")
            for table in tables:
                try:
                    connection.exec_driver_sql(f"VACUUM FULL {preparer.quote(table)}")
                except sa.exc.OperationalError:
                    log.warning("could not rewrite %s after gallring (locked); next round", table)
    elif engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _wait_for_older_transactions(connection: sa.Connection, *, limit: float = 30.0) -> None:
    """Wait (up to `limit` seconds) until every transaction in this database that began
    before now has ended.

    VACUUM FULL copies a row version that some snapshot may still see ("recently dead"): a
    transaction in this database older than the purge (a slow request, an autovacuum ANALYZE
    of another table), or a writing transaction in any database of the cluster (its xid holds
    back the xmin of VACUUM's own snapshot) would keep the purged ciphertext in the new file.
    Found with a canary under parallel load. Without the right to see other roles' sessions
    (pg_read_all_stats) their start reads as NULL and this cannot wait for them: the rewrite
    is then best effort.
    """
    started = connection.exec_driver_sql("SELECT clock_timestamp()").scalar()
    older = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND xact_start < :started "
        "AND (datname = current_database() OR backend_xid IS NOT NULL)"
    )
    deadline = time.monotonic() + limit
    while connection.execute(older, {"started": started}).scalar():
        if time.monotonic() > deadline:
            log.warning("gallring: older transactions still open; purged rows may stay a day")
            return
        time.sleep(0.1)
