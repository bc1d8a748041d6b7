"""Forms for residents (sign up, ask) and organisers (dialogue, held report, answers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from intake import bounds, clock, emails
from intake.dialogues.models import DIGITAL, HYBRID, IN_PERSON

THEMES = [
    SelectChoice("narkotika", _l("Narkotika och droger")),
    SelectChoice("trygghet", _l("Trygghet")),
    SelectChoice("trafik", _l("Trafik")),
    SelectChoice("ungdomar", _l("Ungdomar")),
    SelectChoice("brott", _l("Brott och brottsförebyggande arbete")),
    SelectChoice("ovrigt", _l("Övrigt")),
]
HOSTS = [SelectChoice("polisen", _l("Polisen")), SelectChoice("kommunen", _l("Kommunen"))]
FORMATS = [
    SelectChoice(IN_PERSON, _l("På plats")),
    SelectChoice(DIGITAL, _l("Digitalt")),
    SelectChoice(HYBRID, _l("På plats och digitalt")),
]
MAX_PARTY = 10


# The class names Choice and MultiCheckbox tell templates/_macros.html's error summary to link
# to the first option (`#<field>-0`): a radio or checkbox group has no element with its own id.
class Choice(RadioField):
    """One of several radio buttons."""


class MultiCheckbox(SelectMultipleField):
    """Several checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Count(IntegerField):
    """A whole number typed by a person, with one message of ours for each way it can be wrong."""

    data: Any  # an int once validated

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", _l("Skriv ett tal med siffror, till exempel 2."))
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """A blank answer is no answer: the required or optional rule speaks, not the parser."""
        if valuelist and isinstance(valuelist[0], str) and not valuelist[0].strip():
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form: Any) -> None:
        """Not a number: say only that, not the range rule on top of it."""
        if self.process_errors:
            raise StopValidation()


def _strip(value: Any) -> Any:
    # Phones' keyboards often add a space after an autocompleted address.
    return value.strip() if isinstance(value, str) else value


def _text(label: Any, *, required: Any = None, max_length: int = 200, **kw: Any) -> StringField:
    # DataRequired, not InputRequired: a name of only spaces is no name.
    checks: list[Any] = [DataRequired(required)] if required else [Optional()]
    return StringField(
        label,
        validators=[
            *checks,
            Length(max=max_length, message=_l("Svaret får vara högst %(max)d tecken.")),
        ],
        **kw,
    )


