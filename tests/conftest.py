"""Fixtures: an app on a fresh database per test (SQLite or PostgreSQL), a real SMTP server.

The database comes from INTAKE_DATABASE_URL: unset means SQLite; a postgresql:// URL means
each test process gets its own database on that server, migrated once and emptied per test.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from intake import create_app
from intake.extensions import db

FAST_ARGON2 = {
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 8,
    "ARGON2_PARALLELISM": 1,
}
POSTGRES = os.environ.get("INTAKE_DATABASE_URL", "").startswith("postgresql")


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_config(database_url: str, **extra: Any) -> dict[str, Any]:
    """The test mapping given to create_app."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "APP_KEYS": {1: b"k" * 32},
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "MAIL_PORT": 1,  # nothing listens: a test that sends mail starts its own server
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would not really send under TESTING
        **FAST_ARGON2,
        **extra,
    }


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# Several test runs may share one PostgreSQL server (a developer's and CI's): each run's
# databases carry the run's id, so they never meet.
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:10]


def _pg_url(name: str) -> str:
    base = sa.make_url(os.environ["INTAKE_DATABASE_URL"])
    return base.set(database=name).render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the head migration: a template file (SQLite) or a worker's own (PG)."""
    if not POSTGRES:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
        _migrate(url)
        yield url
        return
    name = f"intake_test_{RUN_ID}_{_worker()}"
    admin = sa.create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    _migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for this test."""
    if POSTGRES:
        _empty_postgres(migrated_database)
        return migrated_database
    source = Path(migrated_database.removeprefix("sqlite:///"))
    target = tmp_path / "intake.sqlite3"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private instance folder for this test."""
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("INTAKE_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def make_app(database_url: str, instance_path: Path) -> Iterator[Any]:
    """Build apps on this test's database; engines are disposed afterwards."""
    built: list[Flask] = []

    def build(**extra: Any) -> Flask:
        app = create_app(base_config(database_url, **extra))
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app with default inboxes and routing rules, CSRF off for plain form tests."""
    application: Flask = make_app(WTF_CSRF_ENABLED=False)
    from intake import bootstrap

    with application.app_context():
        bootstrap.run_setup()
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@dataclass
class Mailbox:
    """What the loopback SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd hook: keep the message."""
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        """Wait until `count` messages have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class SMTPServer:
    """A real SMTP server (aiosmtpd) on loopback that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen on the port."""
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A running SMTP server on loopback."""
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def _read_whole(app: Any) -> Any:
    """The app's answers read whole (and their iterables closed) before the server writes them.

    Werkzeug's development server skips closing a streamed answer when the client has dropped
    the connection: its clean-up reads the dead socket first, which raises. A browser that moves
    on while its favicon request is still running then leaves the static file open (a
    ResourceWarning). gunicorn, which serves the real thing, closes it."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


class LiveServer:
    """The app served over real HTTP on loopback, in a thread."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, _read_whole(app), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def installation(make_app: Any) -> Any:
    """An app (CSRF off) after setup, keeping the recovery codes setup printed."""
    from intake import bootstrap

    from .staff_helpers import Installation

    application: Flask = make_app(WTF_CSRF_ENABLED=False)
    with application.app_context():
        result = bootstrap.run_setup()
    return Installation(app=application, recovery_codes=result.recovery_codes)
