"""Key material wrapped under a key derived with Argon2id from a secret a person holds.

Blob layout: version (1) | salt (16) | time cost (1) | memory KiB (4) | parallelism (1) | AEAD.
The cost parameters travel with the blob, so they can be raised later without a migration.

Version 1 encrypts under the Argon2id output itself. Version 2 (a staff password) splits one
Argon2id output with HKDF-SHA256 into two independent keys: a verifier (stored with the
password, see `passwords`) and the key-encryption key for the blob. Sign-in then costs one
Argon2id derivation instead of two, and knowing the verifier says nothing about the KEK.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from intake.crypto import CryptoError, aead
from intake.crypto.symbols import random_symbols

VERSION = 1
VERSION_SPLIT = 2
VERIFIER_INFO = b"intake:password-verifier:v1"
KEK_INFO = b"intake:key-encryption-key:v1"
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


@dataclass(frozen=True)
class Derivation:
    """One Argon2id derivation from a secret: its salt and cost, and the output."""

    salt: bytes
    cost: Cost
    output: bytes

    def verifier(self) -> bytes:
        """The half stored to check the secret."""
        return _expand(self.output, VERIFIER_INFO)

    def kek(self) -> bytes:
        """The half that wraps key material."""
        return _expand(self.output, KEK_INFO)


def _expand(output: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(output)


def check_cost(cost: Cost) -> None:
    """CryptoError for cost fields beyond our caps: whoever can write the database must not
    make an unlock hang or exhaust memory."""
    if (
        cost.time > MAX_TIME
        or cost.memory_kib > MAX_MEMORY_KIB
        or cost.parallelism > MAX_PARALLELISM
    ):
        raise CryptoError("asks for more work than we allow")


def derivation(secret: str, salt: bytes, cost: Cost) -> Derivation:
    """Argon2id once over the secret; CryptoError on cost fields that are too high or impossible."""
    check_cost(cost)
    try:
        return Derivation(salt, cost, derive(secret, salt, cost))
    except HashingError as error:
        raise CryptoError("impossible cost parameters") from error


def new_derivation(secret: str, cost: Cost) -> Derivation:
    """Argon2id once over the secret with a fresh salt."""
    return derivation(secret, os.urandom(SALT_LEN), cost)


def wrap_derived(material: bytes, derived: Derivation, *, aad: bytes) -> bytes:
    """Wrap key material under the KEK half of a derivation (a version 2 blob)."""
    cost = derived.cost
    header = _HEADER.pack(VERSION_SPLIT, derived.salt, cost.time, cost.memory_kib, cost.parallelism)
    return header + aead.encrypt(derived.kek(), material, aad=header + aad)


def unwrap_derived(blob: bytes, derived: Derivation, *, aad: bytes) -> bytes:
    """Unwrap a version 2 blob with a derivation already made (the one that checked the
    password); CryptoError if it is not that derivation's blob."""
    header, (version, salt, *_cost) = _header(blob)
    if version != VERSION_SPLIT or not hmac.compare_digest(salt, derived.salt):
        raise CryptoError("not wrapped under this derivation")
    return aead.decrypt(derived.kek(), blob[_HEADER.size :], aad=header + aad)


def _header(blob: bytes) -> tuple[bytes, tuple[int, bytes, int, int, int]]:
    if len(blob) <= _HEADER.size:
        raise CryptoError("not a wrapped key")
    header = blob[: _HEADER.size]
    return header, _HEADER.unpack(header)


def wrap(material: bytes, secret: str, *, aad: bytes, cost: Cost) -> bytes:
    """Wrap key material under a key derived from secret."""
    salt = os.urandom(SALT_LEN)
    header = _HEADER.pack(VERSION, salt, cost.time, cost.memory_kib, cost.parallelism)
    return header + aead.encrypt(derive(secret, salt, cost), material, aad=header + aad)


def unwrap(blob: bytes, secret: str, *, aad: bytes) -> bytes:
    """Unwrap key material (version 1 or 2); CryptoError on a wrong secret or a tampered blob."""
    header, (version, salt, time_cost, memory, parallelism) = _header(blob)
    if version not in (VERSION, VERSION_SPLIT):
        raise CryptoError("unknown wrapping version")
    derived = derivation(secret, salt, Cost(time_cost, memory, parallelism))
    key = derived.output if version == VERSION else derived.kek()
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
