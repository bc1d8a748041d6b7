"""The caseworker's case file at /personal/: case notes on a report, and finding a report by
reference or (where the law allows) by personnummer."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length

from intake import audit, ratelimit
from intake.accounts import guard
from intake.accounts import service as accounts
from intake.crypto import custody
from intake.extensions import db, limiter
from intake.reports import casenotes, search
from intake.reports.identity import IdentityNumberError
from intake.reports.models import Report
from intake.reports.staff_forms import CaseNoteForm
from intake.reports.staff_views import again, get_live_report

bp = Blueprint("casefile", __name__, url_prefix="/personal")
bp.before_request(guard.require_staff)

PERSONNUMMER_MESSAGES = {
    "checksum": _l("Personnumret stämmer inte. Kontrollera siffrorna."),
    "date": _l("Personnumret innehåller ett datum som inte finns."),
    "future": _l("Personnumret innehåller ett datum i framtiden."),
}
PERSONNUMMER_FORMAT = _l("Skriv personnumret som ÅÅÅÅMMDD-NNNN, till exempel 20120317-2387.")


@bp.post("/anmalan/<report_id>/anteckning")
def add_note(report_id: str) -> str | Response:
    """Append a case note (sealed to the inbox; the text never leaves the sealed column)."""
    found, secret = get_live_report(report_id)
    form = CaseNoteForm()
    if not form.validate():
        return again(found, secret, note_form=form)
    try:
        casenotes.add(found, form.case_note.data or "", user=current_user)
    except casenotes.CaseNoteError as error:
        form.case_note.errors = [str(error)]
        return again(found, secret, note_form=form)
    flash(_("Anteckningen är sparad."), "info")
    return redirect(url_for("staff.report", report_id=found.id, _anchor="h-notes"))


class SearchForm(FlaskForm):
    """Find a report: one of the two fields (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    referens = StringField(_l("Referensnummer"), validators=[Length(max=40)])
    personnummer = StringField(_l("Personnummer"), validators=[Length(max=20)])


def _search_limit() -> str:
    return str(current_app.config["RATELIMIT_STAFF_SEARCH"])


def _user_key() -> str:
    # Per caseworker; a visitor not signed in (sent to the login page anyway) per client.
    return f"staff-search:{current_user.get_id() or ratelimit.client_key()}"


@bp.get("/sok")
@limiter.limit(_search_limit, key_func=_user_key)
def find() -> str:
    """Search the caseworker's own inboxes; nothing outside them is ever asked."""
    form = SearchForm(request.args)
    inbox_ids = guard.my_inbox_ids()
    linkable = search.linkable_inboxes(inbox_ids)
    reference = (form.referens.data or "").strip()
    number = (form.personnummer.data or "").strip()
    results: list[Report] | None = None
    if reference or number:
        results = _run(form, reference, number, inbox_ids, linkable)
    return render_template(
        "staff/search.html", form=form, results=results, personnummer_allowed=bool(linkable)
    )


def _run(
    form: SearchForm, reference: str, number: str, inbox_ids: list[int], linkable: list[int]
) -> list[Report] | None:
    if not form.validate():
        return None
    if reference and number:
        form.referens.errors = [_("Sök på referensnummer eller personnummer, inte båda.")]
        return None
    if number and not linkable:
        form.personnummer.errors = [
            _("Dina inkorgar tar inte emot anmälningar som får sökas på personnummer.")
        ]
        return None
    if reference:
        if search.normalise_reference(reference) is None:
            form.referens.errors = [_("Skriv referensnumret som ÅÅÅÅ-XXXX-XXXX.")]
            return None
        results, kind = search.by_reference(reference, inbox_ids), "reference"
    else:
        try:
            results = search.by_personnummer(number, inbox_ids, _unlock)
        except IdentityNumberError as error:
            form.personnummer.errors = [
                str(PERSONNUMMER_MESSAGES.get(error.reason, PERSONNUMMER_FORMAT))
            ]
            return None
        kind = "personnummer"
    # What was searched for is never recorded: only how, and how many were found.
    audit.record(
        "report_search",
        actor_id=current_user.id,
        actor=current_user.email,
        by=kind,
        found=len(results),
    )
    db.session.commit()
    return results


def _unlock(inbox_id: int) -> custody.InboxSecret | None:
    try:
        return accounts.inbox_secret(current_user, guard.private_key(), inbox_id)
    except accounts.AccessError:
        return None  # a membership that no longer opens: that inbox is not searched
