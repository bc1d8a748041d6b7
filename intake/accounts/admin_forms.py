"""Forms of the administrator's pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    Form,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from intake import bootstrap, clock, emails, gallring
from intake.accounts import forms
from intake.reports import choices as c
from intake.reports.forms import Choice


class SavedPlaceholder:
    """Lets a placeholder address that is already saved stay, skipping the e-mail check.

    Setup's `.invalid` addresses fail that check, and an admin changing an inbox's name or a
    user's role should not first have to find the real address. A placeholder typed anew
    still meets the check and its error.
    """

    def __call__(self, form: Form, field: Field) -> None:
        typed = (field.data or "").strip().lower()
        saved = (field.object_data or "").strip().lower()
        if typed and typed == saved and bootstrap.is_placeholder(typed):
            raise StopValidation()


class UserForm(forms.UserForm):
    """Create or edit a staff user; an unchanged placeholder address may stay."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Added here, not by redeclaring the field: that would move it last in the form,
        # and with it its errors in the error summary.
        self.email.validators = [SavedPlaceholder(), *self.email.validators]


class InboxForm(FlaskForm):
    """Name, notification address and handling options of an inbox."""

    name = StringField(
        _l("Namn"), validators=[InputRequired(_l("Skriv ett namn.")), Length(max=120)]
    )
    notification_email = EmailField(
        _l("Aviseringsadress"),
        validators=[
            Optional(),
            SavedPlaceholder(),
            emails.Address(stand_ins=True),
            Length(max=254),
        ],
        description=_l("Hit skickas meddelandet om att en ny anmälan har kommit, utan innehåll."),
    )
    # No retention figure here: the gallringsbeslut (intake.gallring) decide when reports go;
    # the inbox's old `retention_days` column drives nothing and is no longer shown.
    require_eid_professional = BooleanField(
        _l("Yrkesverksamma måste logga in med e-legitimation för att skicka en anmälan hit")
    )
    adult_outcomes = TextAreaField(
        _l("Handläggningslägen för anmälningar om vuxna (frivilligt)"),
        validators=[Optional(), Length(max=400, message=_l("Högst %(max)d tecken."))],
        description=_l(
            "Ett läge per rad. Tomt ger Kontakt tagen, Ingen åtgärd och Hänvisad. Anmälningar "
            "om vuxna har inga lagstadgade tidsfrister."
        ),
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


def _date_between(earliest: date, *, years_ahead: int) -> Callable[[Form, Field], None]:
    """A date no earlier than `earliest` and at most some years ahead of today."""

    def check(form: Form, field: Field) -> None:
        latest = clock.local_date(clock.now()).replace(month=1, day=1)
        latest = latest.replace(year=latest.year + years_ahead + 1)
        if field.data and not earliest <= field.data < latest:
            raise ValidationError(
                _l(
                    "Skriv ett datum mellan %(first)s och %(last)s.",
                    first=earliest.isoformat(),
                    last=(latest - timedelta(days=1)).isoformat(),
                )
            )

    return check


class RetentionDecisionForm(FlaskForm):
    """A gallringsbeslut for one information class (intake.gallring)."""

    information_class = Choice(
        _l("Vilka uppgifter gäller beslutet?"),
        choices=[SelectChoice(code, cls.label) for code, cls in gallring.CLASSES.items()],
        validators=[InputRequired(_l("Välj vilka uppgifter beslutet gäller."))],
    )
    reference = StringField(
        _l("Beslutets diarienummer"),
        validators=[InputRequired(_l("Skriv beslutets diarienummer.")), Length(max=80)],
        description=_l("Till exempel SN 2026/40."),
    )
    decided_on = DateField(
        _l("Beslutsdatum"),
        validators=[
            InputRequired(_l("Skriv ett datum som ÅÅÅÅ-MM-DD.")),
            _date_between(date(1990, 1, 1), years_ahead=0),
        ],
    )
    decided_by = StringField(
        _l("Beslutande organ"),
        validators=[InputRequired(_l("Skriv vem som fattade beslutet.")), Length(max=200)],
        description=_l("Till exempel Socialnämnden eller Kommunstyrelsen (arkivmyndigheten)."),
    )
    retention_days = IntegerField(
        _l("Gallringsfrist i dagar"),
        validators=[
            InputRequired(_l("Skriv ett antal dagar.")),
            NumberRange(min=1, max=36500, message=_l("Skriv ett tal mellan 1 och 36500.")),
        ],
        description=_l("Räknas från den händelse som informationsslaget anger."),
    )
    valid_from = DateField(
        _l("Gäller från"),
        validators=[
            InputRequired(_l("Skriv ett datum som ÅÅÅÅ-MM-DD.")),
            _date_between(date(1990, 1, 1), years_ahead=5),
        ],
    )
