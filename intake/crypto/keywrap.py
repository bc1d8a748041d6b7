"""Key material wrapped under a key derived with Argon2id from a secret a person holds.

Blob layout: version (1) | salt (16) | time cost (1) | memory KiB (4) | parallelism (1) | AEAD.
The cost parameters travel with the blob, so they can be raised later without a migration.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from intake.crypto import CryptoError, aead
from intake.crypto.symbols import random_symbols

VERSION = 1
MAX_TIME = 16
MAX_MEMORY_KIB = 1024 * 1024
MAX_PARALLELISM = 16
SALT_LEN = 16
_HEADER = struct.Struct(">B16sBIB")
# Crockford's base32 without I, L, O, U: nothing to misread on a printed sheet.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Cost:
    """Argon2id cost parameters."""

    time: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1


def derive(secret: str, salt: bytes, cost: Cost) -> bytes:
    """A 256-bit key from a secret with Argon2id."""
    return hash_secret_raw(
        secret.encode("utf-8"),
        salt,
        time_cost=cost.time,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def wrap(material: bytes, secret: str, *, aad: bytes, cost: Cost) -> bytes:
    """Wrap key material under a key derived from secret."""
    salt = os.urandom(SALT_LEN)
    header = _HEADER.pack(VERSION, salt, cost.time, cost.memory_kib, cost.parallelism)
    return header + aead.encrypt(derive(secret, salt, cost), material, aad=header + aad)


def unwrap(blob: bytes, secret: str, *, aad: bytes) -> bytes:
    """Unwrap key material; CryptoError on a wrong secret or a tampered blob."""
    if len(blob) <= _HEADER.size:
        raise CryptoError("not a wrapped key")
    header = blob[: _HEADER.size]
    version, salt, time_cost, memory, parallelism = _HEADER.unpack(header)
    if version != VERSION:
        raise CryptoError("unknown wrapping version")
    if time_cost > MAX_TIME or memory > MAX_MEMORY_KIB or parallelism > MAX_PARALLELISM:
        # Someone who can write the database must not make an unlock hang or exhaust memory.
        raise CryptoError("wrapped key asks for more work than we allow")
    try:
        key = derive(secret, salt, Cost(time_cost, memory, parallelism))
    except HashingError as error:
        # Cost fields Argon2 refuses (zero time or lanes, too little memory): tampered.
        raise CryptoError("wrapped key has impossible cost parameters") from error
    return aead.decrypt(key, blob[_HEADER.size :], aad=header + aad)


def new_recovery_code(groups: int = 6, size: int = 5) -> str:
    """A printable recovery code: 30 symbols of base32 (150 bits) in groups of five."""
    symbols = random_symbols(_ALPHABET, groups * size)
    return "-".join(symbols[i : i + size] for i in range(0, len(symbols), size))


def normalise_code(text: str) -> str:
    """A typed code in canonical form: upper case, no spaces, confusable letters mapped."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    return "-".join(cleaned[i : i + 5] for i in range(0, len(cleaned), 5))
