"""Follow-up codes for anonymous reporters: shown once, stored only as a one-way hash.

A code is a random lookup id (40 bits, stored in the clear to find the row) followed by a
random secret (120 bits). Only a SHA-256 digest of the secret, bound to its lookup id, is
stored. A slow hash (Argon2id) is what low-entropy secrets such as passwords need; against 120
random bits it adds no strength (2^120 guesses either way) and costs every submit milliseconds,
so codes are hashed like API tokens. Codes handed out before this scheme carry an Argon2id
hash, which is still accepted. Typed back at /orosanmalan/uppfoljning a code lets the reporter
add information and see a coarse status.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa

from intake.crypto import passwords
from intake.crypto.symbols import random_symbols
from intake.extensions import db
from intake.reports.models import Report

_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOKUP_LEN = 8
SECRET_LEN = 24
DIGEST_PREFIX = "sha256$"


@dataclass(frozen=True)
class FollowupCode:
    """A new code: what to show once, and what to store."""

    shown: str
    lookup: str
    digest: str


def _random(n: int) -> str:
    return random_symbols(_ALPHABET, n)


def digest(lookup: str, secret: str) -> str:
    """The stored form of a code's secret: SHA-256, domain-separated and bound to its lookup."""
    material = f"intake:followup:v2:{lookup}:{secret}".encode()
    return DIGEST_PREFIX + hashlib.sha256(material).hexdigest()


def new_code() -> FollowupCode:
    """A new follow-up code and its digest."""
    lookup, secret = _random(LOOKUP_LEN), _random(SECRET_LEN)
    raw = lookup + secret
    shown = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return FollowupCode(shown=shown, lookup=lookup, digest=digest(lookup, secret))


def matches(stored: str, lookup: str, secret: str) -> bool:
    """Whether a typed secret fits the stored hash (a digest, or an older Argon2id hash)."""
    if stored.startswith(DIGEST_PREFIX):
        return hmac.compare_digest(stored, digest(lookup, secret))
    return passwords.verify_password(stored, secret)


def normalise(text: str) -> str:
    """A typed code without spaces and dashes, upper case, confusables mapped."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return cleaned.replace("O", "0").replace("I", "1").replace("L", "1")


def find(text: str) -> Report | None:
    """The report a typed code belongs to, or None (wrong, unknown or purged)."""
    cleaned = normalise(text)
    if len(cleaned) != LOOKUP_LEN + SECRET_LEN:
        return None
    lookup, secret = cleaned[:LOOKUP_LEN], cleaned[LOOKUP_LEN:]
    report: Report | None = db.session.scalar(
        sa.select(Report).where(Report.followup_lookup == lookup)
    )
    if report is None or report.followup_hash is None:
        return None
    if not matches(report.followup_hash, lookup, secret):
        return None
    return report
