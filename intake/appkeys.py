"""The application keys (protected data), and their rotation while the service runs.

Keys are versioned. Every process picks up a rotated key by itself: when the instance's
secrets file changes, the next call reloads it, so new data is written under the newest key
and data under the new key can be read everywhere. `rotate` adds a key and re-encrypts every
protected value under it, row by row, without stopping the service.
"""

from __future__ import annotations

import dataclasses
import secrets as stdlib_secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from intake import secrets
from intake.crypto import protected
from intake.extensions import db

# The outbox's recipient column: kept here, with the list of protected columns, so that this
# module need not import the outbox (which imports it for the keys).
OUTBOX_RECIPIENT_AAD = b"intake:outbox-recipient:v1"


def keys() -> dict[int, bytes]:
    """The application keys, reloaded if the secrets file was rotated."""
    cfg = current_app.config
    if cfg.get("APP_KEYS_FROM_FILE"):
        path = Path(current_app.instance_path) / secrets.FILENAME
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp != cfg.get("APP_KEYS_STAMP"):
            found = secrets.load(Path(current_app.instance_path))
            if found is not None:
                cfg["APP_KEYS"] = found.app_keys
                cfg["APP_KEYS_STAMP"] = stamp
    found_keys: dict[int, bytes] = cfg["APP_KEYS"]
    return found_keys


@dataclass(frozen=True)
class ProtectedColumn:
    """A column of protected blobs and how each row's associated data is built."""

    table: sa.Table
    column: str
    aad: Callable[[Any], bytes]


def protected_columns() -> list[ProtectedColumn]:
    """Every protected column in the schema."""
    from intake.accounts.models import User
    from intake.dialogues.models import Registration

    return [
        ProtectedColumn(
            Registration.__table__,
            "protected",
            lambda row: f"intake:registration:v1:{row.id}".encode(),
        ),
        ProtectedColumn(
            User.__table__, "totp_secret", lambda row: f"intake:totp:v1:{row.id}".encode()
        ),
        ProtectedColumn(
            db.metadata.tables["channel_message"],
            "protected",
            lambda row: f"intake:feedback:v1:{row.id}:{row.report_id}".encode(),
        ),
        ProtectedColumn(
            db.metadata.tables["outbox_message"],
            "recipient_protected",
            lambda row: OUTBOX_RECIPIENT_AAD,
        ),
    ]


def add_key() -> int:
    """Write a new key version to the secrets file; returns it."""
    instance = Path(current_app.instance_path)
    found = secrets.load(instance)
    if found is None:
        raise secrets.SecretsError("no secrets file to rotate")
    version = max(found.app_keys) + 1
    # replace, not a new object: the file's other secrets (the audit keys) stay.
    updated = dataclasses.replace(
        found, app_keys={**found.app_keys, version: stdlib_secrets.token_bytes(32)}
    )
    secrets.write(instance, updated)
    return version


def reencrypt(*, batch: int = 200) -> int:
    """Re-encrypt every protected value not under the newest key; returns how many."""
    current = keys()
    newest = max(current)
    changed = 0
    for spec in protected_columns():
        column = spec.table.c[spec.column]
        while True:
            rows = db.session.execute(
                sa.select(spec.table.c.id, column)
                .where(column.is_not(None))
                .order_by(spec.table.c.id)
            ).all()
            stale = [row for row in rows if protected.key_version(row[1]) != newest][:batch]
            if not stale:
                break
            for row in stale:
                plaintext = protected.unprotect(row[1], current, aad=spec.aad(row))
                fresh = protected.protect(plaintext, current, aad=spec.aad(row))
                # Only if nobody changed the row meanwhile; otherwise the next pass sees it.
                result = db.session.execute(
                    sa.update(spec.table)
                    .where(spec.table.c.id == row.id, column == row[1])
                    .values({spec.column: fresh})
                )
                changed += int(result.rowcount)  # type: ignore[attr-defined]
            db.session.commit()
    return changed
