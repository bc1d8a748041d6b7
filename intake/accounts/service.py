"""Staff account operations: sign-in with growing delays, second factor, passwords, keys.

Plain functions: no request, no session. Views pass in what they hold (keys, cost, clock).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app

from intake import audit, clock
from intake.accounts import policy, sessions, throttle

# Memberships have their own module; their names stay importable from here (views and tests
# use them as accounts.grant, accounts.AccessError, …).
from intake.accounts.memberships import AccessError as AccessError
from intake.accounts.memberships import grant as grant
from intake.accounts.memberships import inbox_secret as inbox_secret
from intake.accounts.memberships import member_inbox_ids as member_inbox_ids
from intake.accounts.memberships import revoke as revoke
from intake.accounts.models import BackupCode, Membership, User
from intake.crypto import custody, keywrap, passwords, protected, sealing
from intake.crypto.symbols import random_symbols
from intake.extensions import db

BACKUP_CODES = 10
ISSUER = "Älvsbyns kommun intake"
# Verified against when the e-mail is unknown, so timing does not tell who has an account: a
# derived verifier at the configured cost, made once per process and cost.
_DUMMIES: dict[keywrap.Cost, str] = {}
# The audit trail's actor for a failed sign-in with an address that has no account: the
# address itself is never written down.
UNKNOWN_ACTOR = "okänd e-postadress"
# Counters and one-time steps are updated with Core statements on the table, never by writing
# back what the ORM object read: two requests at once must not overwrite each other's count.
_users = User.__table__


class LoginError(Exception):
    """Sign-in refused: wrong e-mail or password (the same message for both)."""


class LoginDelayed(LoginError):
    """Too many failures: wait before trying again."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class CurrentPasswordWrong(Exception):
    """The current password, typed to choose a new one, was wrong."""


class SecondFactorError(Exception):
    """The TOTP or backup code was wrong or already used."""


class PasswordRejected(Exception):
    """A new password breaks the rules; `problems` says how, in Swedish."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SignedIn:
    """A user whose password was right, and their private key (for the session row)."""

    user: User
    private_key: bytes


def _unless_delayed(email: str, *, throttle_key: bytes, now: datetime) -> str:
    """The address's throttle key hash; LoginDelayed while its delay runs."""
    key_hash = throttle.key_for(email, key=throttle_key)
    wait = throttle.wait_seconds(key_hash, now=now)
    if wait:
        raise LoginDelayed(wait)
    return key_hash


def configured_cost() -> keywrap.Cost:
    """The Argon2id cost new passwords are derived with (ARGON2_* in the config)."""
    cfg = current_app.config
    return keywrap.Cost(
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"]
    )


def dummy_hash(cost: keywrap.Cost) -> str:
    """What an unknown address's password is checked against (one per process and cost)."""
    if cost not in _DUMMIES:
        _DUMMIES[cost] = passwords.dummy_verifier(cost)
    return _DUMMIES[cost]


def set_password(user: User, password: str, private_key: bytes, *, cost: keywrap.Cost) -> None:
    """Store a password and wrap the private key under it, from ONE Argon2id derivation
    (`passwords`: a verifier and a key-encryption key split from it with HKDF)."""
    derived = keywrap.new_derivation(password, cost)
    user.password_hash = passwords.stored_verifier(derived)
    user.wrapped_private_key = keywrap.wrap_derived(
        private_key, derived, aad=custody.user_key_aad(user.id)
    )


