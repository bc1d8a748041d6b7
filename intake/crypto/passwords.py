"""Password and secret hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from intake.crypto.symbols import random_symbols

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of the password (argon2-cffi's default, RFC 9106 low-memory profile)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether the password (or secret) matches the stored hash (its own cost is in it)."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A random first password to print once: four groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = random_symbols(alphabet, 16)
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
