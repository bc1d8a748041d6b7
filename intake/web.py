"""What every page shares: blueprints, language, security headers, template helpers."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_datetime
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.globals import request_ctx
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response
from wtforms.csrf.core import CSRFTokenField
from wtforms.widgets import HiddenInput

from intake import (
    clock,
    database,
    formparts,
    gallring,
    i18n,
    installation,
    law,
    logo,
    outbound,
    outbox,
    phone,
    textguard,
)
from intake.followup import wording

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

site = Blueprint("site", __name__)


class RowId(IntegerConverter):
    """`<int:…>` in a URL is a row id: past the 32-bit id columns it is a 404, not a 500."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 0, max: int = 2**31 - 1) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


class HiddenWithoutId(HiddenInput):
    """The CSRF token's input, without an id: nothing refers to it, and a page with two forms
    would otherwise repeat `id="csrf_token"` (invalid HTML)."""

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("id", False)
        return super().__call__(field, **kwargs)


@site.get("/")
def home() -> str:
    """The front page: what residents can do here."""
    return render_template("home.html")


@site.get("/sprak/<code>")
def language(code: str) -> Response:
    """Switch the language and go back to the page the resident came from."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.args.get("next", "/")
    parts = urlsplit(target)
    # Only paths on this site: never an open redirect, never a line break into a header.
    unsafe = parts.scheme or parts.netloc or textguard.refused(target, multiline=False)
    if unsafe or not target.startswith("/") or target[1:2] in ("/", "\\"):
        target = url_for("site.home")
    return redirect(target)


@site.get("/favicon.ico")
def favicon() -> Response:
    """The icon browsers ask for at the root, from our static folder."""
    assert current_app.static_folder is not None
    icon = Path(current_app.static_folder) / "favicon.ico"
    response = Response(icon.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@site.get("/logotyp.svg")
def municipal_logo() -> Response:
    """The municipality's logo (MUNICIPAL_LOGO), never able to run script."""
    return logo.response()


@site.get("/lamna")
def leave() -> Response:
    """Quick exit: forget this browser's session, then show a neutral site."""
    session.clear()
    response = redirect("https://www.smhi.se/")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@site.get("/tillganglighet")
def accessibility() -> str:
    """The accessibility statement (tillgänglighetsredogörelse, DOS-lagen)."""
    from intake import accessibility as statement

    return render_template("accessibility.html", statement=statement)


@site.get("/personuppgifter")
def privacy() -> str:
    """How personal data is handled, per service (GDPR art. 13 and 14)."""
    return render_template("privacy.html")


@site.get("/kakor")
def cookies() -> str:
    """Which cookies exist, why they are needed and how long they last."""
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return render_template(
        "cookies.html",
        cookie_name=current_app.config["SESSION_COOKIE_NAME"],
        draft_hours=max(1, round(lifetime / 3600)),
    )


def select_locale() -> str:
    """The resident's chosen language, Swedish by default."""
    chosen = session.get("lang")
    languages = current_app.config["LANGUAGES"]
    return str(chosen) if chosen in languages else str(languages[0])


# Responses that set their own, stricter policy and may be cached (not pages).
OWN_POLICY = {"site.municipal_logo"}
CACHEABLE = {"static", "site.favicon", *OWN_POLICY}


def _security_headers(response: Response) -> Response:
    if request.endpoint not in OWN_POLICY:
        response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint not in CACHEABLE:
        # Answers may be on any page: never keep a copy in a shared or back-button cache.
        response.headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def _local_time(moment: datetime | str, fmt: str = "d MMMM y 'kl.' HH:mm") -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return _formatted(moment, fmt, i18n.language())


@functools.lru_cache(maxsize=4096)
def _formatted(moment: datetime, fmt: str, language: str) -> str:
    # Babel itself, without Flask-Babel's lookups per call (a third of the cost; issue 14):
    # the same text, since the app's time zone is Stockholm's (BABEL_DEFAULT_TIMEZONE).
    return format_datetime(moment.astimezone(clock.STOCKHOLM), fmt, locale=language)


