"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade

from intake import create_app
from intake.extensions import db

from .conftest import POSTGRES, RUN_ID, base_config


def _pg_url(name: str) -> str:
    base = sa.make_url(os.environ["INTAKE_DATABASE_URL"])
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"intake_migrations_{RUN_ID}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(
        _pg_url("postgres").replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app(empty_database: str, instance_path: Path) -> Iterator[Flask]:
    """An app on the empty database (no setup, no migration yet)."""
    application = create_app(base_config(empty_database))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _diff() -> list[Any]:
    """What autogenerate would still write: the models against the live schema."""
    migrate = current_app.extensions["migrate"]
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=dict(migrate.configure_args))
        return list(compare_metadata(context, db.metadata))


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _current() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _heads() -> list[str]:
    state = current_app.extensions["migrate"]
    config = state.migrate.get_config(state.directory)
    return list(ScriptDirectory.from_config(config).get_heads())


def test_there_is_one_head(app: Flask) -> None:
    with app.app_context():
        assert len(_heads()) == 1


def test_upgrade_from_empty_matches_the_models(app: Flask) -> None:
    # Given an empty database
    with app.app_context():
        assert _tables() == set()
        # When it is upgraded to the head migration
        upgrade()
        # Then every model table is there and autogenerate finds nothing left to do
        assert _current() == _heads()[0]
        assert set(db.metadata.tables) <= _tables()
        assert _diff() == []


def test_upgrade_downgrade_upgrade(app: Flask) -> None:
    with app.app_context():
        # Given the head schema
        upgrade()
        head = _current()
        # When everything is undone
        downgrade(revision="base")
        # Then no table of ours is left
        assert _tables() <= {"alembic_version"}
        assert _current() is None
        # And upgrading again gives the same schema, still matching the models
        upgrade()
        assert _current() == head
        assert _diff() == []


def test_the_migrated_schema_takes_a_setup(app: Flask) -> None:
    # A smoke test that the migrated schema is usable, not only comparable.
    from intake import bootstrap

    with app.app_context():
        upgrade()
        result = bootstrap.run_setup()
        assert len(result.recovery_codes) == 3
        assert bootstrap.run_setup().created == []


def test_0021_counts_the_reports_already_there(app: Flask) -> None:
    # Given reports received before the tally existed
    with app.app_context():
        upgrade(revision="0020_casework")
        when = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
        db.session.execute(
            sa.text(
                "INSERT INTO inbox (slug, name, public_key, recovery_wrapped_key, is_fallback, "
                "retention_days, created_at) VALUES ('barn', 'Barn', :k, :k, :f, 30, :t)"
            ),
            {"k": b"k", "f": False, "t": when.isoformat()},
        )
        for n, (status, answer) in enumerate(
            [("received", "ja"), ("received", "ja"), ("assessed", None), ("decided", "nej")]
        ):
            db.session.execute(
                sa.text(
                    "INSERT INTO report (id, reference, inbox_id, received_at, status, acute, "
                    "acute_answer, acute_first, feedback_requested, schema_version) "
                    "VALUES (:id, :ref, 1, :t, :s, :acute, :a, 0, :f, 1)"
                ),
                {
                    "id": f"r{n}",
                    "ref": f"R{n}",
                    "t": when.isoformat(),
                    "s": status,
                    "acute": answer == "ja",
                    "a": answer,
                    "f": False,
                },
            )
        db.session.commit()
        # When the migration runs
        upgrade()
        # Then the tally holds them, and keeps counting
        from intake.reports import tally

        assert set(tally.counts([1])) == {
            ("assessed", None, False, 1),
            ("decided", "nej", False, 1),
            ("received", "ja", True, 2),
        }
        db.session.execute(sa.text("UPDATE report SET status = 'assessed' WHERE id = 'r0'"))
        db.session.execute(sa.text("DELETE FROM report WHERE id = 'r3'"))
        db.session.commit()
        assert set(tally.counts([1])) == {
            ("assessed", None, False, 1),
            ("assessed", "ja", True, 1),
            ("received", "ja", True, 1),
        }


def test_an_upgrade_keeps_the_rows_that_refer_to_a_copied_table(app: Flask) -> None:
    # SQLite's batch migrations copy `report` and `inbox` and drop the old tables; with foreign
    # keys on, the DROP would delete every report's messages (ON DELETE CASCADE) and refuse to
    # drop `inbox`. migrations/env.py turns them off for the run and checks them after.
    with app.app_context():
        upgrade(revision="0019_organiser")
        at = "2026-03-09 07:00:00.000000"
        db.session.execute(
            sa.text(
                "INSERT INTO inbox (slug, name, public_key, recovery_wrapped_key, is_fallback, "
                "retention_days, created_at) VALUES ('barn', 'Barn', :k, :k, :f, 30, :t)"
            ),
            {"k": b"k", "f": False, "t": at},
        )
        db.session.execute(
            sa.text(
                "INSERT INTO report (id, reference, inbox_id, received_at, status, acute, "
                "acute_answer, acute_first, feedback_requested, schema_version) "
                "VALUES ('r1', 'R1', 1, :t, 'received', :f, 'nej', 0, :f, 1)"
            ),
            {"t": at, "f": False},
        )
        db.session.execute(
            sa.text(
                "INSERT INTO report_message (id, report_id, received_at, sealed) "
                "VALUES ('m1', 'r1', :t, :s)"
            ),
            {"t": at, "s": b"sealed"},
        )
        db.session.commit()
        upgrade()
        assert db.session.execute(sa.text("SELECT id, report_id FROM report_message")).all() == [
            ("m1", "r1")
        ]
        assert db.session.scalar(sa.text("SELECT count(*) FROM report")) == 1
        if db.engine.dialect.name == "sqlite":  # and the app's connections enforce them again
            assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
