"""Error pages that leak nothing, the pages that keep every answer (expired form, outage), and a
session cookie that a rejected request can never replace."""

from __future__ import annotations

import logging

import sqlalchemy.exc
from flask import Flask, current_app, render_template, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response
from flask_wtf.csrf import CSRFError, generate_csrf
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from limits.errors import StorageError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from intake import clock
from intake.extensions import db

log = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500, 503}
# Credentials are never echoed back into a page: they are typed again.
NOT_ECHOED = {"csrf_token", "password", "current_password", "confirm", "code", "recovery_code"}
# Answers that refuse a request: such a response never writes the session cookie unless it is
# safe to (see GuardedSessionInterface).
REJECTED = {400, 403, 405, 413, 429, 503}
# What an outage of the database or of the rate limiter's storage looks like.
OUTAGES: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
    StorageError,
    RedisError,
)


def _posted_fields() -> list[tuple[str, str]]:
    """What the request posted, less the credentials and the token, in order."""
    return [
        (name, value)
        for name, values in request.form.lists()
        if name not in NOT_ECHOED
        for value in values
    ]


def _csrf_expired(error: CSRFError) -> tuple[str, int]:
    """The token was missing or expired: show the answers back, ready to send again."""
    return (
        render_template(
            "errors/csrf.html",
            fields=_posted_fields(),
            action=request.full_path.rstrip("?"),
            token=generate_csrf(),
        ),
        400,
    )


def _outage(error: Exception) -> tuple[str, int]:
    """The database or the limiter's storage is away: 503, and on a POST every answer back in a
    form ready to send again (the transaction is rolled back first, so nothing half-done stays).
    """
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone too: give it back, the pool replaces it
        db.session.close()
    # The kind and the route only: never the request's form, which may hold a report.
    log.warning("outage %s on %s %s", type(error).__name__, request.method, request.path)
    if request.method != "POST":
        return render_template("errors/503.html"), 503
    page = render_template(
        "errors/unavailable.html",
        fields=_posted_fields(),
        action=request.full_path.rstrip("?"),
        token=generate_csrf(),
    )
    return page, 503


def _database_error(error: sqlalchemy.exc.DBAPIError) -> tuple[str, int]:
    """A dropped connection is an outage; any other database error is a fault of ours."""
    if error.connection_invalidated:
        return _outage(error)
    return _unexpected(error)


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    page = code if code in PAGES else 400 if code < 500 else 500
    return render_template(f"errors/{page}.html"), code


def _unexpected(error: Exception) -> tuple[str, int]:
    if current_app.testing:
        raise error  # tests see the real traceback; production shows the 500 page
    # The type and the route only: never the request's form, which may hold a report.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.path)
    return render_template("errors/500.html"), 500


class ClockSigner(TimestampSigner):
    """Cookie signatures dated by `intake.clock` (the project's only wall-clock read), so the
    cookie's age limit (PERMANENT_SESSION_LIFETIME) and the staff timeouts share one clock."""

    def get_timestamp(self) -> int:
        """Now, in whole seconds since the epoch."""
        return int(clock.now().timestamp())


class GuardedSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie a rejected request never replaces or clears.

    A cross-site form posts without our cookie (SameSite=Lax), is refused for its missing CSRF
    token, and the refusal used to set a fresh session cookie over the one the browser held:
    staff signed out, a resident's draft gone. Now a refused answer (REJECTED) writes the
    cookie only where that cannot happen: the request carried our cookie (the session is the
    browser's own), or it came from this site (`Sec-Fetch-Site: same-origin`: then the browser
    has no cookie of ours, or it would have sent it). A 503 never writes it: its transaction
    was rolled back, so nothing in the session may point at what was not stored.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, with signatures dated by `intake.clock`; built once per set of
        keys (Flask builds one twice per request, to open and to save the cookie)."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._serializers.get(keys)
        if kept is None:
            kept = super().get_signing_serializer(app)
            if kept is not None:
                kept.signer = ClockSigner
                self._serializers[keys] = kept
        return kept

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the cookie as Flask does, unless the request was refused (see the class)."""
        if response.status_code in REJECTED and not self._may_write(app, response):
            return
        super().save_session(app, session, response)

    def _may_write(self, app: Flask, response: Response) -> bool:
        if response.status_code == 503:
            return False
        if request.cookies.get(self.get_cookie_name(app)):
            return True
        return request.headers.get("Sec-Fetch-Site") == "same-origin"


def register(app: Flask) -> None:
    """Install the handlers and the session interface."""
    app.session_interface = GuardedSessionInterface()
    app.register_error_handler(CSRFError, _csrf_expired)
    app.register_error_handler(HTTPException, _http_error)
    for outage in OUTAGES:
        app.register_error_handler(outage, _outage)
    app.register_error_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)
