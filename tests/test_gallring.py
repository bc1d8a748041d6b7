"""Gallring by decision (intake.gallring): nothing is purged or erased without a recorded
gallringsbeslut, the retention comes from the decision valid that day, the tombstone and the
audit rows name it, a report is never purged before its period has passed since receipt, and
the purged ciphertext leaves the database files (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import audit, clock, gallring, jobs
from intake.dialogues import erasure
from intake.dialogues.models import Dialogue
from intake.extensions import db
from intake.reports import retention
from intake.reports.models import Report

from .accounts.back_office import Clock, fast_passwords, freeze, stockholm, submit, text
from .conftest import POSTGRES
from .dialogues.helpers import new_dialogue
from .gallring_helpers import decide
from .staff_helpers import Installation

RECEIVED = stockholm(2026, 3, 10, 9, 0)
BEA = "bea@alvsbyn.invalid"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Tuesday 10 March 2026, moved only by the test."""
    return freeze(monkeypatch, RECEIVED)


def registered(app: Flask, *, on: date, **answers: str) -> str:
    """A report received now, marked registered in the case system on a given day."""
    report_id = submit(app, **answers)
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        report.registered_on, report.case_reference = on, "SN 2026/17"
        report.status = "registered"
        db.session.commit()
    return report_id


def content(app: Flask, report_id: str) -> bytes | None:
    """The report's sealed answers, None once purged."""
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        return report.sealed


