"""Password rules after NIST SP 800-63B: length, not breached, not about the user. No
composition rules and no forced periodic change."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
BREACHED_LIST = Path(__file__).with_name("breached_passwords.txt")


@lru_cache(maxsize=1)
def _breached() -> frozenset[str]:
    lines = BREACHED_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """What is wrong with a new password, as Swedish sentences (empty when it is fine)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"Lösenordet måste ha minst {MIN_LENGTH} tecken.")
    if len(password) > MAX_LENGTH:
        found.append(f"Lösenordet får ha högst {MAX_LENGTH} tecken.")
    lowered = password.lower()
    if lowered in _breached() or _is_repetitive(lowered):
        found.append("Lösenordet är för vanligt eller har läckt ut tidigare. Välj ett annat.")
    local = email.split("@")[0].lower()
    if (local and len(local) >= 4 and local in lowered) or any(
        len(part) >= 4 and part.lower() in lowered for part in name.split()
    ):
        found.append("Lösenordet får inte innehålla ditt namn eller din e-postadress.")
    return found


def _is_repetitive(lowered: str) -> bool:
    return len(set(lowered)) <= 3
