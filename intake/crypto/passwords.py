"""Password and secret hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class HashCost:
    """Argon2id cost for a stored hash."""

    time: int = 1
    memory_kib: int = 4 * 1024
    parallelism: int = 1


# Hashed at the default secret cost, so a miss costs what a wrong guess costs.
_DUMMY = PasswordHasher(time_cost=1, memory_cost=4 * 1024, parallelism=1).hash(
    "intake-dummy-" + secrets.token_hex(8)
)


def hash_password(password: str) -> str:
    """An Argon2id hash of the password (argon2-cffi's default, RFC 9106 low-memory profile)."""
    return _HASHER.hash(password)


def hash_secret(secret: str, *, cost: HashCost) -> str:
    """An Argon2id hash of a generated secret, at the given cost."""
    hasher = PasswordHasher(
        time_cost=cost.time, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    return hasher.hash(secret)


def verify_password(stored: str, password: str) -> bool:
    """Whether the password (or secret) matches the stored hash (its own cost is in it)."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_time() -> None:
    """Spend the time of one verification, so a miss looks like a wrong guess."""
    verify_password(_DUMMY, "intake-not-it")


def one_time_password() -> str:
    """A random first password to print once: four groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
