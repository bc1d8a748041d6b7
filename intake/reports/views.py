"""The resident's orosanmälan journey at /orosanmalan (works without JavaScript)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from intake import ratelimit
from intake.extensions import db
from intake.i18n import gettext as _
from intake.reports import drafts, eid_views, journey, service
from intake.reports.forms import CheckForm

bp = Blueprint("reports", __name__, url_prefix="/orosanmalan")
DRAFT_KEY = "draft"


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["DRAFT_LIFETIME_SECONDS"])


def _current(*, journey_only: bool = False) -> tuple[drafts.DraftHandle, drafts.DraftState]:
    """This resident's draft handle and state; a fresh empty one if none."""
    handle = drafts.DraftHandle.from_cookie(session.get(DRAFT_KEY))
    state = drafts.load(handle) if handle else None
    if handle is None or state is None:
        return drafts.new_handle(), drafts.DraftState()
    if journey_only and state.receipt is not None:
        # A report was just sent from this browser: a new journey starts empty.
        return handle, drafts.DraftState()
    return handle, state


def _remember(handle: drafts.DraftHandle, state: drafts.DraftState) -> None:
    drafts.save(handle, state, lifetime=_lifetime())
    _keep(handle)


def _keep(handle: drafts.DraftHandle) -> None:
    """Put the handle in the session cookie, which lives only as long as the browser session:
    on a shared computer, closing the browser forgets the draft (its row expires on its own,
    DRAFT_LIFETIME_SECONDS after the last save)."""
    # Set at every save, so the cookie is signed again and its age counts from the last step.
    session[DRAFT_KEY] = handle.to_cookie()
    if session.permanent:
        session.permanent = False  # a cookie from before: no Expires from now on


def _step_limit() -> str:
    return str(current_app.config["RATELIMIT_STEP"])


def _submit_limit() -> str:
    return str(current_app.config["RATELIMIT_SUBMIT"])


@bp.get("/")
def start() -> str:
    """Before you start: acute help, office hours, anonymity, partsinsyn, one person per report."""
    return render_template("reports/start.html", first=journey.STEPS[0])


@bp.route("/<slug>", methods=["GET", "POST"])
@ratelimit.on_posts(_step_limit)
def step(slug: str) -> str | Response:
    """One page of questions; valid answers are kept in the encrypted draft."""
    current = journey.BY_SLUG.get(slug)
    if current is None:
        abort(404)
    handle, state = _current(journey_only=True)
    if not current.applies(state.answers):
        return redirect(url_for(".check"))
    missing = journey.first_missing(state.answers, state.done)
    earlier = [s.slug for s in journey.applicable(state.answers)]
    if missing is not None and earlier.index(missing.slug) < earlier.index(current.slug):
        return redirect(url_for(".step", slug=missing.slug))
    if request.method == "GET":
        form = journey.bind(current, state.answers)
        return _render_step(current, form, state, validated=False)
    # A verified name is not the resident's to change: posted edits of it are ignored.
    posted = eid_views.pinned_form(request.form, state.verified)
    given = journey.posted_answers(current, posted, state.answers)
    if given is None:
        form = journey.bind(current, state.answers, posted)
        form.validate()
        return _render_step(current, form, state, validated=True)
    kept = {k: v for k, v in state.answers.items() if k not in journey.FIELDS[current.slug]}
    state.answers = journey.prune({**kept, **given})
    state.done = [s for s in state.done if s != current.slug] + [current.slug]
    # Validated whole here, once: the check page and the final submit trust the mark.
    state.checked = journey.mark_checked(state.answers, state.done)
    _remember(handle, state)
    following = journey.next_step(current.slug, state.answers)
    if request.args.get("granska") or following is None:
        missing = journey.first_missing(state.answers, state.done)
        if missing is not None:
            return redirect(url_for(".step", slug=missing.slug))
        return redirect(url_for(".check"))
    return redirect(url_for(".step", slug=following.slug))


def _render_step(
    current: journey.Step, form: object, state: drafts.DraftState, *, validated: bool
) -> str:
    steps = journey.applicable({**state.answers, **getattr(form, "data", {})})
    number = next((i for i, s in enumerate(steps, 1) if s.slug == current.slug), 1)
    return render_template(
        f"reports/step_{current.slug.replace('-', '_')}.html",
        form=form,
        step=current,
        number=number,
        total=len(steps),
        validated=validated,
        answers=state.answers,
        back=_previous(current, state),
        verified=state.verified,
        eid_enabled=eid_views.enabled(),
    )