def purged_events(app: Flask) -> list[audit.AuditEvent]:
    """The audit rows of purges."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "report_purged")
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


# --- Refused without a decision -------------------------------------------------------------


def test_a_fresh_setup_records_no_decision(installation: Installation) -> None:
    with installation.app.app_context():
        assert gallring.history() == []
        assert [c.code for c in gallring.missing(on=date(2030, 1, 1))] == list(gallring.CLASSES)


def test_the_purge_function_refuses_without_a_decision(
    installation: Installation, frozen: Clock
) -> None:
    app = installation.app
    report_id = registered(app, on=date(2026, 3, 10))
    with app.app_context():
        with pytest.raises(gallring.NoDecision) as refused:
            retention.purge(today=date(2036, 1, 1))
        assert refused.value.information_class == gallring.REPORT_CONTENT
        with pytest.raises(gallring.NoDecision):
            retention.due(today=date(2036, 1, 1))
    assert content(app, report_id) is not None and purged_events(app) == []


@pytest.mark.parametrize(
    ("erase", "information_class"),
    [
        (erasure.erase_registrants, gallring.DIALOGUE_REGISTRATIONS),
        (erasure.erase_contacts, gallring.QUESTION_CONTACTS),
    ],
)
def test_the_erasure_functions_refuse_without_a_decision(
    installation: Installation, erase: object, information_class: str
) -> None:
    app = installation.app
    dialogue_id = new_dialogue(app, starts_at=clock.now() - timedelta(days=400))
    # Only the other class has a decision: it does not cover this one
    other = next(code for code in gallring.CLASSES if code != information_class)
    decide(app, other, days=1)
    with app.app_context():
        with pytest.raises(gallring.NoDecision) as refused:
            erase(now=clock.now())  # type: ignore[operator]
        assert refused.value.information_class == information_class
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None and dialogue.personal_data_erased_at is None


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_purge_command_refuses_without_a_decision_and_says_why(
    installation: Installation, frozen: Clock, dry_run: bool
) -> None:
    app = installation.app
    report_id = registered(app, on=date(2026, 3, 10))
    frozen.set(stockholm(2030, 1, 1))
    args = ["retention", "purge", *(["--dry-run"] if dry_run else [])]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "Gallring vägrad: inget gallringsbeslut är registrerat för orosanmälans innehåll" in (
        result.output
    )
    assert "/personal/admin/gallring" in result.output
    assert content(app, report_id) is not None


def test_the_dialogue_command_refuses_each_class_without_a_decision(
    installation: Installation,
) -> None:
    app = installation.app
    new_dialogue(app, starts_at=clock.now() - timedelta(days=400))
    decide(app, gallring.DIALOGUE_REGISTRATIONS, days=30)
    result = app.test_cli_runner().invoke(args=["retention", "dialogues"])
    # The class with a decision ran; the one without was refused, and the exit code says so
    assert result.exit_code == 1
    assert "Anmälningar till 1 dialoger gallrade." in result.output
    assert "Gallringsbeslut SN 2026/40, Socialnämnden, 2000-01-01: 30 dagar" in result.output
    assert "Gallring vägrad: inget gallringsbeslut är registrerat för frågeställares" in (
        result.output
    )


def test_the_worker_round_skips_a_class_without_a_decision_and_logs_why(
    installation: Installation, frozen: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    app = installation.app
    report_id = registered(app, on=date(2026, 3, 10))
    dialogue_id = new_dialogue(app, starts_at=clock.now() - timedelta(days=40))
    decide(app, gallring.DIALOGUE_REGISTRATIONS, gallring.QUESTION_CONTACTS, days=30)
    caplog.set_level(logging.INFO, logger="intake.jobs")
    frozen.set(stockholm(2030, 1, 1))
    with app.app_context():
        jobs.run_due()
    # The report stays, and the log says why
    assert content(app, report_id) is not None
    assert "inget gallringsbeslut är registrerat för orosanmälans innehåll" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # The classes with a decision still ran
    with app.app_context():
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None and dialogue.personal_data_erased_at is not None


# --- Retention from the decision ------------------------------------------------------------


@pytest.mark.parametrize(("days_after", "purged"), [(9, False), (10, True)])
def test_the_retention_comes_from_the_decision(
    installation: Installation, frozen: Clock, days_after: int, purged: bool
) -> None:
    app = installation.app
    report_id = registered(app, on=date(2026, 3, 10))
    decide(app, gallring.REPORT_CONTENT, days=10)
    with app.app_context():
        gone = retention.purge(today=date(2026, 3, 10) + timedelta(days=days_after))
    assert [g.report_id for g in gone] == ([report_id] if purged else [])
    assert (content(app, report_id) is None) is purged


def test_the_newest_valid_decision_applies_and_history_is_kept(
    installation: Installation, frozen: Clock
) -> None:
    app = installation.app
    report_id = registered(app, on=date(2026, 3, 10))
    # An old decision of 365 days, a newer one of 20 days from 1 April, a future one of 5 days
    [old] = decide(app, gallring.REPORT_CONTENT, days=365, reference="SN 2019/1")
    [newer] = decide(
        app, gallring.REPORT_CONTENT, days=20, valid_from=date(2026, 4, 1), reference="SN 2026/2"
    )
    decide(app, gallring.REPORT_CONTENT, days=5, valid_from=date(2027, 1, 1), reference="SN 2026/9")
    with app.app_context():
        assert gallring.require(gallring.REPORT_CONTENT, on=date(2026, 3, 31)).id == old
        assert gallring.require(gallring.REPORT_CONTENT, on=date(2026, 4, 1)).id == newer
        assert len(gallring.history()) == 3
        # On 30 March the old decision applies: 20 days have passed, 365 have not
        assert retention.purge(today=date(2026, 3, 30)) == []
        # From 1 April the newer one does
        [gone] = retention.purge(today=date(2026, 4, 1))
        assert gone.purge_on == date(2026, 3, 30)
        report = db.session.get(Report, report_id)
        assert report is not None and report.purge_decision_id == newer


def test_the_tombstone_and_the_audit_row_name_the_decision(
    installation: Installation, frozen: Clock
) -> None:
    app = installation.app
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    report_id = registered(app, on=date(2026, 3, 10))
    [decision_id] = decide(app, gallring.REPORT_CONTENT, days=30, reference="SN 2026/40")
    with app.app_context():
        retention.purge(today=date(2026, 4, 9))
        assert audit.verify().ok
    [event] = purged_events(app)
    assert event.target_id == report_id
    assert event.details == {
        "decision": "SN 2026/40, Socialnämnden, 2000-01-01",
        "decision_id": decision_id,
    }
    frozen.advance(seconds=30)
    client = app.test_client()
    installation.login(client, BEA)
    page = text(client.get(f"/personal/anmalan/{report_id}"))
    assert "Gallrat enligt gallringsbeslut SN 2026/40, Socialnämnden, 2000-01-01." in page


# --- Never younger than the period from receipt ---------------------------------------------


@pytest.mark.parametrize(
    ("registered_on", "today", "purged"),
    [
        (date(1, 1, 1), date(2026, 3, 10), False),  # the typo of issue 10: received today
        (date(1, 1, 1), date(2026, 4, 8), False),  # 29 days after receipt
        (date(1, 1, 1), date(2026, 4, 9), True),  # 30 days after receipt
        (date(2026, 2, 1), date(2026, 4, 8), False),  # registered "before" receipt
        (date(2026, 3, 20), date(2026, 4, 18), False),  # registered later: counted from there
        (date(2026, 3, 20), date(2026, 4, 19), True),
    ],
)
def test_a_purge_never_takes_a_report_younger_than_its_period_from_receipt(
    installation: Installation, frozen: Clock, registered_on: date, today: date, purged: bool
) -> None:
    app = installation.app
    # Given a report received on 10 March, with a registration date as typed (even wrongly)
    report_id = registered(app, on=registered_on)
    decide(app, gallring.REPORT_CONTENT, days=30)
    # When the purge runs on a given day
    with app.app_context():
        due = retention.due(today=today)
        gone = retention.purge(today=today)
    # Then it takes the report only once 30 days have passed since receipt and registration
    assert [g.report_id for g in gone] == [g.report_id for g in due]
    assert (content(app, report_id) is None) is purged


# --- The purged ciphertext leaves the database files ----------------------------------------


def _postgres_relation_bytes(app: Flask, tables: tuple[str, ...]) -> bytes:
    """The on-disk files of the tables, their TOAST tables and indexes, after a checkpoint.

    Read through the server (`pg_read_binary_file`, superuser) so that it also works where the
    data directory is not readable by the test's own user; each relation's first segment
    (1 GB) is all a test database has."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CHECKPOINT")
            paths = connection.execute(
                sa.text(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                    "WHERE c.relname = ANY(:tables) "
                    "   OR c.oid IN (SELECT reltoastrelid FROM pg_class "
                    "                WHERE relname = ANY(:tables))"
                    "   OR c.oid IN (SELECT indexrelid FROM pg_index i JOIN pg_class t "
                    "                ON t.oid = i.indrelid WHERE t.relname = ANY(:tables))"
                ),
                {"tables": list(tables)},
            ).scalars()
            chunks = [
                connection.execute(sa.text("SELECT pg_read_binary_file(:p)"), {"p": p}).scalar()
                for p in paths
                if p
            ]
    return b"".join(bytes(chunk) for chunk in chunks if chunk)


