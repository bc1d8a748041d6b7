"""Staff users, their inbox memberships, their server-side sessions, backup codes and the
sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.models_base import UTCDateTime

ADMIN, CASEWORKER, ORGANISER, PARTNER = "admin", "caseworker", "organiser", "partner"
ROLES = (ADMIN, CASEWORKER, ORGANISER, PARTNER)


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A staff member (handläggare, organiser, partner or admin)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # TOTP secret: protected (application key), since the server checks codes itself.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column()
    # Second-factor failures and their delay. Password failures are counted per typed e-mail
    # in SignInThrottle, the same way for addresses that have no account.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot sign in."""
        return self.active

    def has_role(self, *roles: str) -> bool:
        """Whether the user has one of these roles."""
        return self.role in roles


class Membership(db.Model):  # type: ignore[name-defined]
    """A user's membership of an inbox: the inbox secret sealed to the user's public key."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "inbox_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id", ondelete="CASCADE"), index=True)
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])


class StaffSession(db.Model):  # type: ignore[name-defined]
    """A signed-in session: the user's private key wrapped under a key only the cookie holds."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BackupCode(db.Model):  # type: ignore[name-defined]
    """A one-time second-factor code for when the phone is lost (keyed hash only)."""

    __tablename__ = "backup_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInThrottle(db.Model):  # type: ignore[name-defined]
    """Recent password failures for one typed e-mail address, whether it has an account or not.

    Keyed by a keyed hash of the normalised address, never the address itself; forgotten a
    while after the last failure.
    """

    __tablename__ = "sign_in_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
