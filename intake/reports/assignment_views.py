"""Caseworkers at /personal/: who handles a report (issue 13 §2)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField

from intake.accounts import guard
from intake.accounts import service as accounts
from intake.extensions import db
from intake.reports import assignment
from intake.reports.models import Report

bp = Blueprint("casework", __name__, url_prefix="/personal")
bp.before_request(guard.require_staff)


class AssignForm(FlaskForm):
    """The caseworker who handles a report (the choices: members of its inbox)."""

    # Checked against the inbox's members by assignment.assign, with a Swedish message.
    assignee = SelectField(_l("Handläggare"), validate_choice=False)


def get_member_report(report_id: str) -> Report:
    """A live report of one of the user's inboxes; 404 otherwise (as on the report page)."""
    report = db.session.get(Report, report_id)
    if report is None or report.purged_at is not None:
        abort(404)
    if report.inbox_id not in accounts.member_inbox_ids(current_user):
        abort(404)  # a non-member must not learn that the report exists
    return report


def _form(report: Report, **kw: object) -> AssignForm:
    form = AssignForm(**kw)
    form.assignee.choices = [("", _("Ingen handläggare"))] + [
        (str(u.id), u.name or u.email) for u in assignment.assignable(report.inbox_id)
    ]
    return form


def _page(report: Report, form: AssignForm) -> str:
    current = assignment.names([report.assigned_to_id]).get(report.assigned_to_id or 0)
    return render_template("staff/assign.html", report=report, form=form, current=current)


@bp.get("/anmalan/<report_id>/handlaggare")
def assign_form(report_id: str) -> str:
    """Choose the caseworker who handles the report."""
    report = get_member_report(report_id)
    chosen = "" if report.assigned_to_id is None else str(report.assigned_to_id)
    return _page(report, _form(report, formdata=None, assignee=chosen))


@bp.post("/anmalan/<report_id>/handlaggare")
def assign(report_id: str) -> str | Response:
    """Assign, re-assign or un-assign the report; back to the inbox."""
    report = get_member_report(report_id)
    form = _form(report)
    if request.form.get("mig") == "1":  # the "Tilldela mig" button
        form.assignee.data = str(current_user.id)
    if not form.validate():
        return _page(report, form)
    chosen = form.assignee.data or ""
    try:
        if chosen and not (chosen.isascii() and chosen.isdigit() and len(chosen) < 10):
            raise assignment.AssignmentError(_("Välj en handläggare i listan."))
        assignment.assign(report, int(chosen) if chosen else None, user=current_user)
    except assignment.AssignmentError as error:
        form.assignee.errors = [str(error)]
        return _page(report, form)
    names = assignment.names([report.assigned_to_id])
    if report.assigned_to_id is None:
        flash(_("Anmälan %(ref)s har ingen handläggare.", ref=report.reference), "info")
    else:
        flash(
            _(
                "Anmälan %(ref)s handläggs av %(name)s.",
                ref=report.reference,
                name=names.get(report.assigned_to_id, ""),
            ),
            "info",
        )
    return redirect(url_for("staff.inbox"))
