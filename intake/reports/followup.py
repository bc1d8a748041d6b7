"""Follow-up codes for anonymous reporters: shown once, stored only as a slow hash.

A code is a random lookup id (40 bits, stored in the clear to find the row) followed by a
random secret (120 bits, stored only as an Argon2id hash). Typed back at
/orosanmalan/uppfoljning it lets the reporter add information and see a coarse status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from intake.crypto import passwords
from intake.extensions import db
from intake.reports.models import Report

_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOKUP_LEN = 8
SECRET_LEN = 24


@dataclass(frozen=True)
class FollowupCode:
    """A new code: what to show once, and what to store."""

    shown: str
    lookup: str
    slow_hash: str


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_code(*, cost: passwords.HashCost) -> FollowupCode:
    """A new follow-up code and its hash."""
    lookup, secret = _random(LOOKUP_LEN), _random(SECRET_LEN)
    raw = lookup + secret
    shown = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return FollowupCode(
        shown=shown, lookup=lookup, slow_hash=passwords.hash_secret(secret, cost=cost)
    )


def normalise(text: str) -> str:
    """A typed code without spaces and dashes, upper case, confusables mapped."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return cleaned.replace("O", "0").replace("I", "1").replace("L", "1")


def find(text: str) -> Report | None:
    """The report a typed code belongs to, or None (wrong, unknown or purged)."""
    cleaned = normalise(text)
    if len(cleaned) != LOOKUP_LEN + SECRET_LEN:
        passwords.burn_time()
        return None
    lookup, secret = cleaned[:LOOKUP_LEN], cleaned[LOOKUP_LEN:]
    report: Report | None = db.session.scalar(
        sa.select(Report).where(Report.followup_lookup == lookup)
    )
    if report is None or report.followup_hash is None:
        passwords.burn_time()
        return None
    if not passwords.verify_password(report.followup_hash, secret):
        return None
    return report
