"""Forms of the follow-up pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from intake import bounds, clock
from intake.dialogues.forms import Choice
from intake.followup.models import ANY_DIALOGUE, BOTH_HOSTS


def _not_future(form: Any, field: Any) -> None:
    if field.data and field.data > clock.local_date(clock.now()):
        raise ValidationError(_l("Datumet kan inte vara i framtiden."))


class ActivityForm(FlaskForm):
    """An activity toward a commitment."""

    occurred_on = DateField(
        _l("Datum"),
        validators=[
            InputRequired(_l("Skriv ett datum som ÅÅÅÅ-MM-DD.")),
            bounds.years,
            _not_future,
        ],
        default=lambda: clock.local_date(clock.now()),
    )
    count = IntegerField(
        _l("Antal tillfällen"),
        default=1,
        validators=[
            InputRequired(_l("Skriv ett antal.")),
            NumberRange(min=1, max=1000, message=_l("Skriv ett tal mellan 1 och 1000.")),
        ],
    )
    place = StringField(
        _l("Plats, till exempel vilken skola"), validators=[Optional(), Length(max=200)]
    )
    note = TextAreaField(
        _l("Anteckning (inga personuppgifter)"), validators=[Optional(), Length(max=2000)]
    )


class NoteForm(FlaskForm):
    """Why a commitment is behind, and the next planned date."""

    reason = TextAreaField(
        _l("Orsak"), validators=[InputRequired(_l("Skriv en orsak.")), Length(max=2000)]
    )
    next_planned_on = DateField(
        _l("Nästa planerade tillfälle"), validators=[Optional(), bounds.years]
    )


class PromiseForm(FlaskForm):
    """The next promise, copying the commitments of the current one."""

    title = StringField(
        _l("Rubrik"), validators=[InputRequired(_l("Skriv en rubrik.")), Length(max=200)]
    )
    valid_from = DateField(
        _l("Gäller från"), validators=[InputRequired(_l("Skriv ett datum.")), bounds.years]
    )
    valid_to = DateField(_l("Gäller till"), validators=[Optional(), bounds.years])
    until_replaced = BooleanField(_l("Gäller tills ett nytt löfte ges"), default=True)
    signed_on = DateField(_l("Undertecknat"), validators=[Optional(), bounds.years])

    def validate_valid_to(self, field: Any) -> None:
        """After the start."""
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("Slutdatumet måste vara efter startdatumet."))


class RuleForm(FlaskForm):
    """Which held dialogues a dialogue commitment counts."""

    rule = Choice(
        _l("Vilka dialoger räknas?"),
        choices=[
            SelectChoice(
                BOTH_HOSTS, _l("Bara dialoger där både polisen och kommunen är arrangörer")
            ),
            SelectChoice(ANY_DIALOGUE, _l("Alla hållna dialoger")),
        ],
        validators=[InputRequired(_l("Välj vilka dialoger som ska räknas."))],
    )
