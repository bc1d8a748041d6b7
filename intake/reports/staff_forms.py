"""Forms on the caseworker's report page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError

from intake import clock

DECISION_LABELS = {
    "opened": _l("Utredning inleds"),
    "not_opened": _l("Utredning inleds inte"),
    "ongoing": _l("Utredning pågår redan"),
}


def _not_future(form: Any, field: Any) -> None:
    if field.data and field.data > clock.local_date(clock.now()):
        raise ValidationError(_l("Datumet kan inte vara i framtiden."))


def _date_field(label: Any) -> DateField:
    return DateField(
        label,
        validators=[InputRequired(_l("Skriv ett datum som ÅÅÅÅ-MM-DD.")), _not_future],
        default=lambda: clock.local_date(clock.now()),
    )


def _says_something(form: Any, field: Any) -> None:
    if not (field.data or "").strip():
        raise StopValidation(
            _l("Skriv vad skyddsbedömningen kom fram till och vilka åtgärder som vidtogs.")
        )


class AssessmentForm(FlaskForm):
    """The omedelbar skyddsbedömning and its outcome (an empty note is refused)."""

    note = TextAreaField(
        _l("Bedömning och åtgärder"),
        validators=[
            _says_something,
            Length(max=8000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )


class CaseNoteForm(FlaskForm):
    """A new note in the report's case history."""

    case_note = TextAreaField(
        _l("Ny anteckning"),
        validators=[
            InputRequired(_l("Skriv en anteckning.")),
            Length(max=8000, message=_l("Anteckningen får vara högst %(max)d tecken.")),
        ],
    )

    def validate_case_note(self, field: Any) -> None:
        """Whitespace alone is no note."""
        if not (field.data or "").strip():
            raise StopValidation(_l("Skriv en anteckning."))


class DecisionForm(FlaskForm):
    """The förhandsbedömning decision."""

    decision = RadioField(
        _l("Beslut"),
        choices=[SelectChoice(k, v) for k, v in DECISION_LABELS.items()],
        validators=[InputRequired(_l("Välj ett beslut."))],
    )
    decided_on = _date_field(_l("Beslutsdatum"))


class RegisterForm(FlaskForm):
    """Registered in the case management system; the date lies between receipt and today."""

    registered_on = _date_field(_l("Registrerad den"))
    case_reference = StringField(
        _l("Diarie- eller ärendenummer"),
        validators=[InputRequired(_l("Skriv ärendenumret.")), Length(max=60)],
    )

    def __init__(self, *args: Any, received_on: date | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.received_on = received_on

    def validate_registered_on(self, field: Any) -> None:
        """Not before the day the report came in (not in the future: _not_future)."""
        if field.data and self.received_on and field.data < self.received_on:
            raise ValidationError(
                _l(
                    "Datumet kan inte vara före den dag anmälan kom in (%(day)s).",
                    day=self.received_on.isoformat(),
                )
            )


class OutcomeForm(FlaskForm):
    """The handling state of a report about an adult (the inbox's own list)."""

    outcome = RadioField(
        _l("Handläggningsläge"), validators=[InputRequired(_l("Välj ett handläggningsläge."))]
    )


class MoveForm(FlaskForm):
    """Move to another inbox."""

    inbox_id = SelectField(_l("Till inkorg"), coerce=int, validators=[InputRequired()])


def today() -> date:
    """Today's date in Stockholm (for defaults)."""
    return clock.local_date(clock.now())
