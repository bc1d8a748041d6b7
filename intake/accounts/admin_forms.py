"""Forms of the administrator's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from intake.reports import choices as c


class InboxForm(FlaskForm):
    """Name, notification address and retention of an inbox."""

    name = StringField(
        _l("Namn"), validators=[InputRequired(_l("Skriv ett namn.")), Length(max=120)]
    )
    notification_email = EmailField(
        _l("Aviseringsadress"),
        validators=[
            Optional(),
            Email(_l("Skriv e-postadressen som namn@exempel.se."), check_deliverability=False),
            Length(max=254),
        ],
        description=_l("Hit skickas meddelandet om att en ny anmälan har kommit, utan innehåll."),
    )
    retention_days = IntegerField(
        _l("Gallring, dagar efter registrering i verksamhetssystemet"),
        validators=[
            InputRequired(_l("Skriv ett antal dagar.")),
            NumberRange(min=1, max=3650, message=_l("Skriv ett tal mellan 1 och 3650.")),
        ],
    )


class RuleForm(FlaskForm):
    """A routing rule."""

    name = StringField(
        _l("Namn"), validators=[InputRequired(_l("Skriv ett namn.")), Length(max=120)]
    )
    subject_type = SelectField(
        _l("Gäller"), choices=[SelectChoice("", _l("Alla")), *c.SUBJECT_TYPES]
    )
    reporter_type = SelectField(
        _l("Anmälare"), choices=[SelectChoice("", _l("Alla")), *c.REPORTER_TYPES]
    )
    inbox_id = SelectField(_l("Till inkorg"), coerce=int, validators=[InputRequired()])


class GrantForm(FlaskForm):
    """Give a user access to an inbox."""

    user_id = SelectField(
        _l("Användare"), coerce=int, validators=[InputRequired(_l("Välj en användare."))]
    )
    recovery_code = StringField(
        _l("Inkorgens återställningskod"),
        validators=[Length(max=80)],
        description=_l("Behövs bara om du själv inte är medlem i inkorgen."),
    )
