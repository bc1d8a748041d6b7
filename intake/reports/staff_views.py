"""Caseworkers at /personal/: the dashboard, the inbox and the report page."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from intake import audit, clock, database
from intake.accounts import guard
from intake.accounts import service as accounts
from intake.accounts.forms import EmptyForm
from intake.crypto import custody
from intake.extensions import db
from intake.reports import (
    assignment,
    casenotes,
    caseview,
    channel,
    handling,
    inbox_list,
    journey,
    listing,
    moving,
    service,
    verified_reporter,
)
from intake.reports.channel_forms import QuestionForm
from intake.reports.models import Inbox, Report
from intake.reports.staff_forms import (
    DECISION_LABELS,
    AssessmentForm,
    CaseNoteForm,
    DecisionForm,
    MoveForm,
    OutcomeForm,
    RegisterForm,
)

bp = Blueprint("staff", __name__, url_prefix="/personal")
bp.before_request(guard.require_staff)


def _office_hours() -> tuple[time, time]:
    cfg = current_app.config
    return time.fromisoformat(cfg["OFFICE_OPENS"]), time.fromisoformat(cfg["OFFICE_CLOSES"])


def _deadlines(report: Report) -> handling.Deadlines:
    opens, closes = _office_hours()
    return handling.deadlines(
        report, today=clock.local_date(clock.now()), opens=opens, closes=closes
    )


def get_report(report_id: str, *options: ORMOption) -> tuple[Report, custody.InboxSecret]:
    """The report (loaded with `options`) and its unlocked inbox secret; 404 unless the user
    is a member of its inbox."""
    report = db.session.get(Report, report_id, options=options)
    if report is None:
        abort(404)
    try:
        secret = guard.inbox_secret(report.inbox_id)
    except accounts.AccessError:
        abort(404)  # not "forbidden": a non-member must not learn that the report exists
    return report, secret


def get_live_report(report_id: str) -> tuple[Report, custody.InboxSecret]:
    """Like get_report, for the handling actions: a purged report has only its tombstone."""
    found, secret = get_report(report_id)
    if found.purged_at is not None:
        abort(404)
    return found, secret


@bp.get("/")
def dashboard() -> str:
    """Where each role starts."""
    inbox_ids, inboxes = guard.my_inbox_ids(), guard.my_inboxes()
    page = (
        listing.list_reports(inbox_ids, status=None, inbox_id=None, acute=None)
        if inbox_ids
        else None
    )
    due = [
        r
        for r in (page.reports if page else [])
        if _deadlines(r).skydd_state in ("overdue", "due_today")
    ]
    return render_template("staff/dashboard.html", inboxes=inboxes, page=page, due=due)


@bp.get("/inkorg")
def inbox() -> str:
    """Reports of the user's inboxes: acute first, then newest; triage filters; keyset pages."""
    return render_template(
        "staff/inbox.html", **inbox_list.page_for(current_user, guard.my_inboxes())
    )


@bp.get("/anmalan/<report_id>")
def report(report_id: str) -> str:
    """One report, decrypted for this request only, with the handling forms."""
    # The reporter's additions come with the report (a join, not a round trip of their own).
    found, secret = get_report(report_id, joinedload(Report.messages))
    if found.purged_at is not None:
        return render_template("staff/report_purged.html", report=found)
    channel.seen_by_staff(found)  # committed with the view's audit row (_render_report)
    opened = handling.open_report(
        found, secret, user=current_user, readable_inboxes=guard.my_inbox_ids()
    )
    return _render_report(found, opened, secret)


def _outcome_form(found: Report, **kw: object) -> OutcomeForm:
    form = OutcomeForm(**kw)
    form.outcome.choices = [SelectChoice(o, o) for o in handling.adult_outcomes(found.inbox)]
    return form


def _register_form(found: Report, **kw: object) -> RegisterForm:
    return RegisterForm(received_on=clock.local_date(found.received_at), **kw)


