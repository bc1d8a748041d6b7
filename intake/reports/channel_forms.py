"""Forms of the reporter's channel: the caseworker's question and the reporter's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from intake.reports.channel import MAX_LENGTH


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class QuestionForm(FlaskForm):
    """A caseworker's question to the reporter."""

    text = TextAreaField(
        _l("Fråga till anmälaren"),
        validators=[
            InputRequired(_l("Skriv frågan.")),
            Length(max=MAX_LENGTH, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )


class ReplyForm(FlaskForm):
    """The reporter's answer, signed in with e-legitimation (Mina anmälningar)."""

    text = TextAreaField(
        _l("Ditt svar"),
        # Only spaces is no answer: stripped first, then required.
        filters=[_stripped],
        validators=[
            DataRequired(_l("Skriv ditt svar.")),
            Length(max=MAX_LENGTH, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )


class AnswerForm(ReplyForm):
    """The reporter's answer, with the follow-up code typed on the first page."""

    code = HiddenField()
