"""Organisers at /personal/dialoger: dialogues, sign-ups, check-in, questions, held reports."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import appkeys, audit, clock
from intake.accounts import guard
from intake.accounts import service as accounts
from intake.accounts.forms import EmptyForm
from intake.accounts.models import ADMIN, ORGANISER
from intake.dialogues import attendance, service
from intake.dialogues import questions as asked
from intake.dialogues.forms import (
    THEMES,
    AnswerForm,
    AskerAnswerForm,
    DialogueForm,
    HeldReportForm,
    PromoteForm,
    WalkInForm,
    parse_local,
)
from intake.dialogues.models import (
    CANCELLED,
    CONFIRMED,
    DRAFT,
    WAITLISTED,
    WITHDRAWN,
    Dialogue,
    Question,
    Registration,
)
from intake.dialogues.views import links
from intake.extensions import db
from intake.reports.models import Inbox

bp = Blueprint("organiser", __name__, url_prefix="/personal/dialoger")
bp.before_request(guard.require_staff)


@bp.before_request
def _organisers_only() -> None:
    if current_user.is_authenticated and current_user.role not in (ORGANISER, ADMIN):
        abort(403)


def get_dialogue(dialogue_id: int) -> Dialogue:
    """A dialogue or 404."""
    dialogue = db.session.get(Dialogue, dialogue_id)
    if dialogue is None:
        abort(404)
    return dialogue


def _keys() -> dict[int, bytes]:
    return appkeys.keys()


def _log(action: str, dialogue: Dialogue, **details: object) -> None:
    audit.record(
        action,
        actor_id=current_user.id,
        actor=current_user.email,
        target_type="dialogue",
        target_id=dialogue.id,
        **details,
    )


def _local_input(moment: datetime | None) -> str:
    return moment.astimezone(clock.STOCKHOLM).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.get("/")
def index() -> str:
    """All dialogues with sign-up counts and whether the held report is in."""
    dialogues = db.session.scalars(sa.select(Dialogue).order_by(Dialogue.starts_at.desc())).all()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for dialogue_id, status, people in db.session.execute(
        sa.select(
            Registration.dialogue_id, Registration.status, sa.func.sum(Registration.party_size)
        ).group_by(Registration.dialogue_id, Registration.status)
    ):
        counts[dialogue_id][status] = int(people or 0)
    missing = {d.id for d in asked.ended_without_report(now=clock.now())}
    return render_template(
        "organiser/index.html", dialogues=dialogues, counts=counts, missing=missing
    )


def _apply(form: DialogueForm, dialogue: Dialogue) -> None:
    dialogue.title = form.title.data.strip()
    dialogue.description = (form.description.data or "").strip()
    dialogue.themes = list(form.themes.data or [])
    dialogue.hosts = list(form.hosts.data or [])
    dialogue.format = form.format.data
    dialogue.place = (form.place.data or "").strip()
    dialogue.address = (form.address.data or "").strip()
    dialogue.meeting_link = (form.meeting_link.data or "").strip()
    dialogue.capacity = form.capacity.data
    dialogue.signup_opens_at = (
        parse_local(form.signup_opens_at.data) if form.signup_opens_at.data else None
    )
    dialogue.signup_closes_at = (
        parse_local(form.signup_closes_at.data) if form.signup_closes_at.data else None
    )
    dialogue.accepts_questions = bool(form.accepts_questions.data)
    dialogue.accessibility = (form.accessibility.data or "").strip()
    dialogue.reminder_hours = form.reminder_hours.data
    dialogue.updated_at = clock.now()


@bp.route("/ny", methods=["GET", "POST"])
def new() -> str | Response:
    """Create a dialogue."""
    form = DialogueForm()
    if form.validate_on_submit():
        starts, ends = parse_local(form.starts_at.data or ""), parse_local(form.ends_at.data or "")
        assert starts is not None and ends is not None
        dialogue = Dialogue(
            starts_at=starts,
            ends_at=ends,
            status=DRAFT,  # public only once published (organiser_views.publish)
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        _apply(form, dialogue)
        db.session.add(dialogue)
        db.session.flush()
        _log("dialogue_created", dialogue)
        db.session.commit()
        flash(
            _("Dialogen är sparad som utkast. Förhandsgranska och publicera den när den är klar."),
            "info",
        )
        return redirect(url_for(".show", dialogue_id=dialogue.id))
    return render_template("organiser/form.html", form=form, dialogue=None)


@bp.route("/<int:dialogue_id>/andra", methods=["GET", "POST"])
def edit(dialogue_id: int) -> str | Response:
    """Edit a dialogue; a new time re-plans reminders and tells every registrant. A cancelled
    dialogue keeps its time (the form says why); its other details can still be corrected."""
    dialogue = get_dialogue(dialogue_id)
    form = DialogueForm(obj=dialogue)
    form.kept_times = (dialogue.starts_at, dialogue.ends_at)
    if request.method == "GET":
        for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
            getattr(form, name).data = _local_input(getattr(dialogue, name))
    if form.validate_on_submit():
        starts, ends = parse_local(form.starts_at.data or ""), parse_local(form.ends_at.data or "")
        assert starts is not None and ends is not None
        moved = (starts, ends) != (dialogue.starts_at, dialogue.ends_at)
        _apply(form, dialogue)
        try:
            if moved:
                service.reschedule(dialogue, starts, ends, keys=_keys(), links=links())
        except service.CancelledDialogueError:
            db.session.rollback()  # nothing of the edit is saved; the form keeps the answers
            form.starts_at.errors = [
                _(
                    "Dialogen är inställd, så tiden kan inte ändras. Ska den hållas en annan gång, skapa en ny dialog."  # noqa: E501
                )
            ]
            return render_template("organiser/form.html", form=form, dialogue=dialogue)
        # More seats (or no limit) must not let newcomers pass those already waiting.
        service.refill(dialogue, keys=_keys(), links=links())
        _log("dialogue_changed", dialogue, moved=moved)
        db.session.commit()
        flash(
            _("Dialogen är sparad.")
            + (" " + _("Alla anmälda får besked om den nya tiden.") if moved else ""),
            "info",
        )
        return redirect(url_for(".show", dialogue_id=dialogue.id))
    return render_template("organiser/form.html", form=form, dialogue=dialogue)


@bp.post("/<int:dialogue_id>/stall-in")
def cancel(dialogue_id: int) -> Response:
    """Cancel the dialogue; every registrant is told."""
    dialogue = get_dialogue(dialogue_id)
    if not EmptyForm().validate() or dialogue.status in (CANCELLED, DRAFT):
        abort(400)
    try:
        service.cancel_dialogue(
            dialogue, keys=_keys(), links=links(), by_id=current_user.id, by=current_user.email
        )
    except service.HeldDialogueError:
        flash(_("Dialogen är redan genomförd och kan inte ställas in."), "error")
    else:
        flash(_("Dialogen är inställd och alla anmälda får besked."), "info")
    return redirect(url_for(".show", dialogue_id=dialogue.id))


def _attendees(dialogue: Dialogue) -> list[tuple[Registration, service.Person | None, int | None]]:
    rows = db.session.scalars(
        sa.select(Registration)
        .where(Registration.dialogue_id == dialogue.id)
        .order_by(Registration.status, Registration.created_at, Registration.id)
    ).all()
    waiting = [r.id for r in rows if r.status == WAITLISTED]
    return [
        (r, service.person_of(r, _keys()), waiting.index(r.id) + 1 if r.id in waiting else None)
        for r in rows
    ]


def _matches(person: service.Person | None, query: str) -> bool:
    """Whether a search typed at the door finds this registrant (name, e-mail or phone)."""
    if not query:
        return True
    if person is None:
        return False
    return any(query in value.casefold() for value in (person.name, person.email, person.phone))


@bp.get("/<int:dialogue_id>")
def show(dialogue_id: int) -> str:
    """The dialogue with its sign-ups, a search for the door, check-in "X av Y", walk-ins and
    the waiting list (personal data: audited)."""
    return render_show(get_dialogue(dialogue_id), walk_in=WalkInForm(formdata=None))


def render_show(dialogue: Dialogue, *, walk_in: WalkInForm) -> str:
    """The dialogue's page for organisers, with the walk-in form as given (kept answers)."""
    attendees = _attendees(dialogue)
    query = request.args.get("q", "")[:100].strip()
    _log("registrations_viewed", dialogue)
    db.session.commit()
    return render_template(
        "organiser/show.html",
        dialogue=dialogue,
        attendees=[row for row in attendees if _matches(row[1], query.casefold())],
        everyone=len(attendees),
        query=query,
        confirmed=sum(r.party_size for r, _p, _w in attendees if r.status == CONFIRMED),
        arrived=attendance.checked_in_people(dialogue.id),
        free=service.seats_left(dialogue),
        held=service.held(dialogue, now=clock.now()),
        form=EmptyForm(),
        walk_in=walk_in,
        promote_form=PromoteForm(formdata=None),
        print_view=False,
    )


