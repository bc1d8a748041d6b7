"""Backup and restore: the database and the instance secrets in one archive under a passphrase.

A backup is a tar archive — `manifest.json`, the database (`database.sqlite3` through SQLite's
online backup API, or `database.pgdump` from `pg_dump --format=custom`), `secrets.json` exactly
as it lies in the instance folder, and `audit-anchors.jsonl` if the instance folder has one —
encrypted as a whole by `intake.crypto.backupbox`. Nothing in the file is readable without the
passphrase, and the database alone would be useless without the secrets beside it.

Consistency: anchors are read before the database snapshot (an anchor never points past the
snapshot) and the secrets after it (keys are only ever added, so every key the snapshot needs
is there). Plaintext only ever lies in a private (0700) folder inside the instance folder, on
the same volume and under the same protection as the live database, and is removed after.

Restore writes into the empty instance folder and database the environment names, and only
after the whole file has been opened and checked; the secrets are written last.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy.pool import NullPool

from intake import audit_anchors, backup_pg, clock, secrets
from intake.crypto import CryptoError, backupbox

FORMAT_VERSION = 1
MIN_PASSPHRASE = 16
PASSPHRASE_VARIABLE = "INTAKE_BACKUP_PASSPHRASE"  # noqa: S105 - a variable name
SQLITE_NAME, PG_NAME = "database.sqlite3", "database.pgdump"
MEMBERS = {"manifest.json", SQLITE_NAME, PG_NAME, secrets.FILENAME, audit_anchors.FILENAME}


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message is Swedish and complete."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, readable only after it is opened."""

    format: int
    dialect: str
    revision: str | None
    created_at: str
    database: str
    tool: str


def check_passphrase(passphrase: str) -> str:
    """The passphrase if long enough to guard a file kept for years; BackupError otherwise."""
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise BackupError(
            f"Lösenfrasen måste ha minst {MIN_PASSPHRASE} tecken, till exempel några "
            "ovanliga ord i en mening. Den skyddar kopian så länge den sparas."
        )
    return passphrase


def passphrase(*, confirm: bool) -> str:
    """INTAKE_BACKUP_PASSPHRASE, else asked on the terminal (twice when making a backup)."""
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        return given
    answer: str = click.prompt(
        "Lösenfras för säkerhetskopian",
        hide_input=True,
        confirmation_prompt="Samma lösenfras en gång till" if confirm else False,
    )
    return answer


# --- backup -----------------------------------------------------------------------------------


def create(target: Path, passphrase: str) -> Manifest:
    """Write an encrypted backup of this app's database and instance secrets to `target`."""
    check_passphrase(passphrase)
    if target.exists():
        raise BackupError(f"{target} finns redan. Välj ett nytt filnamn; inget skrevs över.")
    if not target.parent.is_dir():
        raise BackupError(f"Mappen {target.parent} finns inte.")
    instance = Path(current_app.instance_path)
    secrets_file = instance / secrets.FILENAME
    if not secrets_file.exists():
        raise BackupError(
            f"{secrets_file} finns inte. Utan instansens hemligheter går en kopia av "
            "databasen inte att läsa; säkerhetskopian görs inte."
        )
    anchors_file = instance / audit_anchors.FILENAME
    anchors = anchors_file.read_bytes() if anchors_file.exists() else None
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    with tempfile.TemporaryDirectory(dir=instance, prefix=".backup-") as work:
        if url.get_backend_name() == "sqlite":
            dump, tool = Path(work) / SQLITE_NAME, f"sqlite {sqlite3.sqlite_version}"
            _snapshot_sqlite(Path(url.database or ""), dump)
            revision = _revision(f"sqlite:///{dump}")
        else:
            dump = Path(work) / PG_NAME
            revision = _revision(url)
            tool = backup_pg.dump(url, dump)
        manifest = Manifest(
            format=FORMAT_VERSION,
            dialect=url.get_backend_name(),
            revision=revision,
            created_at=clock.now().isoformat(timespec="seconds"),
            database=dump.name,
            tool=tool,
        )
        members: dict[str, bytes | Path] = {
            "manifest.json": json.dumps(manifest.__dict__, indent=2).encode(),
            dump.name: dump,
            secrets.FILENAME: secrets_file.read_bytes(),
        }
        if anchors is not None:
            members[audit_anchors.FILENAME] = anchors
        _write_sealed(target, passphrase, members)
    return manifest


