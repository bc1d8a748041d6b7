"""pg_dump and pg_restore for `intake.backup`: the right client version, no password in `ps`.

pg_dump refuses a server newer than itself, and pg_restore cannot read an archive from a newer
pg_dump. The client of the server's own major version is preferred; a newer one works (it
can dump and restore older servers); an older one is refused with the package to install.
Clients are looked for on PATH and in /usr/lib/postgresql/*/bin (Debian's layout).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def _error(message: str) -> Exception:
    from intake.backup import BackupError

    return BackupError(message)


def _clients(name: str) -> dict[str, int]:
    """Each installed client called `name` and its major version."""
    found = {shutil.which(name), *glob.glob(f"/usr/lib/postgresql/*/bin/{name}")}
    versions: dict[str, int] = {}
    for path in sorted(p for p in found if p):
        try:
            # The paths are the installed PostgreSQL clients found above, never user input.
            out = subprocess.run(  # noqa: S603
                [path, "--version"], capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if match := _VERSION.search(out):
            # Not resolved: Debian's /usr/bin/pg_dump links to a wrapper that reads its name.
            versions[path] = int(match.group(1))
    return versions


def choose(name: str, server: int, *, at_least: int = 0) -> tuple[str, int]:
    """The client for a server's major version: the same, else the oldest newer one."""
    clients = _clients(name)
    usable = {path: major for path, major in clients.items() if major >= max(server, at_least)}
    if not usable:
        have = ", ".join(f"{name} {major}" for major in sorted(set(clients.values()))) or "inget"
        raise _error(
            f"PostgreSQL-servern har version {server}, men här finns bara {have}. "
            f"{name} måste ha minst serverns version: installera postgresql-client-{server}."
        )
    # Same major first, then the oldest newer one; a versioned path before Debian's wrapper.
    path = min(usable, key=lambda p: (usable[p] != server, usable[p], not p.startswith("/usr/lib")))
    return path, usable[path]


def server_major(url: sa.URL) -> int:
    """The server's major version (15 for 15.4)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            number = conn.execute(sa.text("SHOW server_version_num")).scalar()
    finally:
        engine.dispose()
    return int(str(number)) // 10000


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # A client chosen by `choose` and our own arguments; no shell.
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(inget felmeddelande)"])[-1]
        raise _error(f"{what} misslyckades: {last}")


def dump(url: sa.URL, target: Path) -> str:
    """A custom-format dump of the database into `target`; returns the client and server."""
    server = server_major(url)
    path, major = choose("pg_dump", server)
    conninfo, env = _libpq(url)
    _run([path, "--format=custom", "--file", str(target), "--dbname", conninfo], env, "pg_dump")
    with target.open("rb") if target.exists() else open(os.devnull, "rb") as written:
        if written.read(5) != b"PGDMP":
            raise _error(f"pg_dump ({path}) skrev ingen dump; säkerhetskopian görs inte.")
    note = "" if major == server else f" (servern är {server}; en nyare pg_dump kan läsa den)"
    return f"pg_dump {major}, server {server}{note}"


def restore(archive: Path, url: sa.URL, *, made_by: int = 0) -> None:
    """Restore a custom-format dump into the empty database, all or nothing."""
    path, _major = choose("pg_restore", server_major(url), at_least=made_by)
    conninfo, env = _libpq(url)
    _run(
        [
            path,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            conninfo,
            str(archive),
        ],
        env,
        "pg_restore",
    )
