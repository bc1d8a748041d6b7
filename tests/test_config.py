"""Configuration layers, instance secrets, and refusing to start without them."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from intake import create_app
from intake import secrets as instance_secrets
from intake.config import DEFAULTS, ConfigError
from intake.extensions import db
from intake.secrets import SecretsError

INSTANCE_CONFIG = """\
MAIL_SERVER = "smtp.instance.example"
MAIL_PORT = 2501
BASE_URL = "https://instance.example"
DPO_CONTACT = "dso@instans.example"
"""


@pytest.fixture
def build(
    instance_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, Any] | None], Flask]]:
    """create_app in a private instance folder with no INTAKE_* settings but the folder."""
    for name in ("DATABASE_URL", "SECRET_KEY", "MAIL_SERVER", "MAIL_PORT", "BASE_URL"):
        monkeypatch.delenv(f"INTAKE_{name}", raising=False)
    monkeypatch.delenv("INTAKE_SESSION_COOKIE_SECURE", raising=False)
    built: list[Flask] = []

    def make(config: dict[str, Any] | None = None) -> Flask:
        app = create_app(config)
        built.append(app)
        return app

    yield make
    for app in built:
        with app.app_context():
            db.engine.dispose()


def mapping_for(database_url: str, **extra: Any) -> dict[str, Any]:
    """A minimal test mapping."""
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **extra}


def test_instance_folder_comes_from_the_environment(
    build: Callable[..., Flask], instance_path: Path, database_url: str
) -> None:
    assert Path(build(mapping_for(database_url)).instance_path) == instance_path.resolve()


def test_layers_defaults_instance_environment_mapping(
    build: Callable[..., Flask],
    instance_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    # Given an instance config, INTAKE_* variables and a test mapping that overlap
    (instance_path / "config.py").write_text(INSTANCE_CONFIG, encoding="utf-8")
    monkeypatch.setenv("INTAKE_MAIL_PORT", "2502")
    monkeypatch.setenv("INTAKE_BASE_URL", "https://env.example")
    monkeypatch.setenv("INTAKE_MAIL_USE_TLS", "yes")
    monkeypatch.setenv("INTAKE_MAIL_USERNAME", "")  # empty means unset
    # When the app is built
    app = build(mapping_for(database_url, BASE_URL="https://mapping.example"))
    config = app.config
    # Then each key comes from the last layer that sets it
    assert config["OUTBOX_MAX_ATTEMPTS"] == DEFAULTS["OUTBOX_MAX_ATTEMPTS"]  # defaults
    assert config["MAIL_SERVER"] == "smtp.instance.example"  # instance/config.py
    assert config["DPO_CONTACT"] == "dso@instans.example"  # instance/config.py
    assert config["MAIL_PORT"] == 2502  # environment, as an integer
    assert config["MAIL_USE_TLS"] is True  # environment, as a boolean
    assert config.get("MAIL_USERNAME") is None
    assert config["BASE_URL"] == "https://mapping.example"  # test mapping
    assert config["SQLALCHEMY_DATABASE_URI"].endswith(database_url.split("://", 1)[1])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), (" on ", True), ("0", False), ("no", False)],
)
def test_boolean_environment_values(
    build: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    raw: str,
    expected: bool,
) -> None:
    monkeypatch.setenv("INTAKE_SESSION_COOKIE_SECURE", raw)
    assert build(mapping_for(database_url)).config["SESSION_COOKIE_SECURE"] is expected


@pytest.mark.parametrize(
    ("base_url", "secure"), [("https://intake.alvsbyn.se", True), ("http://127.0.0.1:5000", False)]
)
def test_secure_cookie_follows_the_base_url(
    build: Callable[..., Flask], database_url: str, base_url: str, secure: bool
) -> None:
    app = build(mapping_for(database_url, BASE_URL=base_url))
    assert app.config["SESSION_COOKIE_SECURE"] is secure


def test_an_explicit_cookie_setting_beats_the_base_url(
    build: Callable[..., Flask], database_url: str
) -> None:
    config = mapping_for(database_url, BASE_URL="https://x.example", SESSION_COOKIE_SECURE=False)
    assert build(config).config["SESSION_COOKIE_SECURE"] is False


def test_database_url_from_the_environment(
    build: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.sqlite3'}"
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    assert build({"TESTING": True}).config["SQLALCHEMY_DATABASE_URI"] == url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://intake@db.example/intake", "postgresql+psycopg://intake@db.example/intake"),
        ("postgresql+psycopg://i@db.example/i", "postgresql+psycopg://i@db.example/i"),
        ("sqlite:////srv/intake.sqlite3", "sqlite:////srv/intake.sqlite3"),
    ],
)
def test_postgresql_urls_use_psycopg(build: Callable[..., Flask], given: str, used: str) -> None:
    assert build(mapping_for(given)).config["SQLALCHEMY_DATABASE_URI"] == used


def test_postgresql_url_from_the_environment_uses_psycopg(
    build: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://intake@db.example:5433/intake")
    app = build({"TESTING": True})
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://intake@db.example:5433/intake"
    )


def test_first_run_on_the_embedded_default_creates_secrets(
    build: Callable[..., Flask], instance_path: Path
) -> None:
    # Given an empty instance folder, no database URL and not testing
    assert not any(instance_path.iterdir())
    # When the app starts for the first time
    first = build(None)
    # Then it runs on SQLite in the instance folder, with secrets it wrote there, owner-only
    assert first.config["TESTING"] is False
    assert first.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{instance_path.resolve() / 'intake.sqlite3'}"
    )
    path = instance_path / instance_secrets.FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    on_disk = instance_secrets.load(instance_path)
    assert on_disk is not None
    assert first.config["SECRET_KEY"] == on_disk.secret_key
    assert first.config["APP_KEYS"] == on_disk.app_keys
    assert len(on_disk.app_keys[1]) == 32
    # And the next start reuses them rather than making new ones
    second = build(None)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert second.config["APP_KEYS"] == first.config["APP_KEYS"]
    assert not list(instance_path.glob("*.tmp"))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secrets_readable_by_others_are_refused(
    build: Callable[..., Flask], instance_path: Path, mode: int
) -> None:
    # Given a secrets file that group or others may read or write
    path = instance_secrets.write(instance_path, instance_secrets.generate())
    path.chmod(mode)
    # Then the service refuses to start on it, and so does loading it directly
    with pytest.raises(SecretsError):
        build(None)
    with pytest.raises(SecretsError):
        instance_secrets.load(instance_path)


def test_own_database_without_secrets_refuses_to_start(
    build: Callable[..., Flask], instance_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a production-style database URL and no secrets anywhere
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://intake@db.example/intake")
    # Then it does not invent secrets: it stops with a ConfigError
    with pytest.raises(ConfigError):
        build(None)
    assert not (instance_path / instance_secrets.FILENAME).exists()


def test_own_database_with_a_secrets_file_starts(
    build: Callable[..., Flask], instance_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = instance_secrets.generate()
    instance_secrets.write(instance_path, written)
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://intake@db.example/intake")
    app = build(None)
    assert app.config["SECRET_KEY"] == written.secret_key
    assert app.config["APP_KEYS"] == written.app_keys


def test_testing_without_secrets_generates_them_in_memory_only(
    build: Callable[..., Flask], instance_path: Path
) -> None:
    app = build(mapping_for("postgresql://intake@db.example/intake"))
    assert app.config["SECRET_KEY"]
    assert len(app.config["APP_KEYS"][1]) == 32
    assert not (instance_path / instance_secrets.FILENAME).exists()


def test_secrets_create_is_idempotent(instance_path: Path) -> None:
    first = instance_secrets.create(instance_path)
    second = instance_secrets.create(instance_path)
    assert first == second
    assert stat.S_IMODE((instance_path / instance_secrets.FILENAME).stat().st_mode) == 0o600
