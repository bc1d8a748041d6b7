"""/orosanmalan/mina-anmalningar: a verified reporter reads återkoppling and the caseworkers'
questions after e-legitimation, and answers the questions.

The sign-in reuses intake.reports.eid (PKCE, state, nonce, the ID token checks) with its own
return address. The round-trip secrets and, afterwards, the verified identity live in an
encrypted draft row whose key only this browser's session cookie holds (intake.reports.drafts),
as in the report journey; signing out or closing the browser forgets them. What is shown comes
from intake.reports.feedback and intake.reports.channel: only messages tagged with the
signed-in person's personnummer (intake.reports.verified_reporter); a report without such a
message is "not found" for them, whoever else it belongs to. An answer goes through
channel.answer, sealed to the inbox exactly as one sent with the follow-up code.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from intake import clock
from intake.accounts.forms import EmptyForm
from intake.extensions import db
from intake.reports import channel, drafts, eid, eid_views, feedback
from intake.reports.channel_forms import ReplyForm
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


def _signed_in() -> str | None:
    """The personnummer signed in in this browser, or None."""
    _handle, state = _state()
    return feedback.verified_personnummer(state.verified if state else None)


@bp.get("/")
def index() -> str:
    """The signed-in reporter's questions and återkoppling, or the sign-in button."""
    personnummer = _signed_in()
    return render_template(
        "reports/mine.html",
        enabled=eid_views.enabled(),
        signed_in=personnummer is not None,
        conversations=channel.conversations_for(personnummer) if personnummer else [],
        messages=feedback.for_person(personnummer) if personnummer else [],
        decision_labels=DECISION_LABELS,
        form=EmptyForm(),
    )


def _own_conversation(report_id: str, personnummer: str) -> channel.Conversation:
    """The signed-in reporter's conversation on a report; 404 for anyone else's or none."""
    found = channel.conversation_for(report_id, personnummer)
    if found is None:
        abort(404)
    return found


@bp.route("/fragor/<report_id>", methods=["GET", "POST"])
def conversation(report_id: str) -> str | Response:
    """One report's questions to the signed-in reporter, and the form to answer them."""
    personnummer = _signed_in()
    if personnummer is None:
        return redirect(url_for(".index"), code=303)
    found = _own_conversation(report_id, personnummer)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            channel.answer_signed_in(found.report_id, personnummer, form.text.data)
        except channel.ChannelError as error:  # purged meanwhile: say so, keep the text
            form.text.errors = [str(error)]
        else:
            flash(_("Tack. Ditt svar är skickat till socialtjänsten."), "info")
            return redirect(url_for(".conversation", report_id=found.report_id), code=303)
    return render_template("reports/mine_conversation.html", conversation=found, form=form)


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
    g.language_return = url_for(".index")  # not this URL: its query holds code and state
    page = render_template(
        "reports/mine_failure.html",
        title=eid_views.TITLES.get(error.kind, eid_views.DEFAULT_TITLE),
        message=eid_views.MESSAGES.get(error.kind, eid_views.DEFAULT_MESSAGE),
    )
    return page, eid_views.STATUS.get(error.kind, 400)