def _sqlite_file_bytes(app: Flask) -> bytes:
    """The SQLite database file and its WAL as they are on disk while the app keeps running
    (connections stay open: no checkpoint on close helps)."""
    with app.app_context():
        path = Path(str(db.engine.url.database))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def stored(app: Flask) -> bytes:
    """What the database keeps on disk for the report tables (and all of SQLite's file)."""
    if POSTGRES:
        return _postgres_relation_bytes(app, ("report", "report_message"))
    return _sqlite_file_bytes(app)


@pytest.mark.skipif(POSTGRES, reason="SQLite only")
def test_sqlite_secure_delete_is_on_for_every_connection(installation: Installation) -> None:
    with installation.app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_the_purged_ciphertext_is_gone_from_the_database_files(
    installation: Installation, frozen: Clock
) -> None:
    app = installation.app
    # Given a registered report; a stretch of its ciphertext is the canary
    report_id = registered(app, on=date(2026, 3, 10))
    blob = content(app, report_id)
    assert blob is not None and len(blob) > 200
    canary = bytes(blob)[100:164]
    # (the canary is really in the files before the purge: the grep can see it)
    assert canary in stored(app)
    decide(app, gallring.REPORT_CONTENT, days=30)
    # When it is purged
    with app.app_context():
        assert len(retention.purge(today=date(2026, 4, 9))) == 1
    # Then no page of the table files (heap, TOAST, indexes; SQLite's file and WAL) holds it
    assert canary not in stored(app)