def authenticate(
    email: str, password: str, *, throttle_key: bytes, cost: keywrap.Cost | None = None
) -> SignedIn:
    """Check e-mail and password; unlock the user's private key. Commits a failure.

    Known and unknown addresses take the same path: one Argon2 check, one throttle count, one
    audit row, the same delays. Only a right password for an active account differs. A right
    password costs one Argon2id derivation (its verifier checks the password, its KEK unwraps
    the key); an account still on the older two-derivation form is moved to it now (in the
    caller's transaction), keeping the same private key and memberships.
    """
    cost = cost or configured_cost()
    now = clock.now()
    key_hash = _unless_delayed(email, throttle_key=throttle_key, now=now)
    user = db.session.scalar(sa.select(User).where(User.email == throttle.normalise(email)))
    stored = dummy_hash(cost) if user is None else user.password_hash
    right, derived = passwords.check_password(stored, password)
    if user is None or not user.active or not right:
        throttle.record_failure(key_hash, now=now)
        audit.record(
            "login_failed",
            actor_id=None if user is None else user.id,
            actor=UNKNOWN_ACTOR if user is None else user.email,
            target_type=None if user is None else "user",
            target_id=None if user is None else user.id,
        )
        db.session.commit()
        raise LoginError()
    assert user.wrapped_private_key is not None
    if derived is not None:
        private = keywrap.unwrap_derived(
            user.wrapped_private_key, derived, aad=custody.user_key_aad(user.id)
        )
    else:
        private = custody.unwrap_user_key(user.wrapped_private_key, password, user_id=user.id)
        set_password(user, password, private, cost=cost)
    # The second factor keeps its own count (User.failed_logins): a right password must not
    # buy fresh guesses at the code.
    throttle.clear(key_hash)
    return SignedIn(user=user, private_key=private)


def begin_totp_enrolment(user: User, keys: Mapping[int, bytes]) -> str:
    """A new TOTP secret for the user (not active until confirmed); returns it."""
    secret = pyotp.random_base32()
    user.totp_secret = protected.protect(secret.encode(), keys, aad=_totp_aad(user.id))
    user.totp_enrolled_at = None
    db.session.commit()
    return secret


def totp_secret(user: User, keys: Mapping[int, bytes]) -> str:
    """The user's TOTP secret."""
    assert user.totp_secret is not None
    return protected.unprotect(user.totp_secret, keys, aad=_totp_aad(user.id)).decode()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI for an authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _totp_aad(user_id: int) -> bytes:
    return f"intake:totp:v1:{user_id}".encode()


