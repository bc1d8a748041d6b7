"""Signing in with e-legitimation from the orosanmälan journey (works without JavaScript).

A POST from the first step stores a fresh state, nonce and PKCE verifier in the resident's
encrypted draft and redirects to the broker; the broker sends the resident back to `retur`,
where the answer is checked (intake.reports.eid) and the verified name and personnummer are
kept in the draft. The Flask session only ever holds the draft's handle; no claim is logged,
only the failure's kind.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from intake import clock
from intake.extensions import db
from intake.reports import choices as c
from intake.reports import drafts, eid, journey
from intake.reports.models import Inbox
from intake.reports.routing import NoInboxError, destination

bp = Blueprint("eid", __name__, url_prefix="/orosanmalan/e-legitimation")
DRAFT_KEY = "draft"  # the same session key as intake.reports.views


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    eid.init_app(state.app)


@bp.after_app_request
def _allow_the_broker(response: Response) -> Response:
    """Let the sign-in form's redirect reach the broker: CSP form-action covers redirects.

    Runs after intake.web's security headers (after-request hooks run in reverse order of
    registration, and this blueprint is registered before them)."""
    found = broker()
    policy = response.headers.get("Content-Security-Policy", "")
    if found is None or request.blueprint not in {"reports", "eid", "mine"}:
        return response
    if "form-action 'self'" in policy:
        origins = " ".join(found.origins())
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origins}"
        )
    return response


def broker() -> eid.Broker | None:
    """This app's broker, or None when e-legitimation is off."""
    return eid.broker_of(current_app)


def enabled() -> bool:
    """Whether residents are offered e-legitimation at all."""
    return broker() is not None


def pinned_form(formdata: MultiDict[str, Any], verified: dict[str, str] | None) -> Any:
    """Posted step data with the verified name put back: changes to it are ignored."""
    if not verified:
        return formdata
    copy = MultiDict(formdata)
    copy.setlist("reporter_name", [verified["name"]])
    return copy


def identity_to_seal(answers: dict[str, Any], verified: dict[str, str] | None) -> Any:
    """The verified identity to seal with the report (none for an anonymous report)."""
    if not verified or answers.get("anonymous") == c.YES:
        return None
    return verified


def must_sign_in(answers: dict[str, Any], verified: dict[str, str] | None) -> bool:
    """Whether this report may not be sent until the reporter signs in with e-legitimation."""
    if verified or not enabled() or answers.get("reporter_type") != c.REPORTER_PROFESSIONAL:
        return False
    try:
        target = destination(answers)
    except NoInboxError:
        return False
    inbox = db.session.get(Inbox, target.inbox_id)
    return bool(inbox and inbox.require_eid_professional)


def _redirect_uri() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(".back")


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["DRAFT_LIFETIME_SECONDS"])


def _draft() -> tuple[drafts.DraftHandle, drafts.DraftState]:
    handle = drafts.DraftHandle.from_cookie(session.get(DRAFT_KEY))
    state = drafts.load(handle) if handle else None
    if handle is None or state is None or state.receipt is not None:
        return handle or drafts.new_handle(), drafts.DraftState()
    return handle, state


def _keep(handle: drafts.DraftHandle, state: drafts.DraftState) -> None:
    drafts.save(handle, state, lifetime=_lifetime())
    # A browser-session cookie like the journey's own (intake.reports.views._keep): closing
    # the browser forgets the draft; the row expires on its own.
    session[DRAFT_KEY] = handle.to_cookie()
    session.permanent = False


CHECK = "granska"  # back to the check page rather than a step


def _back_to(slug: str | None) -> str:
    return slug if slug in journey.BY_SLUG or slug == CHECK else journey.STEPS[0].slug


def _step_url(slug: str) -> str:
    return url_for("reports.check") if slug == CHECK else url_for("reports.step", slug=slug)


