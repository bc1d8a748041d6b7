"""Who is signed in, and the rules for the staff area (/personal/)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import appkeys
from intake.accounts import memberships, sessions
from intake.accounts.models import User
from intake.crypto import custody, keywrap
from intake.extensions import login
from intake.reports.models import Inbox

COOKIE = "staff"
F = TypeVar("F", bound=Callable[..., Any])
# Pages a signed-in user may see before the second factor or a required password change.
OPEN_ENDPOINTS = {
    "staff_auth.login",
    "staff_auth.second_factor",
    "staff_auth.enrol",
    "staff_auth.change_password",
    "staff_auth.logout",
}


def timeouts() -> sessions.Timeouts:
    """The configured idle and absolute session timeouts."""
    cfg = current_app.config
    return sessions.Timeouts(
        idle=timedelta(minutes=cfg["STAFF_IDLE_MINUTES"]),
        absolute=timedelta(hours=cfg["STAFF_ABSOLUTE_HOURS"]),
    )


def app_keys() -> dict[int, bytes]:
    """The application keys (protected data)."""
    return appkeys.keys()


def pepper() -> bytes:
    """The key for backup-code hashes."""
    return hashlib.sha256(
        b"intake:backup-codes:" + str(current_app.config["SECRET_KEY"]).encode()
    ).digest()


def throttle_key() -> bytes:
    """The key for the sign-in throttle's hashes of typed e-mail addresses."""
    return hashlib.sha256(
        b"intake:sign-in-throttle:" + str(current_app.config["SECRET_KEY"]).encode()
    ).digest()


def argon2_cost() -> keywrap.Cost:
    """The configured Argon2id cost."""
    cfg = current_app.config
    return keywrap.Cost(
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"]
    )


def active_session() -> sessions.ActiveSession | None:
    """This request's staff session (also before the second factor), once per request."""
    if "staff_session" not in g:
        cookie = session.get(COOKIE)
        g.staff_session = sessions.resume(cookie, timeouts=timeouts()) if cookie else None
        if cookie and g.staff_session is None:
            session.pop(COOKIE, None)
        elif g.staff_session is not None and g.staff_session.touched:
            # The cookie's signature is dated and dies after PERMANENT_SESSION_LIFETIME unless
            # re-signed: re-sign it whenever use moves the idle clock on, so that the idle and
            # absolute timeouts of the server-side row decide when a caseworker is signed out.
            session.modified = True
    found: sessions.ActiveSession | None = g.staff_session
    return found


def template_user() -> dict[str, Any]:
    """`current_user` for templates as Flask-Login's proxy, so the user is loaded only by a
    template that reads it (Flask-Login's own context processor loads it for every page,
    the resident's included)."""
    return {"current_user": current_user}


@login.request_loader
def _load_from_session(req: Any) -> User | None:
    active = active_session()
    if active is None or not active.second_factor_done:
        return None
    return active.user


@login.user_loader
def _never_from_user_id(user_id: str) -> None:
    # Only the server-side session row signs a user in, never an id in the cookie.
    return None


def private_key() -> bytes:
    """The signed-in user's private key, for this request."""
    active = active_session()
    if active is None:
        abort(403)
    return active.private_key()


def _mine() -> list[memberships.MyInbox]:
    """The signed-in user's inboxes and sealed secrets, read once per request (the page, its
    navigation and a report's key all ask). For pages that read; a view that grants or
    revokes asks intake.accounts.memberships."""
    if "my_inboxes" not in g:
        g.my_inboxes = memberships.my_inboxes(current_user)
    mine: list[memberships.MyInbox] = g.my_inboxes
    return mine


def my_inbox_ids() -> list[int]:
    """The ids of the signed-in user's inboxes, by inbox name."""
    return [mine.inbox_id for mine in _mine()]


def my_inboxes() -> list[Inbox]:
    """The signed-in user's inboxes, by name (as read at the start of the request)."""
    return [mine.inbox for mine in _mine()]


def inbox_secret(inbox_id: int) -> custody.InboxSecret:
    """One of the signed-in user's inboxes unlocked; memberships.AccessError if not a member."""
    for mine in _mine():
        if mine.inbox_id == inbox_id:
            return memberships.open_membership(
                current_user, private_key(), inbox_id, mine.sealed_secret
            )
    raise memberships.AccessError()


def require_staff() -> Response | None:
    """before_request of staff blueprints: signed in, second factor done, password current."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        active = active_session()
        if active is not None and not active.second_factor_done:
            return redirect(url_for("staff_auth.second_factor"))
        return redirect(url_for("staff_auth.login", next=request.path))
    if current_user.must_change_password:
        return redirect(url_for("staff_auth.change_password"))
    return None


def roles(*allowed: str) -> Callable[[F], F]:
    """Only these roles may use the view."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
