"""The anonymous reporter's follow-up at /orosanmalan/uppfoljning: add information, see a
coarse status (intake.reports.public_status) and nothing covered by secrecy."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from intake.extensions import limiter
from intake.reports import channel, followup, handling, public_status
from intake.reports.channel_forms import AnswerForm
from intake.reports.models import Report

bp = Blueprint("followup", __name__, url_prefix="/orosanmalan/uppfoljning")


class CodeForm(FlaskForm):
    """The follow-up code."""

    code = StringField(
        _l("Uppföljningskod"),
        validators=[InputRequired(_l("Skriv din uppföljningskod.")), Length(max=80)],
    )


class AdditionForm(FlaskForm):
    """More information for the caseworkers."""

    code = HiddenField()
    message = TextAreaField(
        _l("Vad vill du lägga till?"),
        validators=[
            InputRequired(_l("Skriv det du vill lägga till.")),
            Length(max=8000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )


def _limit() -> str:
    return str(current_app.config["RATELIMIT_FOLLOWUP"])


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def start() -> str | tuple[str, int]:
    """Type the code; see the status and a form to add information."""
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("reports/followup_start.html", form=form)
    report = followup.find(form.code.data)
    if report is None or report.purged_at is not None:
        form.code.errors = [_("Koden stämmer inte. Kontrollera att du har skrivit av den rätt.")]
        return render_template("reports/followup_start.html", form=form)
    addition = AdditionForm(formdata=None, code=form.code.data)
    return _status(report, form.code.data, form=addition)


def _status(
    report: Report, code: str, *, form: AdditionForm, answer: AnswerForm | None = None, **kw: object
) -> str:
    """The status page, with the channel opened with the code typed in this request only."""
    return render_template(
        "reports/followup_status.html",
        status=public_status.public_status(report.status),
        states=public_status.PUBLIC_STATES,
        form=form,
        messages=channel.for_reporter(report, code),
        answer_form=(answer or AnswerForm(formdata=None, code=code))
        if channel.has_question(report)
        else None,
        **kw,
    )


def _wrong_code() -> str:
    start_form = CodeForm(formdata=None)
    start_form.code.errors = [_("Koden stämmer inte. Kontrollera att du har skrivit av den rätt.")]
    return render_template("reports/followup_start.html", form=start_form)


@bp.post("/svara")
@limiter.limit(_limit)
def answer() -> str | tuple[str, int]:
    """The reporter answers the caseworkers' question (sealed to the inbox)."""
    form = AnswerForm()
    code = form.code.data or ""
    report = followup.find(code)
    if report is None or report.purged_at is not None or not channel.available(report):
        return _wrong_code()
    if not channel.has_question(report):  # nothing to answer: the status page as it is
        return _status(report, code, form=AdditionForm(formdata=None, code=code))
    addition = AdditionForm(formdata=None, code=code)
    if not form.validate():
        return _status(report, code, form=addition, answer=form)
    channel.answer(report, form.text.data)
    return _status(report, code, form=addition, answered=True)


@bp.post("/lagg-till")
@limiter.limit(_limit)
def add() -> str | tuple[str, int]:
    """Add information to the report (sealed to its inbox)."""
    form = AdditionForm()
    report = followup.find(form.code.data or "")
    if report is None or report.purged_at is not None:
        start_form = CodeForm(formdata=None)
        start_form.code.errors = [
            _("Koden stämmer inte. Kontrollera att du har skrivit av den rätt.")
        ]
        return render_template("reports/followup_start.html", form=start_form)
    if not form.validate():
        return _status(report, form.code.data or "", form=form)
    handling.add_message(report, form.message.data, base_url=current_app.config["BASE_URL"])
    code = form.code.data or ""
    return _status(report, code, form=AdditionForm(formdata=None, code=code), added=True)