def _render_report(
    found: Report, opened: handling.OpenedReport, secret: custody.InboxSecret, **forms: object
) -> str:
    verified = opened.verified
    move = MoveForm()
    move.inbox_id.choices = [(i.id, i.name) for i in moving.targets(found)]
    context = dict(
        report=found,
        opened=opened,
        answer_headings=caseview.headings(
            journey.summary(opened.answers), opened.answers.get("subject_type")
        ),
        deadlines=_deadlines(found),
        decision_labels=DECISION_LABELS,
        child_rules=handling.child_rules(found),
        feedback_possible=handling.feedback_possible(found, opened.answers, verified),
        feedback_unverified=handling.feedback_unverified(found, opened.answers)
        and verified is None,
        reporter_verified=verified_reporter.verified_personnummer(verified) is not None,
        assessment_form=forms.get("assessment_form") or AssessmentForm(formdata=None),
        decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
        outcome_form=forms.get("outcome_form") or _outcome_form(found, formdata=None),
        register_form=forms.get("register_form") or _register_form(found, formdata=None),
        move_form=move,
        empty_form=EmptyForm(),
        channel_messages=channel.for_staff(found, secret),
        channel_available=channel.available(found),
        question_form=forms.get("question_form") or QuestionForm(formdata=None),
        print_view=request.args.get("utskrift") == "1",
        notes=casenotes.history(found, secret),
        note_form=forms.get("note_form") or CaseNoteForm(formdata=None),
        actors=handling.actors(found),
        assignee=assignment.names([found.assigned_to_id]).get(found.assigned_to_id or 0),
    )
    # The view's audit row and what opening learned, committed once everything shown is read
    # (one transaction per request) and before anything is shown.
    database.commit_keeping_loaded()
    return render_template("staff/report.html", **context)


@bp.get("/anmalan/<report_id>/utskrift")
def print_report(report_id: str) -> str:
    """The printable report (for printing or saving as PDF for the case system); audited."""
    found, secret = get_report(report_id)
    if found.purged_at is not None:
        abort(404)
    opened = handling.open_report(
        found, secret, user=current_user, readable_inboxes=guard.my_inbox_ids()
    )
    audit.record(
        "report_printed",
        actor_id=current_user.id,
        actor=current_user.email,
        target_type="report",
        target_id=found.id,
    )
    context = dict(
        report=found,
        opened=opened,
        answer_headings=caseview.headings(
            journey.summary(opened.answers), opened.answers.get("subject_type")
        ),
        decision_labels=DECISION_LABELS,
        child_rules=handling.child_rules(found),
        notes=casenotes.history(found, secret),
        actors=handling.actors(found),
    )
    database.commit_keeping_loaded()
    return render_template("staff/report_print.html", **context)


def _done(found: Report, message: str) -> Response:
    flash(message, "info")
    return redirect(url_for(".report", report_id=found.id))


def again(found: Report, secret: custody.InboxSecret, **forms: object) -> str:
    """The report page again, with the forms given (their errors and typed values kept)."""
    opened = handling.open_report(
        found, secret, user=current_user, readable_inboxes=guard.my_inbox_ids()
    )
    return _render_report(found, opened, secret, **forms)


@bp.post("/anmalan/<report_id>/skyddsbedomning")
def assess(report_id: str) -> str | Response:
    """Record the omedelbar skyddsbedömning."""
    found, secret = get_live_report(report_id)
    form = AssessmentForm()
    if not form.validate():
        return again(found, secret, assessment_form=form)
    try:
        handling.record_assessment(found, form.note.data or "", found.inbox, user=current_user)
    except handling.HandlingError as error:
        form.note.errors = [str(error)]
        return again(found, secret, assessment_form=form)
    return _done(found, _("Skyddsbedömningen är registrerad."))


@bp.post("/anmalan/<report_id>/beslut")
def decide(report_id: str) -> str | Response:
    """Record the decision whether to open an investigation."""
    found, secret = get_live_report(report_id)
    form = DecisionForm()
    if not form.validate():
        return again(found, secret, decision_form=form)
    try:
        handling.record_decision(found, form.decision.data, form.decided_on.data, user=current_user)
    except handling.HandlingError as error:
        if not handling.child_rules(found):  # the page has no decision form for adults
            flash(str(error), "error")
            return redirect(url_for(".report", report_id=found.id))
        form.decision.errors = [str(error)]
        return again(found, secret, decision_form=form)
    return _done(found, _("Beslutet är registrerat."))


