"""Instance secrets: the Flask signing key and the versioned application keys.

They live in one file, mode 0600, in the instance folder. `python -m intake.secrets create`
makes it; the embedded local default makes it on first run.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as stdlib_secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

FILENAME = "secrets.json"


class SecretsError(RuntimeError):
    """The secrets file exists but cannot be trusted."""


@dataclass(frozen=True)
class InstanceSecrets:
    """The Flask session signing key and the application keys by version."""

    secret_key: str
    app_keys: dict[int, bytes]


def generate() -> InstanceSecrets:
    """New random secrets (not written anywhere)."""
    return InstanceSecrets(
        secret_key=stdlib_secrets.token_urlsafe(48),
        app_keys={1: stdlib_secrets.token_bytes(32)},
    )


def _encode(found: InstanceSecrets) -> str:
    return json.dumps(
        {
            "secret_key": found.secret_key,
            "app_keys": {str(v): base64.b64encode(k).decode() for v, k in found.app_keys.items()},
        },
        indent=2,
    )


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
    return InstanceSecrets(
        secret_key=data["secret_key"],
        app_keys={int(v): base64.b64decode(k) for v, k in data["app_keys"].items()},
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
