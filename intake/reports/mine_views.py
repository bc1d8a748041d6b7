"""/orosanmalan/mina-anmalningar: a verified reporter reads återkoppling after e-legitimation.

The sign-in reuses intake.reports.eid (PKCE, state, nonce, the ID token checks) with its own
return address. The round-trip secrets and, afterwards, the verified identity live in an
encrypted draft row whose key only this browser's session cookie holds (intake.reports.drafts),
as in the report journey; signing out or closing the browser forgets them. What is shown comes
from intake.reports.feedback: only messages tagged with the signed-in person's personnummer.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from intake import clock
from intake.accounts.forms import EmptyForm
from intake.extensions import db
from intake.reports import drafts, eid, eid_views, feedback
from intake.reports.staff_forms import DECISION_LABELS

bp = Blueprint("mine", __name__, url_prefix="/orosanmalan/mina-anmalningar")
SESSION_KEY = "mine"
LIFETIME = timedelta(minutes=20)


def _redirect_uri() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(".back")


def _state() -> tuple[drafts.DraftHandle | None, drafts.DraftState | None]:
    handle = drafts.DraftHandle.from_cookie(session.get(SESSION_KEY))
    return handle, (drafts.load(handle) if handle else None)


def _keep(handle: drafts.DraftHandle, state: drafts.DraftState) -> None:
    drafts.save(handle, state, lifetime=LIFETIME)
    session[SESSION_KEY] = handle.to_cookie()
    session.permanent = False


@bp.get("/")
def index() -> str:
    """The signed-in reporter's återkoppling, or the sign-in button."""
    _handle, state = _state()
    personnummer = feedback.verified_personnummer(state.verified if state else None)
    return render_template(
        "reports/mine.html",
        enabled=eid_views.enabled(),
        signed_in=personnummer is not None,
        messages=feedback.for_person(personnummer) if personnummer else [],
        decision_labels=DECISION_LABELS,
        form=EmptyForm(),
    )


@bp.post("/logga-in")
def sign_in() -> tuple[str, int] | Response:
    """Send the reporter to the broker."""
    found = eid_views.broker()
    if found is None or not EmptyForm().validate():
        return redirect(url_for(".index"))
    handle, state = drafts.new_handle(), drafts.DraftState()
    pending = eid.Pending.new(back_to="mine")
    try:
        url = found.authorization_url(pending, redirect_uri=_redirect_uri(), now=clock.now())
    except eid.EidError as error:
        return _failure(error)
    state.eid_pending = pending.to_dict()
    _keep(handle, state)
    return redirect(url, code=303)


@bp.get("/retur")
def back() -> tuple[str, int] | Response:
    """The broker's answer: checked as in the report journey; keeps the verified identity."""
    found = eid_views.broker()
    handle, state = _state()
    if found is None or handle is None or state is None:
        return redirect(url_for(".index"))
    pending = eid.Pending.from_dict(state.eid_pending)
    state.eid_pending = None  # one answer per sign-in
    try:
        identity = found.finish(
            request.args, pending, redirect_uri=_redirect_uri(), now=clock.now()
        )
    except eid.EidError as error:
        _keep(handle, state)
        return _failure(error)
    state.verified = identity.to_dict()
    _keep(handle, state)
    return redirect(url_for(".index"), code=303)


@bp.post("/logga-ut")
def sign_out() -> Response:
    """Forget the signed-in identity."""
    handle, _state_now = _state()
    if handle is not None and EmptyForm().validate():
        drafts.discard(handle)
        db.session.commit()
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".index"), code=303)


def _failure(error: eid.EidError) -> tuple[str, int]:
    current_app.logger.warning("e-legitimation failed: %s", error.kind)
    page = render_template(
        "reports/mine_failure.html",
        title=eid_views.TITLES.get(error.kind, eid_views.DEFAULT_TITLE),
        message=eid_views.MESSAGES.get(error.kind, eid_views.DEFAULT_MESSAGE),
    )
    return page, eid_views.STATUS.get(error.kind, 400)