class SignupForm(FlaskForm):
    """Sign up for a dialogue, no account needed."""

    name = _text(_l("Namn"), required=_l("Skriv ditt namn."))
    email = EmailField(
        _l("E-postadress"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Skriv din e-postadress.")),
            emails.Address(),
            Length(max=254),
        ],
    )
    phone = _text(_l("Telefonnummer (frivilligt)"), max_length=40)
    party_size = Count(
        _l("Hur många kommer, du inräknad?"),
        default=1,
        validators=[
            InputRequired(_l("Skriv hur många ni är.")),
            NumberRange(min=1, max=MAX_PARTY, message=_l("Skriv ett antal mellan 1 och %(max)d.")),
        ],
    )
    needs = TextAreaField(
        _l("Behöver du något för att kunna delta? (frivilligt)"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )
    privacy = BooleanField(
        _l("Jag har läst hur mina uppgifter behandlas"),
        validators=[InputRequired(_l("Bekräfta att du har läst hur uppgifterna behandlas."))],
    )


class QuestionForm(FlaskForm):
    """A question for the dialogue (anonymous allowed).

    It shares a page with the sign-up form, so its name and e-mail fields get their own ids.
    """

    theme = Choice(_l("Vad gäller frågan?"), choices=THEMES, validators=[Optional()])
    text = TextAreaField(
        _l("Din fråga"),
        validators=[
            DataRequired(_l("Skriv din fråga.")),
            Length(max=2000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )
    name = _text(_l("Namn (frivilligt)"), max_length=120, id="question-name")
    email = EmailField(
        _l("E-postadress, om du vill ha svar (frivilligt)"),
        id="question-email",
        filters=[_strip],
        validators=[
            Optional(),
            emails.Address(),
            Length(max=254),
        ],
    )


def parse_local(text: str) -> datetime | None:
    """A 'YYYY-MM-DDTHH:MM' (or with a space) in Stockholm time, as aware UTC."""
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            naive = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if not bounds.year_in_range(naive.year):
            return None  # year 1 or 9999 would overflow on the way to UTC
        return naive.replace(tzinfo=clock.STOCKHOLM).astimezone(UTC)
    return None


def _clock_time(text: str) -> str | None:
    """'18:00', '18.00', '1800' or '9:05' as 'HH:MM'; None if it is no time of day."""
    digits = text.replace(".", ":").strip()
    if ":" not in digits and digits.isdigit() and len(digits) in (3, 4):
        digits = f"{digits[:-2]}:{digits[-2:]}"
    hours, _sep, minutes = digits.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(hours) <= 2 and len(minutes) == 2):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return f"{int(hours):02d}:{minutes}"


class Moment(StringField):
    """A date and a time of day in two inputs, `<name>-date` (type=date) and `<name>-time`
    (type=time), read without JavaScript; `data` is 'YYYY-MM-DD HH:MM' (Stockholm) once both
    are real. A post with one combined `<name>` input (a form from before the split, still open
    in a tab) is read as well. Each error names the moment (`what`)."""

    data: Any  # 'YYYY-MM-DD HH:MM' once validated

    def __init__(self, label: Any, *, what: Any, required: bool, **kwargs: Any) -> None:
        super().__init__(label, validators=[], **kwargs)
        self.what, self.required = what, required
        self.date_text, self.time_text = "", ""

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        """Read the two inputs (or the combined one); keep what was typed as typed."""
        super().process(formdata, data, extra_filters)
        if formdata is not None and (
            f"{self.name}-date" in formdata or f"{self.name}-time" in formdata
        ):
            self.date_text = str(formdata.get(f"{self.name}-date", ""))[:40].strip()
            self.time_text = str(formdata.get(f"{self.name}-time", ""))[:40].strip()
        elif isinstance(self.data, str):
            date_part, _sep, time_part = self.data.strip().replace("T", " ").partition(" ")
            self.date_text, self.time_text = date_part[:40], time_part.strip()[:40]
        elif isinstance(self.data, datetime):
            local = self.data.astimezone(clock.STOCKHOLM)
            self.date_text, self.time_text = local.strftime("%Y-%m-%d"), local.strftime("%H:%M")
        self.data = self._combined()

    def _combined(self) -> str | None:
        if not (self.date_text or self.time_text):
            return None
        return f"{self.date_text} {self.time_text}".strip()

    def pre_validate(self, form: Any) -> None:
        """Both parts there and real, or (when optional) both blank; else one message that
        names the moment."""
        what = {"what": self.what}
        if not self.date_text and not self.time_text:
            if self.required:
                raise StopValidation(_l("Skriv datum och tid för %(what)s.", **what))
            raise StopValidation()
        if not self.date_text:
            raise StopValidation(_l("Skriv datum för %(what)s.", **what))
        try:
            day = datetime.strptime(self.date_text, "%Y-%m-%d")
        except ValueError:
            raise StopValidation(
                _l("Skriv datum för %(what)s som ÅÅÅÅ-MM-DD, till exempel 2026-03-14.", **what)
            ) from None
        if not bounds.year_in_range(day.year):
            raise StopValidation(
                _l(
                    "Datum för %(what)s: skriv ett år mellan %(first)d och %(last)d.",
                    first=bounds.FIRST_YEAR,
                    last=bounds.LAST_YEAR,
                    **what,
                )
            )
        if not self.time_text:
            raise StopValidation(_l("Skriv tid för %(what)s.", **what))
        hhmm = _clock_time(self.time_text)
        if hhmm is None:
            raise StopValidation(
                _l("Skriv tid för %(what)s som TT:MM, till exempel 18:00.", **what)
            )
        self.data = f"{self.date_text} {hhmm}"


class DialogueForm(FlaskForm):
    """Create or edit a dialogue."""

    title = _text(_l("Rubrik"), required=_l("Skriv en rubrik."))
    description = TextAreaField(_l("Beskrivning"), validators=[Optional(), Length(max=5000)])
    themes = MultiCheckbox(_l("Teman"), choices=THEMES)
    hosts = MultiCheckbox(
        _l("Arrangörer"),
        choices=HOSTS,
        validators=[InputRequired(_l("Välj minst en arrangör."))],
        description=_l(
            "Kryssa i båda när polisen och kommunen håller dialogen tillsammans. Medborgarlöftets "
            "åtagande om gemensamma dialoger räknar bara dialoger med båda som arrangörer."
        ),
    )
    starts_at = Moment(_l("Börjar"), what=_l("när dialogen börjar"), required=True)
    ends_at = Moment(_l("Slutar"), what=_l("när dialogen slutar"), required=True)
    format = Choice(
        _l("Form"), choices=FORMATS, default=IN_PERSON, validators=[InputRequired(_l("Välj form."))]
    )
    place = _text(_l("Plats"))
    address = _text(_l("Adress"))
    meeting_link = _text(_l("Länk till mötet (visas bara för anmälda)"), max_length=500)
    capacity = Count(
        _l("Antal platser (tomt = obegränsat)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Skriv ett tal mellan 1 och 10000.")),
        ],
    )
    signup_opens_at = Moment(
        _l("Anmälan öppnar (tomt = när dialogen publiceras)"),
        what=_l("när anmälan öppnar"),
        required=False,
    )
    signup_closes_at = Moment(
        _l("Anmälan stänger (tomt = när dialogen börjar)"),
        what=_l("när anmälan stänger"),
        required=False,
    )
    accepts_questions = BooleanField(_l("Ta emot frågor i förväg"), default=True)
    accessibility = TextAreaField(
        _l("Tillgänglighet"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Till exempel hörslinga, rullstolsplatser, teckentolk på begäran."),
    )
    reminder_hours = Count(
        _l("Påminnelse, timmar före"),
        default=24,
        validators=[
            InputRequired(_l("Skriv antal timmar.")),
            NumberRange(min=1, max=336, message=_l("Skriv ett tal mellan 1 och 336.")),
        ],
    )

    def _moment_of(self, field: Any) -> datetime | None:
        # Only what was typed: a field missing from the post keeps the stored value (a
        # datetime, when editing), and its own error already says what is wrong.
        if field.errors or not isinstance(field.data, str) or not field.data:
            return None
        return parse_local(field.data)

    def validate_starts_at(self, field: Any) -> None:
        """A real moment (a day that does not exist, or a clock change's lost hour)."""
        if field.data and parse_local(field.data) is None:
            raise ValidationError(_l("Datum och tid för när dialogen börjar finns inte."))

    def validate_ends_at(self, field: Any) -> None:
        """After the start."""
        end = parse_local(field.data) if field.data else None
        if field.data and end is None:
            raise ValidationError(_l("Datum och tid för när dialogen slutar finns inte."))
        start = self._moment_of(self.starts_at)
        if start and end and end <= start:
            raise ValidationError(_l("Dialogen måste sluta efter att den börjar."))

    def validate_signup_opens_at(self, field: Any) -> None:
        """A real moment."""
        if field.data and parse_local(field.data) is None:
            raise ValidationError(_l("Datum och tid för när anmälan öppnar finns inte."))

    def validate_signup_closes_at(self, field: Any) -> None:
        """A real moment."""
        if field.data and parse_local(field.data) is None:
            raise ValidationError(_l("Datum och tid för när anmälan stänger finns inte."))

    def validate_meeting_link(self, field: Any) -> None:
        """Digital dialogues need a link, and it must be a web address."""
        if self.format.data in (DIGITAL, HYBRID) and not field.data:
            raise ValidationError(_l("Skriv länken till det digitala mötet."))
        if field.data and not field.data.startswith(("https://", "http://")):
            raise ValidationError(_l("Länken ska börja med https://."))

    def validate_place(self, field: Any) -> None:
        """Dialogues on site need a place."""
        if self.format.data in (IN_PERSON, HYBRID) and not field.data:
            raise ValidationError(_l("Skriv var dialogen hålls."))

    # The stored start and end when editing: a past dialogue's other details can still be
    # corrected, but no dialogue is given a time that has already begun.
    kept_times: tuple[datetime, datetime] | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        """The field rules, then: a new or changed time must lie ahead (registrants are
        mailed every new time, and a time already gone helps no one)."""
        valid = bool(super().validate(extra_validators))
        starts, ends = self._moment_of(self.starts_at), self._moment_of(self.ends_at)
        if starts is None or ends is None or (starts, ends) == self.kept_times:
            return valid
        if starts <= clock.now():
            self.starts_at.errors = [
                *self.starts_at.errors,
                _l("Tiden har redan varit. Välj en tid som inte har passerat."),
            ]
            return False
        return valid


class HeldReportForm(FlaskForm):
    """After the dialogue."""

    held = Choice(
        _l("Hölls dialogen?"),
        choices=[SelectChoice("ja", _l("Ja")), SelectChoice("nej", _l("Nej"))],
        validators=[InputRequired(_l("Välj om dialogen hölls."))],
    )
    attendees = Count(
        _l("Antal deltagare"),
        default=0,
        validators=[
            InputRequired(_l("Skriv antal deltagare.")),
            NumberRange(min=0, max=100000, message=_l("Skriv ett tal från 0.")),
        ],
    )
    summary = TextAreaField(
        _l("Sammanfattning (publiceras på webben)"), validators=[Optional(), Length(max=10000)]
    )
    themes_raised = TextAreaField(
        _l("Frågor och teman som togs upp"), validators=[Optional(), Length(max=5000)]
    )
    follow_up_actions = TextAreaField(
        _l("Åtgärder att följa upp"), validators=[Optional(), Length(max=5000)]
    )

    # When the dialogue ends: the report is refused before that (set by the view).
    dialogue_ends_at: datetime | None = None

    def validate_held(self, field: Any) -> None:
        """Only after the dialogue has ended."""
        if self.dialogue_ends_at is not None and clock.now() < self.dialogue_ends_at:
            raise ValidationError(
                _l(
                    "Rapporten kan lämnas först när dialogen har slutat, %(when)s.",
                    when=self.dialogue_ends_at.astimezone(clock.STOCKHOLM).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                )
            )


class AnswerForm(FlaskForm):
    """Publish a question with an answer."""

    published_question = TextAreaField(
        _l("Frågan som den publiceras"),
        validators=[DataRequired(_l("Skriv frågan.")), Length(max=2000)],
    )
    published_answer = TextAreaField(
        _l("Svar"), validators=[DataRequired(_l("Skriv svaret.")), Length(max=5000)]
    )


class WalkInForm(FlaskForm):
    """Someone at the door who did not sign up."""

    name = _text(_l("Namn (frivilligt)"), max_length=120, id="walk-in-name")
    party_size = Count(
        _l("Hur många?"),
        default=1,
        id="walk-in-party",
        validators=[
            InputRequired(_l("Skriv hur många som kom.")),
            NumberRange(min=1, max=MAX_PARTY, message=_l("Skriv ett antal mellan 1 och %(max)d.")),
        ],
    )
    over_capacity = BooleanField(_l("Ta in dem även om alla platser är tagna"), id="walk-in-over")


class PromoteForm(FlaskForm):
    """Give one waiting registration a seat by hand."""

    over_capacity = BooleanField(_l("Ge platsen även om alla platser är tagna"))


AUDIENCE_CHOICES = [
    SelectChoice("confirmed", _l("Alla med plats")),
    SelectChoice("waiting", _l("Alla på reservlistan")),
    SelectChoice("all", _l("Alla anmälda, med plats och på reservlistan")),
]


class MessageForm(FlaskForm):
    """A plain-text message to registrants."""

    audience = Choice(
        _l("Till"),
        choices=AUDIENCE_CHOICES,
        default="confirmed",
        validators=[InputRequired(_l("Välj vilka som ska få meddelandet."))],
    )
    subject = _text(
        _l("Ämnesrad"), required=_l("Skriv en ämnesrad."), max_length=150, id="message-subject"
    )
    body = TextAreaField(
        _l("Meddelande"),
        id="message-body",
        validators=[
            DataRequired(_l("Skriv meddelandet.")),
            Length(max=5000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
        description=_l("Skrivs som vanlig text. Skriv inga känsliga uppgifter i mejl."),
    )


class ChangeRegistrationForm(FlaskForm):
    """A registrant changes their party size or needs."""

    party_size = Count(
        _l("Hur många kommer, du inräknad?"),
        validators=[
            InputRequired(_l("Skriv hur många ni är.")),
            NumberRange(min=1, max=MAX_PARTY, message=_l("Skriv ett antal mellan 1 och %(max)d.")),
        ],
    )
    needs = TextAreaField(
        _l("Behöver du något för att kunna delta? (frivilligt)"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )


class AskerAnswerForm(FlaskForm):
    """An answer mailed to the person who asked."""

    answer = TextAreaField(
        _l("Svar till den som frågade"),
        validators=[
            DataRequired(_l("Skriv svaret.")),
            Length(max=5000, message=_l("Texten får vara högst %(max)d tecken.")),
        ],
    )