@bp.get("/<int:dialogue_id>/deltagarlista")
def attendee_list(dialogue_id: int) -> str:
    """A printable attendee list for the door."""
    dialogue = get_dialogue(dialogue_id)
    attendees = [row for row in _attendees(dialogue) if row[0].status == CONFIRMED]
    _log("attendee_list_printed", dialogue)
    db.session.commit()
    return render_template("organiser/attendees_print.html", dialogue=dialogue, attendees=attendees)


# The export's headers are Swedish; so are its status values (the words of the attendee page).
STATUS_WORDS = {CONFIRMED: "bekräftad", WAITLISTED: "reserv", WITHDRAWN: "avbokad"}


@bp.get("/<int:dialogue_id>/deltagare.csv")
def attendee_csv(dialogue_id: int) -> Response:
    """Attendees as CSV (semicolon-separated, UTF-8 with BOM for Excel)."""
    dialogue = get_dialogue(dialogue_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["status", "kö", "namn", "e-post", "telefon", "antal", "behov", "incheckad"])
    for registration, person, position in _attendees(dialogue):
        writer.writerow(
            [
                STATUS_WORDS.get(registration.status, registration.status),
                position or "",
                *(
                    _safe(v)
                    for v in ((person.name, person.email, person.phone) if person else ("", "", ""))
                ),
                registration.party_size,
                _safe(person.needs) if person else "",
                "ja" if registration.checked_in_at else "",
            ]
        )
    _log("attendees_exported", dialogue)
    db.session.commit()
    response = Response("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="dialog-{dialogue.id}-deltagare.csv"'
    )
    return response


