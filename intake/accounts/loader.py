"""How Flask-Login finds the signed-in staff member."""

from __future__ import annotations

from intake.accounts.models import User
from intake.extensions import db, login


@login.user_loader
def load_user(user_id: str) -> User | None:
    """The active user with this id, if any."""
    if not user_id.isdecimal():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None