def _snapshot_sqlite(source: Path, dump: Path) -> None:
    """A consistent copy while the service runs: the backup API copies in one step."""
    if not source.exists():
        raise BackupError(f"Databasfilen {source} finns inte.")
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as live,
        sqlite3.connect(dump) as copy,
    ):
        live.backup(copy)
        # One self-contained file: no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    live.close()
    copy.close()


def _revision(url: str | sa.URL) -> str | None:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            return None if found is None else str(found)
    finally:
        engine.dispose()


def _write_sealed(target: Path, passphrase: str, members: dict[str, bytes | Path]) -> None:
    partial = target.with_name(target.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            writer = backupbox.SealingWriter(out, passphrase)
            with tarfile.open(fileobj=writer, mode="w|") as archive:  # type: ignore[call-overload]
                for name, content in members.items():
                    _add(archive, name, content)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add(archive: tarfile.TarFile, name: str, content: bytes | Path) -> None:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = 0o600, int(clock.now().timestamp())
    if isinstance(content, Path):
        info.size = content.stat().st_size
        with content.open("rb") as handle:
            archive.addfile(info, handle)
    else:
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))


# --- restore ----------------------------------------------------------------------------------


def restore(source: Path, passphrase: str, *, instance: Path, database_uri: str) -> Manifest:
    """Bring a backup back into an empty instance folder and an empty database."""
    url = preflight(source, instance=instance, database_uri=database_uri)
    instance.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=instance, prefix=".restore-") as work:
        files = _open_sealed(source, passphrase, Path(work))
        manifest = _manifest(files)
        if manifest.dialect != url.get_backend_name():
            raise BackupError(
                f"Säkerhetskopian är från {manifest.dialect}, men målet är "
                f"{url.get_backend_name()}. Återställ till samma sorts databas."
            )
        if secrets.FILENAME not in files or manifest.database not in files:
            raise BackupError("Säkerhetskopian saknar databasen eller hemligheterna.")
        if manifest.dialect == "sqlite":
            _restore_sqlite(files[manifest.database], Path(url.database or ""))
        else:
            made_by = re.match(r"pg_dump (\d+)", manifest.tool)
            backup_pg.restore(
                files[manifest.database], url, made_by=int(made_by.group(1)) if made_by else 0
            )
        if audit_anchors.FILENAME in files and not (instance / audit_anchors.FILENAME).exists():
            _write_private(instance / audit_anchors.FILENAME, files[audit_anchors.FILENAME])
        _write_private(instance / secrets.FILENAME, files[secrets.FILENAME])
    return manifest


def preflight(source: Path, *, instance: Path, database_uri: str) -> sa.URL:
    """Check, before asking for the passphrase, that the file exists and the target is empty."""
    if not source.is_file():
        raise BackupError(f"{source} finns inte.")
    if (instance / secrets.FILENAME).exists():
        raise BackupError(
            f"Instansmappen {instance} har redan hemligheter ({secrets.FILENAME}). Återställ "
            "bara till en tom instansmapp; inget ändrades."
        )
    url = sa.make_url(database_uri)
    _require_empty_database(url)
    return url


def _require_empty_database(url: sa.URL) -> None:
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
    except sa.exc.OperationalError as error:
        raise BackupError(f"Måldatabasen går inte att nå: {error.orig}") from None
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            f"Måldatabasen är inte tom ({len(tables)} tabeller, till exempel {sorted(tables)[0]})."
            " Återställ bara till en ny, tom databas; inget ändrades."
        )


