"""Staff users. Every staff member has a key pair; the private key is wrapped by the password."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.extensions import db
from intake.models_base import UTCDateTime

ROLES = ("admin", "caseworker", "organiser", "partner")


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