def _language_links() -> list[dict[str, str]]:
    # A view may name where the language link returns to instead of this URL (the
    # e-legitimation callback's failure pages: its query holds the broker's code and state).
    here = g.get("language_return") or (request.full_path.rstrip("?") if request else "/")
    names = {"sv": "Svenska", "en": "English"}
    return [
        {"code": code, "name": names[code], "url": url_for("site.language", code=code, next=here)}
        for code in current_app.config["LANGUAGES"]
    ]


@functools.lru_cache(maxsize=256)
def _built_url(where: tuple[Any, ...], endpoint: str, filename: str | None) -> str:
    # `where` (the app's URL map, script root, host, subdomain, blueprint) is all such a
    # relative URL depends on.
    return url_for(endpoint) if filename is None else url_for(endpoint, filename=filename)


def _template_url_for(endpoint: str, **values: Any) -> str:
    """Templates' `url_for`, keeping the links every page repeats: a relative URL without
    arguments, or of a static file, is built once per process (the layout builds a dozen on
    every page, at several µs each). Others are built every time, so no token or id a URL
    carries is kept beyond its request."""
    adapter = request_ctx.url_adapter if has_request_context() else None
    filename = values.get("filename") if endpoint == "static" else None
    kept = not values or (isinstance(filename, str) and len(values) == 1)
    if adapter is None or not kept:
        return url_for(endpoint, **values)
    blueprint = request.blueprint if endpoint[:1] == "." else None
    where = (adapter.map, adapter.script_name, adapter.server_name, adapter.subdomain, blueprint)
    return _built_url(where, endpoint, filename)


def _gallring_decision(information_class: str) -> gallring.RetentionDecision | None:
    """The gallringsbeslut valid today for a class: pages state only the real retention."""
    return gallring.current(information_class, on=clock.local_date(clock.now()))


def register(app: Flask) -> None:
    """Blueprints, language helpers and headers."""
    from intake.accounts.admin_views import bp as admin
    from intake.accounts.views import bp as staff_auth
    from intake.dialogues import ics
    from intake.dialogues.staff_views import bp as organiser
    from intake.dialogues.views import bp as dialogues
    from intake.followup.views import bp as followup_staff
    from intake.followup.views import public as promise
    from intake.reports.assignment_views import bp as casework
    from intake.reports.casefile_views import bp as casefile
    from intake.reports.discard_views import bp as discard
    from intake.reports.eid_views import bp as eid
    from intake.reports.followup_views import bp as followup
    from intake.reports.mine_views import bp as mine
    from intake.reports.staff_views import bp as staff
    from intake.reports.views import bp as reports

    database.configure(app)
    logo.check(app)
    installation.init_app(app)
    app.url_map.converters["int"] = RowId
    CSRFTokenField.widget = HiddenWithoutId()
    for blueprint in (
        site,
        reports,
        discard,
        eid,
        followup,
        mine,
        dialogues,
        promise,
        staff_auth,
        staff,
        casefile,
        casework,
        organiser,
        followup_staff,
        admin,
    ):
        app.register_blueprint(blueprint)
    outbox.ATTACHMENTS["ics"] = ics.attachment
    # After the CSRF check (a form without a valid token gets the expired page, which keeps
    # the answers), before every blueprint's own: no control character reaches a view.
    app.before_request(textguard.check)
    app.after_request(_security_headers)
    app.jinja_env.filters["local_time"] = _local_time
    app.jinja_env.filters["commitment_text"] = wording.displayed
    app.jinja_env.filters["phones"] = phone.phones
    app.jinja_env.globals["language_links"] = _language_links
    app.jinja_env.globals["current_locale"] = i18n.language
    i18n.install(app)
    app.jinja_env.globals["law"] = law
    app.jinja_env.globals["gallring_decision"] = _gallring_decision
    app.jinja_env.globals["outbound"] = outbound
    app.jinja_env.globals["formparts"] = formparts
    app.jinja_env.globals["url_for"] = _template_url_for