def _check_totp(user: User, code: str, keys: Mapping[int, bytes]) -> bool:
    cleaned = "".join(ch for ch in code if ch.isdigit())
    if len(cleaned) != 6 or user.totp_secret is None:
        return False
    totp = pyotp.TOTP(totp_secret(user, keys))
    now = clock.now()
    for offset in (0, -1, 1):  # one step of clock drift either way
        moment = now + timedelta(seconds=30 * offset)
        step = int(moment.timestamp()) // 30
        if hmac.compare_digest(totp.at(moment), cleaned):
            # A code is good once: only one of two requests racing with it may move the step.
            moved = db.session.execute(
                sa.update(_users)
                .where(
                    _users.c.id == user.id,
                    sa.or_(_users.c.totp_last_step.is_(None), _users.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            return bool(moved.rowcount == 1)  # type: ignore[attr-defined]
    return False


def confirm_totp_enrolment(
    user: User, code: str, keys: Mapping[int, bytes], *, pepper: bytes
) -> list[str]:
    """Activate TOTP with a first good code; returns new backup codes (shown once)."""
    if not _check_totp(user, code, keys):
        raise SecondFactorError()
    user.totp_enrolled_at = clock.now()
    codes = new_backup_codes(user, pepper=pepper)
    audit.record(
        "totp_enrolled", actor_id=user.id, actor=user.email, target_type="user", target_id=user.id
    )
    db.session.commit()
    return codes


def _backup_hash(code: str, pepper: bytes) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hmac.new(pepper, cleaned.encode(), hashlib.sha256).hexdigest()


def new_backup_codes(user: User, *, pepper: bytes) -> list[str]:
    """Replace the user's backup codes; returns them in the clear (shown once)."""
    db.session.execute(sa.delete(BackupCode).where(BackupCode.user_id == user.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(BACKUP_CODES):
        raw = random_symbols(alphabet, 10)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(BackupCode(user_id=user.id, code_hash=_backup_hash(raw, pepper)))
    return codes


def _claim_guess(user_id: int, *, now: datetime) -> None:
    """Count a code as a failure before it is checked, in the caller's transaction: one
    UPDATE … SET failed_logins = failed_logins + 1 … RETURNING, refused (LoginDelayed) while a
    delay runs, which sets the delay the next guess must wait if this one is wrong. The row
    stays locked until commit, so parallel guesses are counted one by one and every code
    checked is a failure counted (a right one resets the count)."""
    free = sa.or_(_users.c.locked_until.is_(None), _users.c.locked_until <= now)
    failures = db.session.scalar(
        sa.update(_users)
        .where(_users.c.id == user_id, free)
        .values(failed_logins=_users.c.failed_logins + 1)
        .returning(_users.c.failed_logins)
    )
    if failures is None:
        locked_until = db.session.scalar(
            sa.select(_users.c.locked_until).where(_users.c.id == user_id)
        )
        db.session.rollback()
        wait = 1 if locked_until is None else (locked_until - now).total_seconds()
        raise LoginDelayed(max(1, int(wait) + 1))
    wait = throttle.delay_after(int(failures))
    if wait:
        db.session.execute(
            sa.update(_users)
            .where(_users.c.id == user_id)
            .values(locked_until=now + timedelta(seconds=wait))
        )


def _guessed_right(user_id: int) -> None:
    db.session.execute(
        sa.update(_users).where(_users.c.id == user_id).values(failed_logins=0, locked_until=None)
    )
    db.session.commit()


def verify_second_factor(user: User, code: str, keys: Mapping[int, bytes], *, pepper: bytes) -> str:
    """Check a TOTP code or spend a backup code; returns which. Commits.

    The same growing delays as for passwords (six digits must not be guessable), counted
    atomically: see _claim_guess."""
    now = clock.now()
    _claim_guess(user.id, now=now)
    if user.totp_enrolled_at is not None and _check_totp(user, code, keys):
        _guessed_right(user.id)
        return "totp"
    spent = db.session.execute(
        sa.update(BackupCode.__table__)
        .where(
            BackupCode.__table__.c.user_id == user.id,
            BackupCode.__table__.c.code_hash == _backup_hash(code, pepper),
            BackupCode.__table__.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        db.session.commit()  # the failure stays counted
        raise SecondFactorError()
    _guessed_right(user.id)
    return "backup"


def check_new_password(user: User, password: str) -> None:
    """Raise PasswordRejected if the password breaks the rules."""
    found = policy.problems(password, email=user.email, name=user.name)
    if found:
        raise PasswordRejected(found)


def change_password(
    user: User,
    current_password: str,
    new_password: str,
    private_key: bytes,
    *,
    keep_session_id: int,
    idle: timedelta,
    throttle_key: bytes,
    cost: keywrap.Cost,
) -> int:
    """Check the current password, set a new one and re-wrap the private key under it: access
    is kept. Every other session of the user ends; returns how many were signed in. Commits.

    The current password is what stops a hijacked session from taking over the account, so it
    is guarded like sign-in: the same per-address count and delays (LoginDelayed). After an
    admin reset, the current password is the one-time password the user signed in with.
    Only the session that made the change (`keep_session_id`) stays: if the old password
    leaked, a session opened with it must not outlive the change.
    """
    now = clock.now()
    key_hash = _unless_delayed(user.email, throttle_key=throttle_key, now=now)
    if not passwords.verify_password(user.password_hash, current_password):
        throttle.record_failure(key_hash, now=now)
        audit.record(
            "password_change_failed",
            actor_id=user.id,
            actor=user.email,
            target_type="user",
            target_id=user.id,
        )
        db.session.commit()
        raise CurrentPasswordWrong()
    check_new_password(user, new_password)
    set_password(user, new_password, private_key, cost=cost)
    user.must_change_password = False
    throttle.clear(key_hash)
    ended = sessions.end_others(user.id, keep_session_id, idle=idle)
    audit.record(
        "password_changed",
        actor_id=user.id,
        actor=user.email,
        target_type="user",
        target_id=user.id,
        other_sessions_ended=ended,
    )
    db.session.commit()
    return ended


def reset_password(user: User, *, by: User, cost: keywrap.Cost, throttle_key: bytes) -> str:
    """Admin reset: a one-time password and a NEW key pair; memberships are lost. Commits."""
    password = passwords.one_time_password()
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    throttle.clear(throttle.key_for(user.email, key=throttle_key))
    user.totp_secret, user.totp_enrolled_at, user.totp_last_step = None, None, None
    pair = sealing.generate_keypair()
    user.public_key = pair.public
    set_password(user, password, pair.private, cost=cost)
    db.session.execute(sa.delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(sa.delete(BackupCode).where(BackupCode.user_id == user.id))
    sessions.end_all_for(user.id)
    audit.record(
        "password_reset", actor_id=by.id, actor=by.email, target_type="user", target_id=user.id
    )
    db.session.commit()
    return password
