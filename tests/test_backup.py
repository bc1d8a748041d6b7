"""Backup and restore, rehearsed: reports, dialogues and the audit trail come back into a fresh
instance folder and database, open with the same passwords and recovery codes, and the file
reveals nothing without its passphrase."""

from __future__ import annotations

import gc
import io
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import cli as flask_cli

from intake import appkeys, audit, audit_anchors, backup, backup_pg, bootstrap, create_app
from intake import secrets as instance_secrets
from intake.accounts import service as accounts
from intake.crypto import CryptoError, backupbox, custody, keywrap
from intake.dialogues import service as dialogues
from intake.dialogues.models import Registration
from intake.extensions import db
from intake.reports.models import Inbox, Report
from intake.reports.service import open_answers

from .accounts.back_office import fast_passwords, submit
from .conftest import POSTGRES, RUN_ID, _pg_url, _worker, base_config
from .dialogues.helpers import new_dialogue, sign_up
from .staff_helpers import PASSWORD, Installation

PASSPHRASE = "hjortron i augusti och moln över Pite älv"
REPORT_CANARY = "KANARIEBACKUP-rapporttext-7781"
SIGNUP_CANARY = "KANARIEBACKUP-anmald-4410"
CASEWORKER = "bea@alvsbyn.invalid"
CHEAP = keywrap.Cost(time=1, memory_kib=8, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


# Apps built on restored databases in a test; their pools are closed when it ends.
_RESTORED: list[Flask] = []


@pytest.fixture(autouse=True)
def _close_restored_pools() -> Iterator[None]:
    yield
    while _RESTORED:
        with _RESTORED.pop().app_context():
            db.session.remove()
            db.engine.dispose()
    # `flask --app intake restore` builds its own app per invocation, as the operator's process
    # does; that process's exit closes its pool, but this test process lives on: collect those
    # pools here, in this module, instead of in whichever test the garbage collector meets next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _keyless(url: str) -> dict[str, Any]:
    """The test mapping without keys: the app reads them from the instance's secrets file."""
    config = base_config(url, WTF_CSRF_ENABLED=False)
    del config["SECRET_KEY"], config["APP_KEYS"]
    return config


@dataclass
class Source:
    """The installation that is backed up, and what it holds."""

    site: Installation
    instance: Path
    dialogue_id: int
    reports: dict[str, str]  # inbox name -> report id
    audit_rows: int


@pytest.fixture
def source(database_url: str, instance_path: Path) -> Iterator[Source]:
    """Reports in two inboxes, a dialogue sign-up, a caseworker, audit rows and an anchor."""
    written = instance_secrets.write(instance_path, instance_secrets.generate())
    assert written.exists()
    app = create_app(_keyless(database_url))
    with app.app_context():
        site = Installation(app=app, recovery_codes=bootstrap.run_setup().recovery_codes)
    site.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga", "Vuxna"))
    reports = {
        "Barn och unga": submit(app, what_happened=f"Barnet: {REPORT_CANARY}"),
        "Vuxna": submit(app, subject_type="vuxen", what_happened=f"Vuxen: {REPORT_CANARY}"),
    }
    dialogue_id = new_dialogue(app)
    client = app.test_client()
    response = sign_up(client, dialogue_id, "anna@example.com", name=SIGNUP_CANARY)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    site.login(app.test_client(), CASEWORKER)
    with app.app_context():
        audit.record("test_event", actor_id=None, actor="test")
        db.session.commit()
        assert audit_anchors.write() is not None
        rows = audit_anchors.verify().checked
    assert rows >= 2
    yield Source(site, instance_path, dialogue_id, reports, rows)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def target_url(tmp_path: Path) -> Iterator[str | None]:
    """A new, empty database for the restore (None: the embedded default in the instance)."""
    if not POSTGRES:
        yield None
        return
    name = f"intake_restore_{RUN_ID}_{_worker()}"
    admin = sa.create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _backup(site: Installation, path: Path, passphrase: str = PASSPHRASE) -> Result:
    return site.app.test_cli_runner().invoke(
        args=["backup", str(path)], env={backup.PASSPHRASE_VARIABLE: passphrase}
    )


def _restore(
    path: Path,
    instance: Path,
    url: str | None,
    passphrase: str = PASSPHRASE,
    command: tuple[str, ...] = (),
) -> Result:
    """`flask --app intake restore PATH` as an operator types it, in this process."""
    env = {
        "INTAKE_INSTANCE_PATH": str(instance),
        "INTAKE_DATABASE_URL": url,  # None unsets: the embedded default
        backup.PASSPHRASE_VARIABLE: passphrase,
    }
    args = ["--app", "intake", *(command or ("restore", str(path)))]
    return CliRunner().invoke(flask_cli, args, env=env)


def _restored_app(instance: Path, url: str | None, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("INTAKE_INSTANCE_PATH", str(instance))
    database = url or f"sqlite:///{instance / 'intake.sqlite3'}"
    app = create_app(_keyless(database))
    _RESTORED.append(app)
    return app


def test_a_restored_installation_opens_with_the_same_passwords_and_codes(
    source: Source, target_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a backup of a running installation
    path = tmp_path / "intake.backup"
    result = _backup(source.site, path)
    assert result.exit_code == 0, result.output
    assert "Säkerhetskopian är skriven" in result.output
    # When it is restored into a fresh instance folder and a fresh database
    fresh = tmp_path / "restored"
    result = _restore(path, fresh, target_url)
    assert result.exit_code == 0, result.output
    assert "Återställt från säkerhetskopian" in result.output
    assert (fresh / instance_secrets.FILENAME).stat().st_mode & 0o077 == 0
    assert instance_secrets.load(fresh) == instance_secrets.load(source.instance)
    app = _restored_app(fresh, target_url, monkeypatch)
    restored = Installation(app, source.site.recovery_codes, source.site.totp)
    with app.app_context():
        # Then the caseworker's password opens every report of her inboxes
        bea = restored.user(CASEWORKER)
        assert bea.wrapped_private_key is not None
        private = custody.unwrap_user_key(bea.wrapped_private_key, PASSWORD, user_id=bea.id)
        for name, report_id in source.reports.items():
            report = db.session.get(Report, report_id)
            assert report is not None and report.inbox.name == name
            secret = accounts.inbox_secret(bea, private, report.inbox_id)
            assert REPORT_CANARY in open_answers(report, secret.private)["what_happened"]
        # And each inbox's recovery code still unlocks it, and opens its reports
        for inbox in db.session.scalars(sa.select(Inbox)):
            secret = bootstrap.recover_inbox_secret(inbox, source.site.recovery_codes[inbox.name])
            for report in db.session.scalars(sa.select(Report).where(Report.inbox == inbox)):
                assert open_answers(report, secret.private)["what_happened"]
        # And the dialogue registration decrypts under the restored application keys
        registration = db.session.scalar(
            sa.select(Registration).where(Registration.dialogue_id == source.dialogue_id)
        )
        assert registration is not None
        person = dialogues.person_of(registration, appkeys.keys())
        assert person is not None and person.name == SIGNUP_CANARY
        # And the audit trail is whole, anchors included
        verdict = audit_anchors.verify()
        assert verdict.ok, verdict.problem
        assert verdict.checked == source.audit_rows and verdict.anchors == 1
    # And she signs in as before (her TOTP secret is protected under the restored key; the
    # code she used before the backup is spent, so she types the next one)
    client = app.test_client()
    response = client.post("/personal/logga-in", data={"email": CASEWORKER, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post(
        "/personal/tvastegsverifiering", data={"code": restored.code(CASEWORKER, offset=1)}
    )
    assert response.status_code == 302 and "/logga-in" not in response.location
    verify = _restore(path, fresh, target_url, command=("audit", "verify"))
    assert verify.exit_code == 0, verify.output
    assert "Granskningsloggen är hel" in verify.output
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_file_reveals_nothing_without_its_passphrase(source: Source, tmp_path: Path) -> None:
    path = tmp_path / "intake.backup"
    assert _backup(source.site, path).exit_code == 0
    raw = path.read_bytes()
    keys = instance_secrets.load(source.instance)
    assert keys is not None
    secret = json.loads((source.instance / instance_secrets.FILENAME).read_text())
    canaries = [
        REPORT_CANARY.encode(),
        SIGNUP_CANARY.encode(),
        keys.secret_key.encode(),
        *keys.app_keys.values(),
        *(value.encode() for value in secret["app_keys"].values()),
        *(code.encode() for code in source.site.recovery_codes.values()),
        b"SQLite format 3",
        b"PGDMP",
        b"ustar",
        b"alembic_version",
        b"secrets.json",
    ]
    for canary in canaries:
        assert canary not in raw
    assert path.stat().st_mode & 0o077 == 0
    assert raw.startswith(backupbox.MAGIC)


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("passphrase", "damage", "message"),
    [
        ("fel lösenfras som är lång nog", None, "Lösenfrasen stämmer inte"),
        (PASSPHRASE, "salt", "Lösenfrasen stämmer inte"),
        (PASSPHRASE, "last byte", "Filen är skadad eller ändrad"),
        (PASSPHRASE, "cut", "Filen är skadad eller ändrad"),
        (PASSPHRASE, "appended", "Filen är skadad eller ändrad"),
        (PASSPHRASE, "not ours", "ingen säkerhetskopia av intake"),
    ],
)
def test_a_wrong_passphrase_or_a_changed_file_restores_nothing(
    source: Source,
    target_url: str | None,
    tmp_path: Path,
    passphrase: str,
    damage: str | None,
    message: str,
) -> None:
    path = tmp_path / "intake.backup"
    assert _backup(source.site, path).exit_code == 0
    size = path.stat().st_size
    if damage == "salt":
        _flip(path, len(backupbox.MAGIC) + 3)
    elif damage == "last byte":
        _flip(path, size - 1)
    elif damage == "cut":
        path.write_bytes(path.read_bytes()[: size - 100])
    elif damage == "appended":
        path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x01x")
    elif damage == "not ours":
        path.write_bytes(b"PK\x03\x04 a zip file, say")
    fresh = tmp_path / "restored"
    result = _restore(path, fresh, target_url, passphrase)
    # Then a clear Swedish refusal, no traceback, and nothing written
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (fresh / instance_secrets.FILENAME).exists()
    assert not [p for p in fresh.iterdir() if p.name.startswith(".restore-")]
    _assert_empty(fresh, target_url)


def _assert_empty(instance: Path, url: str | None) -> None:
    database = url or f"sqlite:///{instance / 'intake.sqlite3'}"
    engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def test_restore_refuses_an_instance_or_database_that_is_not_empty(
    source: Source, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "intake.backup"
    assert _backup(source.site, path).exit_code == 0
    # An instance folder with secrets of its own
    result = _restore(path, source.instance, database_url)
    assert result.exit_code == 1 and "har redan hemligheter" in result.output
    # An empty instance folder, but the live database
    fresh = tmp_path / "other"
    result = _restore(path, fresh, database_url)
    assert result.exit_code == 1 and "Måldatabasen är inte tom" in result.output
    assert not (fresh / instance_secrets.FILENAME).exists()


@pytest.mark.parametrize("passphrase", ["", "   ", "kort", "femton tecken.."])
def test_a_short_passphrase_is_refused(source: Source, tmp_path: Path, passphrase: str) -> None:
    path = tmp_path / "intake.backup"
    result = _backup(source.site, path, passphrase)
    assert result.exit_code != 0
    assert not path.exists()


def test_the_passphrase_is_asked_twice_on_the_terminal(source: Source, tmp_path: Path) -> None:
    path = tmp_path / "intake.backup"
    runner = source.site.app.test_cli_runner()
    env = {backup.PASSPHRASE_VARIABLE: None}
    mismatch = runner.invoke(
        args=["backup", str(path)], env=env, input=f"{PASSPHRASE}\nnågot annat helt och hållet\n"
    )
    assert mismatch.exit_code != 0 and not path.exists()
    result = runner.invoke(args=["backup", str(path)], env=env, input=f"{PASSPHRASE}\n" * 2)
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output


def test_an_existing_file_is_never_overwritten(source: Source, tmp_path: Path) -> None:
    path = tmp_path / "intake.backup"
    path.write_bytes(b"yesterday's backup")
    result = _backup(source.site, path)
    assert result.exit_code == 1 and "finns redan" in result.output
    assert path.read_bytes() == b"yesterday's backup"


# --- the sealed stream on its own ---------------------------------------------------------------


def _seal(data: bytes, monkeypatch: pytest.MonkeyPatch, chunk: int = 64) -> bytes:
    monkeypatch.setattr(backupbox, "CHUNK_SIZE", chunk)
    out = io.BytesIO()
    writer = backupbox.SealingWriter(out, PASSPHRASE, cost=CHEAP)
    writer.write(data)
    writer.close()
    return out.getvalue()


def _open(blob: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    backupbox.open_into(io.BytesIO(blob), passphrase, out)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 640, 1000])
def test_sealed_streams_round_trip_at_every_chunk_boundary(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(size)
    assert _open(_seal(data, monkeypatch)) == data


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    size = backupbox._HEADER.size
    header, rest = blob[:size], blob[size:]
    chunks = []
    while rest:
        length = int.from_bytes(rest[:4], "big")
        chunks.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, chunks


@pytest.mark.parametrize("change", ["swap", "drop middle", "drop last", "repeat first"])
def test_chunks_cannot_be_reordered_dropped_or_repeated(
    change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, chunks = _chunks(_seal(os.urandom(300), monkeypatch))
    assert len(chunks) == 6  # the empty check, four full and the last
    if change == "swap":
        chunks[1], chunks[2] = chunks[2], chunks[1]
    elif change == "drop middle":
        del chunks[2]
    elif change == "drop last":
        del chunks[-1]
    else:
        chunks.insert(1, chunks[0])
    with pytest.raises(backupbox.Damaged):
        _open(header + b"".join(chunks))


def test_another_files_chunk_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(200)
    header, ours = _chunks(_seal(data, monkeypatch))
    _other_header, theirs = _chunks(_seal(data, monkeypatch))
    with pytest.raises(CryptoError):
        _open(header + ours[0] + theirs[1] + b"".join(ours[2:]))


@pytest.mark.parametrize(
    ("offset", "value"), [(0, 0), (8, 9), (9, 0xFF), (25, 200), (27, 0xFF), (30, 0), (31, 0xFF)]
)
def test_changed_impossible_or_costly_headers_are_refused(
    offset: int, value: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = bytearray(_seal(b"x" * 10, monkeypatch))
    blob[offset] = value
    with pytest.raises(CryptoError):
        _open(bytes(blob))


def test_pg_dump_of_the_servers_own_version_is_chosen_and_an_older_one_refused() -> None:
    clients = backup_pg._clients("pg_dump")
    if not clients:
        pytest.skip("no PostgreSQL client installed")
    newest = max(clients.values())
    _path, major = backup_pg.choose("pg_dump", newest)
    assert major == newest
    with pytest.raises(backup.BackupError, match=f"postgresql-client-{newest + 1}"):
        backup_pg.choose("pg_dump", newest + 1)


def test_restore_is_the_only_command_before_the_instance_has_secrets(tmp_path: Path) -> None:
    # Given a production-style configuration and an instance without secrets
    empty = tmp_path / "empty"
    url = _pg_url("postgres") if POSTGRES else "sqlite:///" + str(tmp_path / "x.sqlite3")
    env = {"INTAKE_INSTANCE_PATH": str(empty), "INTAKE_DATABASE_URL": url}
    # Then other commands still refuse to start without the secrets, as before
    result = CliRunner().invoke(flask_cli, ["--app", "intake", "jobs", "run"], env=env)
    assert result.exit_code != 0
    assert "Hemligheterna saknas" in str(result.exception)
    assert not (empty / instance_secrets.FILENAME).exists()
    # And restore is found, and says what is missing
    missing = tmp_path / "nothing.backup"
    result = CliRunner().invoke(
        flask_cli, ["--app", "intake", "restore", str(missing)], env={**env}
    )
    assert result.exit_code == 1 and "finns inte" in result.output
