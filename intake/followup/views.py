"""Follow-up at /personal/uppfoljning (dashboard, activities, reports, a new promise) and the
public progress page at /medborgarloftet."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from intake import clock
from intake.accounts import guard
from intake.accounts.forms import EmptyForm
from intake.accounts.models import ADMIN
from intake.dialogues.models import PLANNED, Dialogue, HeldReport
from intake.extensions import db
from intake.followup import charts, progress, reporting, service
from intake.followup.forms import ActivityForm, NoteForm, PromiseForm, RuleForm
from intake.followup.models import FROM_DIALOGUES, Activity, Commitment, Promise

bp = Blueprint("followup_staff", __name__, url_prefix="/personal/uppfoljning")
bp.before_request(guard.require_staff)
public = Blueprint("promise", __name__, url_prefix="/medborgarloftet")


def _today() -> date:
    return clock.local_date(clock.now())


def _year(ledger: progress.Ledger) -> int:
    chosen = request.args.get("ar", type=int)
    years = ledger.years
    if chosen in years:
        return int(chosen)
    return years[-1] if years else _today().year


def get_commitment(commitment_id: int) -> Commitment:
    """A commitment or 404."""
    found = db.session.get(Commitment, commitment_id)
    if found is None:
        abort(404)
    return found


def get_activity(activity_id: int) -> Activity:
    """An activity or 404."""
    found = db.session.get(Activity, activity_id)
    if found is None:
        abort(404)
    return found


def _history(ledger: progress.Ledger, commitment: Commitment) -> charts.YearChart:
    return charts.year_chart(ledger.history(commitment))


@bp.get("/")
def dashboard() -> str:
    """Per year and commitment: done vs target, pace, status, reasons; roll-ups; charts."""
    ledger = progress.Ledger(today=_today())
    year = _year(ledger)
    rows = ledger.year(year)
    return render_template(
        "followup/dashboard.html",
        year=year,
        years=ledger.years,
        rows=rows,
        by_party=progress.rollup(rows, "party"),
        by_area=progress.rollup(rows, "area"),
        histories={row.commitment.id: _history(ledger, row.commitment) for row in rows},
        promise=progress.in_force(ledger.promises, _today()),
        may_record={
            row.commitment.id: service.may_record(current_user, row.commitment) for row in rows
        },
    )


@bp.get("/atagande/<int:commitment_id>")
def commitment(commitment_id: int) -> str:
    """Drill-down: the activities of a commitment in a year, and forms to record more."""
    found = get_commitment(commitment_id)
    return _render_commitment(found, ActivityForm(formdata=None), NoteForm(formdata=None))


def _render_commitment(found: Commitment, form: ActivityForm, note: NoteForm) -> str:
    ledger = progress.Ledger(today=_today())
    year = _year(ledger)
    row = ledger.progress(found, year)
    activities = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.commitment_id == found.id,
            Activity.occurred_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .order_by(Activity.occurred_on.desc())
    ).all()
    window = ledger.windows[found.promise_id]
    span = window.overlap(date(year, 1, 1), date(year, 12, 31))
    held = reporting.held_between(*span) if span and found.source == FROM_DIALOGUES else []
    dialogues = reporting.counted_dialogues(row, window) if row is not None else []
    if row is not None and request.method == "GET" and not note.reason.data:
        note.reason.data, note.next_planned_on.data = row.reason, row.next_planned_on
    return render_template(
        "followup/commitment.html",
        commitment=found,
        year=year,
        years=ledger.years,
        row=row,
        activities=activities,
        dialogues=dialogues,
        not_counted=[d for d in held if d not in dialogues],
        form=form,
        note=note,
        rule=RuleForm(formdata=None, rule=found.counting_rule),
        is_admin=current_user.role == ADMIN,
        empty=EmptyForm(),
        allowed=service.may_record(current_user, found),
        chart=_history(ledger, found),
    )


def _input(form: ActivityForm) -> service.ActivityInput:
    return service.ActivityInput(
        occurred_on=form.occurred_on.data,
        count=form.count.data,
        place=(form.place.data or "").strip(),
        note=(form.note.data or "").strip(),
    )


@bp.post("/atagande/<int:commitment_id>/aktiviteter")
def add_activity(commitment_id: int) -> str | Response:
    """Record an activity (partners: police commitments; municipal staff: the municipality's)."""
    found = get_commitment(commitment_id)
    if not service.may_record(current_user, found) or not service.accepts_activities(found):
        abort(403)
    form = ActivityForm()
    if not form.validate():
        return _render_commitment(found, form, NoteForm(formdata=None))
    try:
        service.add_activity(found, _input(form), user=current_user)
    except service.OutsidePromise as exc:
        form.occurred_on.errors.append(_outside(exc.window))
        return _render_commitment(found, form, NoteForm(formdata=None))
    flash(_("Aktiviteten är registrerad."), "info")
    return redirect(url_for(".commitment", commitment_id=found.id, ar=form.occurred_on.data.year))


def _outside(window: progress.Window) -> str:
    return str(
        _(
            "Löftet gällde inte det datumet. Det gällde %(start)s–%(end)s.",
            start=window.start.isoformat(),
            end=window.end.isoformat() if window.end else _("tills vidare"),
        )
    )


@bp.route("/aktivitet/<int:activity_id>", methods=["GET", "POST"])
def edit_activity(activity_id: int) -> str | Response:
    """Change an activity."""
    activity = get_activity(activity_id)
    found = get_commitment(activity.commitment_id)
    if not service.may_record(current_user, found):
        abort(403)
    form = ActivityForm(obj=activity)
    if form.validate_on_submit():
        try:
            service.update_activity(activity, _input(form), user=current_user)
        except service.OutsidePromise as exc:
            form.occurred_on.errors.append(_outside(exc.window))
        else:
            flash(_("Aktiviteten är ändrad."), "info")
            return redirect(
                url_for(".commitment", commitment_id=found.id, ar=activity.occurred_on.year)
            )
    return render_template(
        "followup/activity_form.html",
        form=form,
        activity=activity,
        commitment=found,
        empty=EmptyForm(),
    )


@bp.post("/aktivitet/<int:activity_id>/ta-bort")
def delete_activity(activity_id: int) -> Response:
    """Remove an activity."""
    activity = get_activity(activity_id)
    found = get_commitment(activity.commitment_id)
    if not service.may_record(current_user, found) or not EmptyForm().validate():
        abort(403)
    year = activity.occurred_on.year
    service.delete_activity(activity, user=current_user)
    flash(_("Aktiviteten är borttagen."), "info")
    return redirect(url_for(".commitment", commitment_id=found.id, ar=year))


@bp.post("/atagande/<int:commitment_id>/orsak")
def save_note(commitment_id: int) -> str | Response:
    """The reason a commitment is behind this year, and the next planned date."""
    found = get_commitment(commitment_id)
    if not service.may_record(current_user, found):
        abort(403)
    note = NoteForm()
    year = request.args.get("ar", type=int) or _today().year
    if not note.validate():
        return _render_commitment(found, ActivityForm(formdata=None), note)
    service.save_note(
        found, year, note.reason.data.strip(), note.next_planned_on.data, user=current_user
    )
    flash(_("Orsaken är sparad."), "info")
    return redirect(url_for(".commitment", commitment_id=found.id, ar=year))


@bp.post("/atagande/<int:commitment_id>/gjort-tidigare")
def done_earlier(commitment_id: int) -> Response:
    """Mark a "done once" commitment done by pointing to when it was done under the earlier
    promise it was copied from."""
    found = get_commitment(commitment_id)
    if not service.may_record(current_user, found) or not EmptyForm().validate():
        abort(403)
    try:
        day = service.mark_done_earlier(found, user=current_user, today=_today())
    except service.NothingEarlier:
        flash(_("Åtagandet gjordes inte under något tidigare löfte."), "error")
    else:
        flash(_("Åtagandet är markerat som gjort %(d)s.", d=day.isoformat()), "info")
    return redirect(url_for(".commitment", commitment_id=found.id, ar=request.args.get("ar")))


@bp.post("/atagande/<int:commitment_id>/rakneregel")
def counting_rule(commitment_id: int) -> Response:
    """Admins choose which held dialogues a dialogue commitment counts."""
    found = get_commitment(commitment_id)
    form = RuleForm()
    if current_user.role != ADMIN:
        abort(403)
    if found.source != FROM_DIALOGUES:
        abort(404)  # only a dialogue commitment has a counting rule
    if not form.validate():
        flash(_("Välj vilka dialoger som ska räknas."), "error")
    else:
        service.set_counting_rule(found, form.rule.data, user=current_user)
        flash(_("Räkneregeln är sparad."), "info")
    return redirect(url_for(".commitment", commitment_id=found.id, ar=request.args.get("ar")))


def _period() -> tuple[date, date]:
    today = _today()
    try:
        start = date.fromisoformat(request.args.get("fran", f"{today.year}-01-01"))
        end = date.fromisoformat(request.args.get("till", today.isoformat()))
    except ValueError:
        start, end = date(today.year, 1, 1), today
    start, end = (start, end) if start <= end else (end, start)
    # Years outside any sensible range would only make a long, empty report.
    return max(start, date(2000, 1, 1)), min(end, date(2100, 12, 31))


@bp.get("/rapport")
def report() -> str:
    """A printable report for a period, to the local police area chief and BRÅ."""
    start, end = _period()
    ledger, years = reporting.build(start, end, today=_today())
    return render_template(
        "followup/report.html",
        start=start,
        end=end,
        years=years,
        addressees=reporting.addressees(),
        promise=progress.in_force(ledger.promises, end),
    )


@bp.get("/rapport.csv")
def report_csv() -> Response:
    """The same report as CSV: one line per commitment and year, then the dialogues' themes."""
    start, end = _period()
    _ledger, years = reporting.build(start, end, today=_today())
    response = Response("\ufeff" + reporting.to_csv(years), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="medborgarlofte-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    return response


@bp.route("/nytt-lofte", methods=["GET", "POST"])
def new_promise() -> str | Response:
    """Admins start the next promise by copying the commitments of the one in force."""
    if current_user.role != ADMIN:
        abort(403)
    promises = db.session.scalars(sa.select(Promise).order_by(Promise.valid_from)).all()
    current = promises[-1] if promises else None
    form = PromiseForm()
    if current is not None and form.validate_on_submit():
        if form.valid_from.data <= current.valid_from:
            form.valid_from.errors = [
                _(
                    "Det nya löftet måste börja efter det nuvarande (%(d)s).",
                    d=current.valid_from.isoformat(),
                )
            ]
        else:
            service.start_new_promise(
                current,
                title=form.title.data.strip(),
                valid_from=form.valid_from.data,
                valid_to=form.valid_to.data,
                until_replaced=bool(form.until_replaced.data),
                signed_on=form.signed_on.data,
                user=current_user,
            )
            flash(_("Det nya löftet är skapat. Det gamla gäller till dagen innan."), "info")
            return redirect(url_for(".dashboard"))
    return render_template(
        "followup/new_promise.html", form=form, current=current, promises=promises
    )


@public.get("/")
def public_page() -> str:
    """The promise in plain words and whether it is in force; this year's progress first,
    earlier years folded; past dialogues."""
    today = _today()
    ledger = progress.Ledger(today=today)
    years = list(reversed(ledger.years))
    promise = progress.in_force(ledger.promises, today) or (
        ledger.promises[-1] if ledger.promises else None
    )
    window = ledger.windows[promise.id] if promise is not None else None
    past = db.session.scalars(
        sa.select(Dialogue)
        .join(HeldReport, HeldReport.dialogue_id == Dialogue.id)
        .where(
            HeldReport.held.is_(True), Dialogue.status == PLANNED, Dialogue.ends_at < clock.now()
        )
        .order_by(Dialogue.starts_at.desc())
        .limit(10)
    ).all()
    return render_template(
        "followup/public.html",
        promise=promise,
        window=window,
        covers=_covers(ledger, promise),
        today=today,
        years=years,
        by_year={year: ledger.year(year) for year in years},
        past=past,
    )


def _covers(ledger: progress.Ledger, promise: Promise | None) -> tuple[int, int] | None:
    """The first and last year the promise has been in force, up to this year."""
    if promise is None:
        return None
    window = ledger.windows[promise.id]
    last = min(window.end or ledger.today, ledger.today) if window.start <= ledger.today else None
    return (window.start.year, last.year) if last is not None else None