@bp.post("/anmalan/<report_id>/registrerad")
def register(report_id: str) -> str | Response:
    """Record that the report is in the case management system."""
    found, secret = get_live_report(report_id)
    form = _register_form(found)
    if not form.validate():
        return again(found, secret, register_form=form)
    try:
        handling.register_in_case_system(
            found, form.registered_on.data, form.case_reference.data.strip(), user=current_user
        )
    except handling.HandlingError as error:
        form.registered_on.errors = [str(error)]
        return again(found, secret, register_form=form)
    return _done(found, _("Anmälan är markerad som registrerad i verksamhetssystemet."))


@bp.post("/anmalan/<report_id>/handlaggning")
def outcome(report_id: str) -> str | Response:
    """Record the handling state of a report about an adult."""
    found, secret = get_live_report(report_id)
    form = _outcome_form(found)
    if not form.validate():
        return again(found, secret, outcome_form=form)
    try:
        handling.record_outcome(found, form.outcome.data, user=current_user)
    except handling.HandlingError as error:
        if handling.child_rules(found):  # the page has no outcome form for children
            flash(str(error), "error")
            return redirect(url_for(".report", report_id=found.id))
        form.outcome.errors = [str(error)]
        return again(found, secret, outcome_form=form)
    return _done(found, _("Handläggningsläget är registrerat."))


@bp.post("/anmalan/<report_id>/aterkoppling")
def feedback(report_id: str) -> Response:
    """Send the återkoppling the law allows to a professional reporter who asked for it."""
    found, secret = get_live_report(report_id)
    if not EmptyForm().validate():
        abort(400)
    answers = service.open_answers(found, secret.private)
    try:
        handling.send_feedback(
            found,
            answers,
            service.open_verified(found, secret.private),
            user=current_user,
            base_url=current_app.config["BASE_URL"],
        )
    except handling.HandlingError as error:
        flash(str(error), "error")
        return redirect(url_for(".report", report_id=found.id))
    return _done(
        found,
        _(
            "Återkopplingen finns nu för anmälaren under Mina anmälningar. Mejlet säger bara"
            " att ett meddelande väntar."
        ),
    )


@bp.post("/anmalan/<report_id>/fraga")
def ask(report_id: str) -> str | Response:
    """Send a question to the reporter through the channel (sealed to the reporter's key)."""
    found, secret = get_live_report(report_id)
    form = QuestionForm()
    if not form.validate():
        return again(found, secret, question_form=form)
    named = channel.named_reporter(found, secret)
    try:
        channel.ask(
            found,
            form.text.data,
            user=current_user,
            named=named,
            base_url=current_app.config["BASE_URL"],
        )
    except channel.ChannelError as error:
        form.text.errors = [str(error)]
        return again(found, secret, question_form=form)
    if named is not None:
        return _done(
            found,
            _(
                "Frågan är skickad. Anmälaren ser den med sin uppföljningskod eller under"
                " Mina anmälningar efter inloggning med e-legitimation."
            ),
        )
    return _done(found, _("Frågan är skickad. Anmälaren ser den med sin uppföljningskod."))


@bp.post("/anmalan/<report_id>/flytta")
def move(report_id: str) -> Response:
    """Move the report to another inbox of its kind (re-sealed to that inbox's key)."""
    found, secret = get_live_report(report_id)
    form = MoveForm()
    form.inbox_id.choices = [(i.id, i.name) for i in db.session.scalars(sa.select(Inbox))]
    target = db.session.get(Inbox, form.inbox_id.data) if form.validate() else None
    if target is None:
        flash(_("Välj en inkorg."), "error")
        return redirect(url_for(".report", report_id=found.id))
    try:
        moving.move(
            found, target, secret, user=current_user, base_url=current_app.config["BASE_URL"]
        )
    except handling.HandlingError as error:
        flash(str(error), "error")
        return redirect(url_for(".report", report_id=found.id))
    flash(_("Anmälan är flyttad till %(inbox)s.", inbox=target.name), "info")
    return redirect(url_for(".inbox"))