def _open_sealed(source: Path, passphrase: str, work: Path) -> dict[str, Path]:
    plain = work / "archive.tar"
    with source.open("rb") as sealed, plain.open("wb") as out:
        try:
            backupbox.open_into(sealed, passphrase, out)
        except backupbox.WrongPassphrase:
            raise BackupError(
                "Lösenfrasen stämmer inte, eller så är filens början ändrad. Inget återställdes."
            ) from None
        except backupbox.Damaged:
            raise BackupError(
                "Filen är skadad eller ändrad (lösenfrasen stämmer). Inget återställdes; "
                "ta en annan säkerhetskopia."
            ) from None
        except CryptoError:
            raise BackupError(f"{source} är ingen säkerhetskopia av intake.") from None
    files: dict[str, Path] = {}
    with tarfile.open(plain, mode="r:") as archive:
        for member in archive:
            # Only our own flat names: nothing in the archive chooses where it lands.
            if member.name not in MEMBERS or not member.isfile() or member.name in files:
                raise BackupError(f"Säkerhetskopian har en okänd del: {member.name!r}.")
            extracted = archive.extractfile(member)
            assert extracted is not None
            target = work / member.name
            with target.open("wb") as handle:
                _copy(extracted, handle)
            files[member.name] = target
    plain.unlink()
    return files


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    while block := source.read(1024 * 1024):
        target.write(block)


def _manifest(files: dict[str, Path]) -> Manifest:
    try:
        data: dict[str, Any] = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (KeyError, ValueError, TypeError):
        raise BackupError("Säkerhetskopian saknar en läsbar innehållsförteckning.") from None
    if manifest.format != FORMAT_VERSION:
        raise BackupError(
            f"Säkerhetskopian har format {manifest.format}; den här versionen läser "
            f"format {FORMAT_VERSION}."
        )
    if manifest.database not in (SQLITE_NAME, PG_NAME):
        raise BackupError("Säkerhetskopian har en okänd databasdel.")
    return manifest


def _restore_sqlite(dump: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(dump) as copy, sqlite3.connect(target) as live:
        copy.backup(live)
    copy.close()
    live.close()


def _write_private(path: Path, source: Path) -> None:
    partial = path.with_name(path.name + ".restoring")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as handle:
        _copy(handle, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def created_at(manifest: Manifest) -> str:
    """When the backup was made, in Stockholm time, for the restore's last words."""
    moment = datetime.fromisoformat(manifest.created_at).astimezone(clock.STOCKHOLM)
    return moment.strftime("%Y-%m-%d %H:%M")


# --- restore before the secrets exist ---------------------------------------------------------
#
# `create_app` needs the instance secrets (and makes them itself on the embedded default), but
# a restore must find the instance folder empty. While the Flask CLI looks up a command and the
# instance has no secrets yet, `create_app` returns a bare app with the configuration only; its
# command group hands out `restore` directly and builds the real app for every other command,
# which then needs, or makes, the secrets exactly as before. The web server never goes this way.

_FULL = "intake.backup.full_app"


def secrets_pending(app: Flask) -> bool:
    """Whether the Flask CLI is looking up a command and the instance has no secrets yet."""
    ctx = click.get_current_context(silent=True)
    return (
        ctx is not None
        and isinstance(ctx.command, FlaskGroup)
        and not ctx.meta.get(_FULL)
        and not (Path(app.instance_path) / secrets.FILENAME).exists()
    )


class RestoreGate(AppGroup):
    """The command group of the bare app: `restore` as is, anything else on the real app."""

    def __init__(self, config: Mapping[str, Any] | None) -> None:
        super().__init__()
        self._config = config

    def _full_app(self, ctx: click.Context) -> Flask:
        from intake import create_app

        ctx.meta[_FULL] = True
        app = create_app(self._config)
        ctx.with_resource(app.app_context())
        return app

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """`restore` without secrets; any other command as the real app has it."""
        from intake.cli import restore_command

        if cmd_name == restore_command.name:
            return restore_command
        return self._full_app(ctx).cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Only `restore` is listed until the secrets exist."""
        return ["restore"]


def bare_app(app: Flask, config: Mapping[str, Any] | None) -> Flask:
    """The configured app without secrets, extensions or routes: it can only restore."""
    from intake import config as configuration
    from intake.extensions import babel

    placeholder = {"SECRET_KEY": "restore-only", "APP_KEYS": {0: b""}, "AUDIT_KEYS": {}}
    configuration.load_config(app, {**(config or {}), **placeholder})
    # Nothing can be signed or encrypted with this app.
    app.config["SECRET_KEY"] = None
    app.config["APP_KEYS"] = {}
    app.config["AUDIT_KEYS"] = {}
    app.cli = RestoreGate(config)
    # The real app is built while this one's context is active: modules that translate at
    # import time (lazy form messages) look for Babel on it.
    babel.init_app(app)
    return app
