"""The baseline for bench/submit.py: a bare Flask app that parses a form and inserts one row.

Same server as the service (gunicorn, 2 sync workers) and the same SQLite settings (WAL,
synchronous=NORMAL, busy_timeout), one connection per worker, one transaction per POST. No
CSRF, sessions, templates, validation, encryption or ORM: what is left is the floor that the
real submit is compared with.

    BENCH_BARE_DB=/tmp/bare.sqlite3 gunicorn --workers 2 --pythonpath bench 'bare_app:app'
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

SCHEMA = """
CREATE TABLE IF NOT EXISTS submission (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    answers TEXT NOT NULL
)
"""

app = Flask(__name__)
_connection: sqlite3.Connection | None = None


def database_path() -> Path:
    """Where the rows go: $BENCH_BARE_DB, else a file in the temp folder."""
    named = os.environ.get("BENCH_BARE_DB")
    return Path(named) if named else Path(tempfile.gettempdir()) / "intake-bench-bare.sqlite3"


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the same pragmas as intake.database."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def create_database(path: Path) -> None:
    """Create the table (before the workers start, so they never race to)."""
    connection = connect(path)
    try:
        connection.execute(SCHEMA)
    finally:
        connection.close()


def _db() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        _connection = connect(database_path())
    return _connection


@app.get("/")
def hello() -> str:
    """The floor for a GET (bench/inbox.py): routing and a response, nothing else."""
    return "ok"


@app.post("/submit")
def submit() -> Response:
    """Parse the form, insert one row in its own transaction, redirect like the real submit."""
    answers = request.form.to_dict(flat=False)
    if answers.get("confirm") != ["ja"]:
        abort(400)
    connection = _db()
    connection.execute("BEGIN")
    try:
        connection.execute(
            "INSERT INTO submission (received_at, answers) VALUES (?, ?)",
            (datetime.now(UTC).isoformat(), json.dumps(answers, ensure_ascii=False)),
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return redirect("/done", code=303)


if __name__ == "__main__":  # pragma: no cover - a quick manual check
    create_database(database_path())
    app.run(host="127.0.0.1", port=5001)
