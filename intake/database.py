"""Database engine settings: SQLite in WAL mode with foreign keys and a busy timeout."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from intake.extensions import db


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Purged (gallrad) content must not linger in free pages: many SQLite builds (not
    # Debian's) default to secure_delete=OFF, which leaves deleted bytes in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def configure(app: Flask) -> None:
    """Attach the per-connection settings to this app's engine."""
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


Upsert = postgresql.Insert | sqlite.Insert


def upsert(entity: Any, dialect: str) -> Upsert:
    """An INSERT that can take ON CONFLICT DO NOTHING / DO UPDATE for this dialect.

    Both databases spell it the same, but SQLAlchemy has no neutral construct."""
    if dialect == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded: for a request that commits (an
    audit entry, a learned column) and then renders what it read. Each expired object would
    otherwise be read again, one SELECT per object, on its first use after the commit."""
    session = db.session()
    kept = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = kept