def _safe(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.post("/<int:dialogue_id>/incheckning/<int:registration_id>")
def check_in(dialogue_id: int, registration_id: int) -> Response:
    """Mark a confirmed registrant as arrived (or undo); the waiting list and the cancelled
    are refused with a message."""
    dialogue = get_dialogue(dialogue_id)
    registration = db.session.get(Registration, registration_id)
    if (
        registration is None
        or registration.dialogue_id != dialogue.id
        or not EmptyForm().validate()
    ):
        abort(404)
    try:
        if registration.checked_in_at:
            attendance.undo_check_in(registration)
        else:
            attendance.check_in(registration, now=clock.now())
    except attendance.CheckInError as error:
        flash(
            _("Anmälan står på reservlistan och kan inte checkas in.")
            if error.reason == "waitlisted"
            else _("Anmälan är avbokad och kan inte checkas in."),
            "error",
        )
    return redirect(url_for(".show", dialogue_id=dialogue_id) + f"#r{registration_id}")


def _question_secret() -> bytes | None:
    inbox = db.session.scalar(sa.select(Inbox).where(Inbox.slug == asked.QUESTION_INBOX))
    if inbox is None:
        return None
    try:
        return accounts.inbox_secret(current_user, guard.private_key(), inbox.id).private
    except accounts.AccessError:
        return None


@bp.get("/<int:dialogue_id>/fragor")
def questions(dialogue_id: int) -> str:
    """Questions grouped by theme, for members of the Medborgardialog inbox."""
    dialogue = get_dialogue(dialogue_id)
    private = _question_secret()
    rows = db.session.scalars(
        sa.select(Question)
        .where(Question.dialogue_id == dialogue.id)
        .order_by(Question.received_at)
    ).all()
    grouped: dict[str, list[tuple[Question, dict[str, str]]]] = defaultdict(list)
    if private is not None:
        # Questions sent before their contact details were sealed apart: split them now, so
        # that the erasure job can remove the contact details and keep the question.
        asked.reseal_whole(private, by_id=current_user.id, by=current_user.email)
        for question in rows:
            grouped[question.theme].append((question, asked.open_question(question, private)))
        _log("questions_viewed", dialogue)
        db.session.commit()
    labels = {choice.value: str(choice.label) for choice in THEMES}
    return render_template(
        "organiser/questions.html",
        dialogue=dialogue,
        grouped=grouped,
        member=private is not None,
        count=len(rows),
        labels=labels,
        form=AnswerForm(formdata=None),
        reply=AskerAnswerForm(formdata=None),
        empty=EmptyForm(),
    )


@bp.post("/<int:dialogue_id>/fragor/<question_id>")
def publish(dialogue_id: int, question_id: str) -> Response:
    """Publish a question (in the organiser's wording) with its answer; or withdraw it."""
    dialogue = get_dialogue(dialogue_id)
    question = db.session.get(Question, question_id)
    if question is None or question.dialogue_id != dialogue.id or _question_secret() is None:
        abort(404)
    if request.form.get("action") == "withdraw":
        if not EmptyForm().validate():
            abort(400)
        question.published_at = None
        _log("question_withdrawn", dialogue, question=question.id)
    else:
        form = AnswerForm()
        if not form.validate():
            flash(_("Skriv både frågan och svaret för att publicera."), "error")
            return redirect(url_for(".questions", dialogue_id=dialogue.id))
        question.published_question = form.published_question.data.strip()
        question.published_answer = form.published_answer.data.strip()
        question.published_at = clock.now()
        _log("question_published", dialogue, question=question.id)
    db.session.commit()
    return redirect(url_for(".questions", dialogue_id=dialogue.id))


@bp.route("/<int:dialogue_id>/rapport", methods=["GET", "POST"])
def held_report(dialogue_id: int) -> str | Response:
    """After the dialogue: held or not, attendees, summary, themes, follow-up actions."""
    dialogue = get_dialogue(dialogue_id)
    form = HeldReportForm(obj=dialogue.report)
    form.dialogue_ends_at = dialogue.ends_at
    if request.method == "GET" and dialogue.report is not None:
        form.held.data = "ja" if dialogue.report.held else "nej"
    if form.validate_on_submit():
        try:
            asked.record_held(
                dialogue,
                held=form.held.data == "ja",
                attendees=form.attendees.data,
                summary=(form.summary.data or "").strip(),
                themes_raised=(form.themes_raised.data or "").strip(),
                follow_up_actions=(form.follow_up_actions.data or "").strip(),
                by_id=current_user.id,
                by=current_user.email,
                now=clock.now(),
            )
        except asked.NotEnded:
            # The dialogue's end moved after the form was checked: say so, keep the answers.
            form.held.errors = [_("Rapporten kan lämnas först när dialogen har slutat.")]
        else:
            flash(_("Rapporten är sparad."), "info")
            return redirect(url_for(".show", dialogue_id=dialogue.id))
    return render_template(
        "organiser/report.html",
        dialogue=dialogue,
        form=form,
        is_open=asked.report_open(dialogue, now=clock.now()),
        checked_in=attendance.checked_in_people(dialogue.id),
    )


# The organiser's toolkit around a dialogue (publish, walk-ins, the waiting list, messages,
# answers to askers) has its routes on this blueprint, in its own module.
from intake.dialogues import organiser_views  # noqa: E402, F401
