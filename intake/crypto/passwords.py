"""Password and secret hashing with Argon2id (argon2-cffi).

Staff passwords are stored as a *derived verifier*: one Argon2id derivation (cost from
ARGON2_* in the config, carried in the stored string) split with HKDF into the verifier kept
here and the key that wraps the user's private key (`keywrap.Derivation`), so a sign-in costs
one derivation. Format:

    $intake-argon2id-hkdf$v=1$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<verifier b64>

Older rows hold an argon2-cffi PHC string (`$argon2id$…`); they still verify, and sign-in
moves them to the derived form (see `accounts.service.authenticate`).

The cost: 64 MiB, 3 passes, 1 lane by default (ARGON2_MEMORY_KIB/TIME_COST/PARALLELISM).
The floor is OWASP's Password Storage Cheat Sheet: "Use Argon2id with a minimum configuration
of 19 MiB of memory, an iteration count of 2, and 1 degree of parallelism"
(https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html). We stay
well above it because the same derivation guards the private key that opens reports: whoever
steals the database must pay 64 MiB x 3 passes per guess. RFC 9106 §4's "second recommended
option" is the same memory and passes (with 4 lanes); one lane here, so that two sign-ins at
once use both cores of a small server instead of queueing. Measured on this 2-core machine: one
derivation is ~0.1-0.2 s, so a sign-in (one derivation now, two before) stays under 0.5 s.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from intake.crypto import CryptoError, keywrap
from intake.crypto.symbols import random_symbols

_HASHER = PasswordHasher()
DERIVED_PREFIX = "$intake-argon2id-hkdf$v=1$"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def stored_verifier(derived: keywrap.Derivation) -> str:
    """The string kept as the password hash for a derivation."""
    cost = derived.cost
    params = f"m={cost.memory_kib},t={cost.time},p={cost.parallelism}"
    return f"{DERIVED_PREFIX}{params}${_b64(derived.salt)}${_b64(derived.verifier())}"


def is_derived(stored: str) -> bool:
    """Whether a stored hash is a derived verifier (else a legacy argon2-cffi hash)."""
    return stored.startswith(DERIVED_PREFIX)


def _parse(stored: str) -> tuple[keywrap.Cost, bytes, bytes]:
    try:
        params, salt, verifier = stored.removeprefix(DERIVED_PREFIX).split("$")
        fields = dict(item.split("=", 1) for item in params.split(","))
        cost = keywrap.Cost(int(fields["t"]), int(fields["m"]), int(fields["p"]))
        return cost, _unb64(salt), _unb64(verifier)
    except (ValueError, KeyError) as error:
        raise CryptoError("not a derived verifier") from error


def check_derived(stored: str, password: str) -> keywrap.Derivation | None:
    """The derivation if the password matches a derived verifier (one Argon2id run), else
    None; a malformed or over-costly stored string never matches."""
    try:
        cost, salt, verifier = _parse(stored)
        derived = keywrap.derivation(password, salt, cost)
    except CryptoError:
        return None
    return derived if hmac.compare_digest(derived.verifier(), verifier) else None


def check_password(stored: str, password: str) -> tuple[bool, keywrap.Derivation | None]:
    """One Argon2id check against either stored form: whether it matches, and for a derived
    verifier that matches, the derivation (whose KEK unwraps the user's key)."""
    if is_derived(stored):
        derived = check_derived(stored, password)
        return derived is not None, derived
    return verify_password(stored, password), None


def dummy_verifier(cost: keywrap.Cost) -> str:
    """A derived verifier for a random password: what an unknown address is checked against."""
    return stored_verifier(keywrap.new_derivation(secrets.token_urlsafe(16), cost))


def hash_password(password: str) -> str:
    """An Argon2id hash of the password (argon2-cffi's default, RFC 9106 low-memory profile)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether the password (or secret) matches the stored hash (its own cost is in it)."""
    if is_derived(stored):
        return check_derived(stored, password) is not None
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A random first password to print once: four groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = random_symbols(alphabet, 16)
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
