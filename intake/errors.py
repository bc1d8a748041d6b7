"""Error pages that leak nothing, and the expired-form page that keeps every answer."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500}
# Credentials are never echoed back into a page: they are typed again.
NOT_ECHOED = {"csrf_token", "password", "current_password", "confirm", "code", "recovery_code"}


def _csrf_expired(error: CSRFError) -> tuple[str, int]:
    """The token was missing or expired: show the answers back, ready to send again."""
    fields = [
        (name, value)
        for name, values in request.form.lists()
        if name not in NOT_ECHOED
        for value in values
    ]
    return (
        render_template(
            "errors/csrf.html",
            fields=fields,
            action=request.full_path.rstrip("?"),
            token=generate_csrf(),
        ),
        400,
    )


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


def register(app: Flask) -> None:
    """Install the handlers."""
    app.register_error_handler(CSRFError, _csrf_expired)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