@bp.post("/logga-in")
def sign_in() -> tuple[str, int] | Response:
    """Send the resident to the broker; the draft waits, encrypted, for the answer."""
    found = broker()
    if found is None:
        return redirect(url_for("reports.start"))
    handle, state = _draft()
    pending = eid.Pending.new(back_to=_back_to(request.form.get("steg")))
    try:
        url = found.authorization_url(pending, redirect_uri=_redirect_uri(), now=clock.now())
    except eid.EidError as error:
        _keep(handle, state)
        return _failure(error, state, pending.back_to)
    state.eid_pending = pending.to_dict()
    _keep(handle, state)
    return redirect(url, code=303)


@bp.get("/retur")
def back() -> tuple[str, int] | Response:
    """The broker's answer: check it, and keep the verified name and personnummer."""
    found = broker()
    if found is None:
        return redirect(url_for("reports.start"))
    handle, state = _draft()
    pending = eid.Pending.from_dict(state.eid_pending)
    # One answer per sign-in: a replayed or second answer finds nothing waiting.
    state.eid_pending = None
    back_to = pending.back_to if pending else journey.STEPS[0].slug
    try:
        identity = found.finish(
            request.args, pending, redirect_uri=_redirect_uri(), now=clock.now()
        )
    except eid.EidError as error:
        _keep(handle, state)
        return _failure(error, state, back_to)
    state.verified = identity.to_dict()
    if state.answers.get("reporter_name") or "dina-uppgifter" in state.done:
        state.answers["reporter_name"] = identity.name
    _keep(handle, state)
    flash(_("Du är inloggad med e-legitimation."), "info")
    return redirect(_step_url(back_to), code=303)


TITLES: dict[str, Any] = {
    "unavailable": _l("Inloggningen svarar inte just nu"),
    "cancelled": _l("Du avbröt inloggningen"),
    "acr": _l("E-legitimationen räcker inte här"),
    "personnummer": _l("Vi fick inte ditt personnummer"),
    "name": _l("Vi fick inte ditt namn"),
}
MESSAGES: dict[str, Any] = {
    "unavailable": _l(
        "Tjänsten för e-legitimation svarade inte i tid. Det är inte ditt fel. "
        "Försök igen om en stund."
    ),
    "cancelled": _l("Du är inte inloggad. Du kan försöka igen."),
    "acr": _l(
        "Inloggningen gjordes inte med en e-legitimation på tillitsnivå 3, till exempel "
        "BankID eller Freja eID+. Försök igen med en sådan."
    ),
    "personnummer": _l(
        "Inloggningstjänsten skickade inget giltigt personnummer, så vi kan inte visa att det "
        "är du. Försök igen, eller kontakta socialtjänsten."
    ),
    "name": _l(
        "Inloggningstjänsten skickade inte ditt namn, så vi kan inte visa att det är du. "
        "Försök igen, eller kontakta socialtjänsten."
    ),
}
DEFAULT_TITLE = _l("Inloggningen kunde inte kontrolleras")
DEFAULT_MESSAGE = _l(
    "Svaret från inloggningen gick inte att kontrollera, hörde till en annan inloggning eller "
    "hade redan använts. Av säkerhetsskäl godtar vi det inte. Försök logga in igen."
)
STATUS = {"unavailable": 503, "cancelled": 200}


def _failure(error: eid.EidError, state: drafts.DraftState, back_to: str) -> tuple[str, int]:
    # The failure's kind only: never a claim, a token or a code.
    current_app.logger.warning("e-legitimation failed: %s", error.kind)
    g.language_return = _step_url(back_to)  # not this URL: its query holds code and state
    page = render_template(
        "reports/eid_failure.html",
        title=TITLES.get(error.kind, DEFAULT_TITLE),
        message=MESSAGES.get(error.kind, DEFAULT_MESSAGE),
        back_to=back_to,
        required=must_sign_in(state.answers, None),
    )
    return page, STATUS.get(error.kind, 400)
