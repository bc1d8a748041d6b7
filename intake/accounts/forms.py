"""Forms of the staff sign-in and account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from intake import emails
from intake.accounts.models import ROLES

ROLE_LABELS = {
    "admin": _l("Administratör"),
    "caseworker": _l("Handläggare"),
    "organiser": _l("Arrangör av medborgardialoger"),
    "partner": _l("Samverkanspart (polisen)"),
}


class SecretField(PasswordField):
    """A password input that never writes what was typed back into the page.

    The form macros render `_value()` themselves, past WTForms' `hide_value`.
    """

    def _value(self) -> str:
        return ""


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        _l("E-postadress"), validators=[InputRequired(_l("Skriv din e-postadress."))]
    )
    password = SecretField(_l("Lösenord"), validators=[InputRequired(_l("Skriv ditt lösenord."))])


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a backup code."""

    code = StringField(_l("Kod"), validators=[InputRequired(_l("Skriv koden.")), Length(max=20)])


class ChangePasswordForm(FlaskForm):
    """The current password (after a reset: the one-time password), then a new one, twice."""

    current_password = SecretField(
        _l("Nuvarande lösenord"),
        validators=[InputRequired(_l("Skriv ditt nuvarande lösenord.")), Length(max=200)],
    )
    password = SecretField(
        _l("Nytt lösenord"),
        validators=[InputRequired(_l("Skriv ett nytt lösenord.")), Length(max=200)],
    )
    confirm = SecretField(
        _l("Nytt lösenord igen"),
        validators=[
            InputRequired(_l("Skriv lösenordet en gång till.")),
            EqualTo("password", message=_l("Lösenorden är inte lika.")),
        ],
    )


class UserForm(FlaskForm):
    """Create or edit a staff user."""

    name = StringField(_l("Namn"), validators=[InputRequired(_l("Skriv namnet.")), Length(max=120)])
    email = EmailField(
        _l("E-postadress"),
        validators=[
            InputRequired(_l("Skriv e-postadressen.")),
            emails.Address(stand_ins=True),
            Length(max=254),
        ],
    )
    role = SelectField(
        _l("Roll"),
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[InputRequired(_l("Välj en roll."))],
    )
    active = BooleanField(_l("Kontot är aktivt"), default=True)


class EmptyForm(FlaskForm):
    """A button that only needs CSRF protection."""
