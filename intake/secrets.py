"""Instance secrets: the Flask signing key, the versioned application keys and audit keys.

They live in one file, mode 0600, in the instance folder. `python -m intake.secrets create`
makes it; the embedded local default makes it on first run. The audit keys (intake.audit) are
what makes the audit trail's chain unforgeable by someone who can only write to the database,
so they are kept here and never in the database. A file from before the audit keys has none;
`flask --app intake audit rotate-key` adds the first and records the cut-over row.
"""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import json
import os
import secrets as stdlib_secrets
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILENAME = "secrets.json"


class SecretsError(RuntimeError):
    """The secrets file exists but cannot be trusted."""


@dataclass(frozen=True)
class InstanceSecrets:
    """The Flask session signing key, the application keys and the audit keys by version.

    `audit_legacy_until` is the last audit row written before the first audit key (0 on an
    installation that had its key from the start; None while there is no key yet)."""

    secret_key: str
    app_keys: dict[int, bytes]
    audit_keys: dict[int, bytes]
    audit_legacy_until: int | None


def generate() -> InstanceSecrets:
    """New random secrets (not written anywhere)."""
    return InstanceSecrets(
        secret_key=stdlib_secrets.token_urlsafe(48),
        app_keys={1: stdlib_secrets.token_bytes(32)},
        audit_keys={1: stdlib_secrets.token_bytes(32)},
        audit_legacy_until=0,
    )


def _versions(keys: dict[int, bytes]) -> dict[str, str]:
    return {str(v): base64.b64encode(k).decode() for v, k in keys.items()}


def _encode(found: InstanceSecrets) -> str:
    data: dict[str, object] = {
        "secret_key": found.secret_key,
        "app_keys": _versions(found.app_keys),
    }
    if found.audit_keys:
        data["audit_keys"] = _versions(found.audit_keys)
        data["audit_legacy_until"] = found.audit_legacy_until or 0
    return json.dumps(data, indent=2)


def write(instance: Path, found: InstanceSecrets) -> Path:
    """Write the secrets file atomically with mode 0600."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / FILENAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_encode(found))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def create(instance: Path) -> InstanceSecrets:
    """Create the secrets file unless it exists; return what is on disk."""
    existing = load(instance)
    if existing is not None:
        return existing
    found = generate()
    write(instance, found)
    return found


def load(instance: Path) -> InstanceSecrets | None:
    """Read the secrets file; None when absent, SecretsError when others may read it."""
    path = instance / FILENAME
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretsError(f"{path} får bara vara läsbar för ägaren (chmod 600).")
    data = json.loads(path.read_text(encoding="utf-8"))
    audit_keys = {int(v): base64.b64decode(k) for v, k in data.get("audit_keys", {}).items()}
    return InstanceSecrets(
        secret_key=data["secret_key"],
        app_keys={int(v): base64.b64decode(k) for v, k in data["app_keys"].items()},
        audit_keys=audit_keys,
        audit_legacy_until=int(data.get("audit_legacy_until", 0)) if audit_keys else None,
    )


def update(instance: Path, change: Callable[[InstanceSecrets], InstanceSecrets]) -> InstanceSecrets:
    """Read, change and write the secrets file under an exclusive lock; returns what was written.

    Two processes adding a key at once would otherwise each write a different one."""
    lock = os.open(instance / (FILENAME + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = load(instance)
        if found is None:
            raise SecretsError(f"{instance / FILENAME} finns inte.")
        changed = change(found)
        write(instance, changed)
        return changed
    finally:
        os.close(lock)


def add_audit_key(found: InstanceSecrets, *, head_seq: int) -> InstanceSecrets:
    """A new audit key version; the first one records `head_seq` as the last plain row."""
    version = max(found.audit_keys, default=0) + 1
    legacy = head_seq if found.audit_legacy_until is None else found.audit_legacy_until
    return dataclasses.replace(
        found,
        audit_keys={**found.audit_keys, version: stdlib_secrets.token_bytes(32)},
        audit_legacy_until=legacy,
    )


def main(argv: list[str]) -> int:
    """`python -m intake.secrets create [INSTANCE]`."""
    if len(argv) < 1 or argv[0] != "create":
        print("usage: python -m intake.secrets create [INSTANCE_PATH]", file=sys.stderr)
        return 2
    target = Path(argv[1] if len(argv) > 1 else os.environ.get("INTAKE_INSTANCE_PATH", "instance"))
    create(target.resolve())
    print(f"secrets in {target / FILENAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