def _previous(current: journey.Step, state: drafts.DraftState) -> str:
    steps = journey.applicable(state.answers)
    slugs = [s.slug for s in steps]
    if current.slug in slugs and slugs.index(current.slug) > 0:
        return url_for(".step", slug=slugs[slugs.index(current.slug) - 1])
    return url_for(".start")


@bp.route("/granska", methods=["GET", "POST"])
@ratelimit.on_posts(_submit_limit)
def check() -> str | Response:
    """Check your answers, then send: validated again, routed, sealed, stored, notified.

    Sending is idempotent per draft: the draft is swapped for its receipt by a compare-and-set
    in the report's own transaction, so of any number of presses racing with one cookie exactly
    one stores a report; the others, and any press after it, are shown the same receipt."""
    handle, state = _current()
    if state.receipt is not None:
        if request.method == "POST":
            return redirect(url_for(".receipt"), code=303)
        state = drafts.DraftState()  # a report was just sent: a new journey starts empty
    missing = journey.first_missing(state.answers, state.done)
    if missing is None and not journey.checked(state.answers, state.checked):
        missing = journey.incomplete(state.answers)
    if missing is not None:
        if state.answers:
            flash(_("Några svar saknas eller behöver ändras innan du kan skicka."), "error")
        return redirect(url_for(".step", slug=missing.slug))
    form = CheckForm()
    must_sign_in = eid_views.must_sign_in(state.answers, state.verified)
    if request.method == "GET" or not form.validate() or form.website.data or must_sign_in:
        if form.website.data:
            form.website.errors = [_("Något gick fel. Försök skicka igen.")]
        if must_sign_in and request.method == "POST":
            flash(
                _(
                    "Yrkesverksamma behöver logga in med e-legitimation innan anmälan "
                    "kan skickas hit. Dina svar är kvar."
                ),
                "error",
            )
        return render_template(
            "reports/check.html",
            form=form,
            sections=journey.summary(state.answers),
            verified=eid_views.identity_to_seal(state.answers, state.verified),
            must_sign_in=must_sign_in,
        )

    def claim(receipt: service.Receipt) -> bool:
        # The draft now holds only the receipt (still encrypted under the cookie's key), so
        # the follow-up code is never in the cookie and can be shown exactly once.
        sent = drafts.DraftState(
            receipt={
                "reference": receipt.reference,
                "received_at": receipt.received_at.isoformat(),
                "acute": receipt.acute,
                "followup_code": receipt.followup_code,
            }
        )
        return drafts.claim(handle, state, sent, lifetime=_lifetime())

    try:
        service.submit(
            state.answers,
            base_url=current_app.config["BASE_URL"],
            commit=False,
            claim=claim,
            verified=eid_views.identity_to_seal(state.answers, state.verified),
        )
    except service.AlreadySent:
        # Another press of the button sent this draft (or changed it) first: nothing written.
        db.session.rollback()
        sent = _current()[1].receipt is not None
        return redirect(url_for(".receipt" if sent else ".check"), code=303)
    db.session.commit()  # the report, its notification and the receipt: one transaction
    _keep(handle)
    return redirect(url_for(".receipt"), code=303)


@bp.get("/kvitto")
def receipt() -> str | Response:
    """The confirmation: reference, time received and the follow-up code (once); no content."""
    handle, state = _current()
    if state.receipt is None:
        return redirect(url_for(".start"))
    shown = dict(state.receipt)
    if shown.get("followup_code"):
        state.receipt["followup_code"] = None
        _remember(handle, state)
    return render_template("reports/receipt.html", receipt=shown)


@bp.post("/avbryt")
def discard() -> Response:
    """Throw the draft away on purpose."""
    handle = drafts.DraftHandle.from_cookie(session.get(DRAFT_KEY))
    if handle is not None:
        drafts.discard(handle)
        db.session.commit()
    session.pop(DRAFT_KEY, None)
    flash(_("Dina svar är raderade."), "info")
    return redirect(url_for(".start"))
