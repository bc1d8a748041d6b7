"""One form per step of the orosanmälan journey. Error texts are plain Swedish (translated).

The same forms validate each step as it is posted and, on the check-your-answers page, the
whole draft again, so one set of rules decides what a complete report is.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from intake import clock, emails, law
from intake.i18n import lazy_gettext as _l
from intake.reports import choices as c
from intake.reports.identity import IdentityNumberError, parse_birth_date, parse_identity_number

SHORT = 200
LONG = 8000


def _short(label: Any, *, required: str | None = None) -> StringField:
    checks: list[Any] = [InputRequired(message=required)] if required else []
    checks.append(Length(max=SHORT, message=_l("Svaret får vara högst %(max)d tecken.")))
    return StringField(label, validators=checks, filters=[_strip])


def _long(label: Any, *, required: str | None = None, description: Any = "") -> TextAreaField:
    checks: list[Any] = [InputRequired(message=required)] if required else []
    checks.append(Length(max=LONG, message=_l("Texten får vara högst %(max)d tecken.")))
    return TextAreaField(label, validators=checks, filters=[_strip], description=description)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class Choice(RadioField):
    """A radio group whose wrong-value message is our own Swedish text."""

    def pre_validate(self, form: Any) -> None:
        """Reject values that are not among the options."""
        if self.data is not None and self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(str(_l("Välj ett av alternativen.")))


class MultiCheckbox(SelectMultipleField):
    """Checkboxes for several options."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        """Reject values that are not among the options."""
        allowed = {choice.value for choice in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise StopValidation(str(_l("Välj bland alternativen.")))


def _choice(label: Any, options: Any, *, required: str | None = None, **kw: Any) -> Choice:
    # No Optional(): it would stop the chain before the cross-field validate_<name> rules.
    checks = [InputRequired(message=required)] if required else []
    return Choice(label, choices=options, validators=checks, **kw)


class StepForm(FlaskForm):
    """Base of the step forms: knows the answers already given in the draft.

    No token field of its own (as CheckForm): the app-wide CSRFProtect checks every POST
    before the view runs, and the page renders the token with `csrf_token()`."""

    class Meta:
        csrf = False

    def __init__(self, *args: Any, answers: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.answers = answers or {}
        self.prepare()

    def prepare(self) -> None:
        """Set what depends on the earlier answers (e.g. the options offered)."""

    def refill(self, formdata: Any, *, answers: dict[str, Any]) -> None:
        """Fill this form again, as a new form built from `formdata` and `answers` would be.

        Validating a whole draft builds ~40 fields; refilling a kept form skips that."""
        self.answers = answers
        self.prepare()
        self.process(formdata)

    def given(self, name: str) -> Any:
        """An answer from this form if it has the field, else from earlier steps."""
        field = getattr(self, name, None)
        if isinstance(field, Field):
            return field.data
        return self.answers.get(name)


class ReporterForm(StepForm):
    """Step 1: who is reporting, and anonymity for private persons."""

    reporter_type = _choice(
        _l("Anmäler du som privatperson eller i din yrkesroll?"),
        c.REPORTER_TYPES,
        required=_l("Välj om du är privatperson eller yrkesverksam."),
    )
    anonymous = _choice(_l("Vill du vara anonym?"), c.ANONYMITY)

    def validate_anonymous(self, field: Field) -> None:
        """Private persons choose; professionals may not be anonymous."""
        kind = self.reporter_type.data
        if kind == c.REPORTER_PRIVATE and not field.data:
            raise ValidationError(_l("Välj om du vill vara anonym."))
        if kind == c.REPORTER_PROFESSIONAL and field.data == c.YES:
            raise ValidationError(
                _l("Du som anmäler i din yrkesroll kan inte vara anonym. Välj Nej.")
            )


class SubjectForm(StepForm):
    """Step 2: the person the concern is about."""

    subject_type = _choice(
        _l("Vem gäller din oro?"),
        c.SUBJECT_TYPES,
        required=_l("Välj vem din oro gäller."),
    )
    first_name = _short(_l("Förnamn"))
    last_name = _short(_l("Efternamn"))
    identity_number = _short(
        _l("Personnummer eller samordningsnummer"),
    )
    birth_date = _short(_l("Födelsedatum, om du inte vet personnumret"))
    age = _short(_l("Ungefärlig ålder, om du inte vet födelsedatum"))
    address = _short(_l("Adress eller bostadsområde"))
    phone = _short(_l("Telefonnummer"))
    school = _short(_l("Skola eller förskola"))
    school_class = _short(_l("Klass eller avdelning"))
    interpreter = _choice(_l("Behövs tolk?"), c.YES_NO_UNKNOWN)
    language = _short(_l("Vilket språk?"))

    def validate_identity_number(self, field: Field) -> None:
        """Check digit, calendar date, and the age against the chosen group."""
        if not field.data:
            return
        try:
            number = parse_identity_number(field.data, today=clock.local_date(clock.now()))
        except IdentityNumberError as error:
            raise ValidationError(_identity_message(error)) from error
        age = number.age_on(clock.local_date(clock.now()))
        low, high = c.AGE_RANGES.get(self.subject_type.data or "", (0, 130))
        if not low <= age <= high:
            raise ValidationError(
                _l(
                    "Personnumret gäller en person som är %(age)d år. "
                    "Kontrollera numret eller vem din oro gäller.",
                    age=age,
                )
            )

    def validate_birth_date(self, field: Field) -> None:
        """A real date, not in the future."""
        if field.data:
            try:
                parse_birth_date(field.data, today=clock.local_date(clock.now()))
            except IdentityNumberError as error:
                raise ValidationError(_date_message(error)) from error

    def validate_age(self, field: Field) -> None:
        """A whole number of years."""
        if field.data and (not field.data.isdecimal() or not 0 <= int(field.data) <= 130):
            raise ValidationError(_l("Skriv åldern som ett tal mellan 0 och 130."))

    def validate_language(self, field: Field) -> None:
        """The language is needed when an interpreter is."""
        if self.interpreter.data == c.YES and not field.data:
            raise ValidationError(_l("Skriv vilket språk tolken behöver tala."))


def _identity_message(error: IdentityNumberError) -> Any:
    return {
        "checksum": _l(
            "Personnumret stämmer inte. Kontrollera siffrorna eller lämna fältet tomt "
            "och skriv födelsedatum i stället."
        ),
        "date": _l("Personnumret innehåller ett datum som inte finns."),
        "future": _l("Personnumret innehåller ett datum som inte har varit än."),
    }.get(error.reason, _l("Skriv personnumret som ÅÅÅÅMMDD-NNNN, till exempel 20120317-2387."))


def _date_message(error: IdentityNumberError) -> Any:
    return {
        "date": _l("Datumet finns inte. Skriv som ÅÅÅÅ-MM-DD."),
        "future": _l("Datumet kan inte vara i framtiden."),
    }.get(error.reason, _l("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2012-03-17."))


def _guardian_fields(n: int) -> dict[str, Field]:
    return {
        f"guardian{n}_name": _short(_l("Namn")),
        f"guardian{n}_identity": _short(_l("Personnummer eller födelsedatum")),
        f"guardian{n}_address": _short(_l("Adress")),
        f"guardian{n}_phone": _short(_l("Telefonnummer")),
        f"guardian{n}_interpreter": _choice(_l("Behövs tolk?"), c.YES_NO_UNKNOWN),
        f"guardian{n}_language": _short(_l("Vilket språk?")),
    }


class _GuardiansBase(StepForm):
    guardians_aware = _choice(
        _l("Vet vårdnadshavarna om att du gör en anmälan?"),
        c.YES_NO_UNKNOWN,
        required=_l("Välj om vårdnadshavarna vet om anmälan."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Each guardian's identity is a valid personnummer or a real birth date."""
        ok: bool = super().validate(extra_validators)
        today = clock.local_date(clock.now())
        for n in (1, 2):
            identity: Field = getattr(self, f"guardian{n}_identity")
            if identity.data and not identity.errors:
                message = _guardian_identity_error(identity.data, today)
                if message is not None:
                    identity.errors = [*identity.errors, message]
                    ok = False
            language: Field = getattr(self, f"guardian{n}_language")
            if getattr(self, f"guardian{n}_interpreter").data == c.YES and not language.data:
                language.errors = [*language.errors, _l("Skriv vilket språk tolken behöver tala.")]
                ok = False
        return ok


def _guardian_identity_error(text: str, today: Any) -> Any:
    digits = "".join(ch for ch in text if ch.isdigit())
    try:
        if len(digits) in (10, 12) and "-" not in text[4:5] + text[7:8]:
            parse_identity_number(text, today=today)
        else:
            parse_birth_date(text, today=today)
    except IdentityNumberError as error:
        if len(digits) in (10, 12):
            return _identity_message(error)
        return _date_message(error)
    return None


GuardiansForm = type(
    "GuardiansForm", (_GuardiansBase,), {**_guardian_fields(1), **_guardian_fields(2)}
)
GuardiansForm.__doc__ = "Step 3 (children and young adults): up to two guardians."


class ConcernForm(StepForm):
    """Step 4: what the concern is."""

    categories = MultiCheckbox(_l("Vad gäller din oro? Välj allt som passar."), choices=[])
    what_happened = _long(
        _l("Beskriv vad som gör dig orolig"),
        required=_l("Beskriv vad som gör dig orolig."),
        description=_l("Berätta om händelser, situationer eller beteenden. Ge gärna exempel."),
    )
    why_now = _long(_l("Varför gör du anmälan just nu?"))
    seen_or_heard = _choice(_l("Har du sett eller hört det själv?"), c.SEEN_OR_HEARD)
    heard_from = _long(_l("Om andra har berättat: vem berättade och när?"))
    how_long = _long(_l("När hände det, och hur länge har du varit orolig?"))
    what_could_happen = _long(_l("Vad tror du kan hända om ingen gör något?"))
    acute_danger = _choice(
        _l("Är personen i akut fara just nu?"),
        c.YES_NO_UNKNOWN,
        required=_l("Välj om personen är i akut fara."),
    )
    acute_how = _long(_l("Beskriv faran"))
    where_now = _long(_l("Var är personen just nu, om du vet?"))
    other_children = _long(_l("Finns det andra barn i familjen? Namn och ålder om du vet."))
    consider_before_contact = _long(
        _l("Finns det något socialtjänsten behöver tänka på innan de kontaktar familjen?")
    )
    subject_knows = _choice(_l("Vet personen om att du gör en anmälan?"), c.YES_NO_UNKNOWN)

    def prepare(self) -> None:
        """The concern categories offered depend on whom the concern is about."""
        self.categories.choices = c.concerns_for(self.answers.get("subject_type"))

    def validate_acute_how(self, field: Field) -> None:
        """When there is acute danger, say what it is."""
        if self.acute_danger.data == c.YES and not field.data:
            raise ValidationError(_l("Beskriv den akuta faran."))

    def validate_heard_from(self, field: Field) -> None:
        """Second-hand information needs its source."""
        if self.seen_or_heard.data in {"andra", "bada"} and not field.data:
            raise ValidationError(_l("Skriv vem som berättade och när."))


class ReporterDetailsForm(StepForm):
    """Step 5 (not for anonymous reporters): how socialtjänsten reaches the reporter."""

    reporter_name = _short(_l("Ditt namn"))
    reporter_phone = _short(_l("Telefonnummer"))
    reporter_email = _short(_l("E-postadress"))
    relationship = _short(_l("Din relation till personen"))
    workplace = _short(_l("Arbetsplats eller verksamhet"))
    role = _short(_l("Yrkesroll eller befattning"))
    information_received_by = _short(_l("Vem fick den information som väckte oron?"))
    information_received_on = _short(_l("När fick ni informationen?"))
    informed_family = _choice(_l("Har du berättat för barnet eller vårdnadshavarna?"), c.YES_NO)
    willing_to_meet = _choice(
        _l("Kan du tänka dig att delta i ett möte med familjen och socialtjänsten?"), c.YES_NO
    )
    wants_feedback = _choice(
        _l("Vill du ha återkoppling om en utredning inleds?"),
        c.YES_NO,
    )

    @property
    def professional(self) -> bool:
        """Whether the reporter reports in service (and so must give everything)."""
        return self.answers.get("reporter_type") == c.REPORTER_PROFESSIONAL

    @property
    def offers_feedback(self) -> bool:
        """Återkoppling is asked about only for a mandated reporter about a child (law)."""
        return law.feedback_allowed(self.answers)

    def validate(self, extra_validators: Any = None) -> bool:
        """Private persons give a name and a way to reach them; professionals give all."""
        if not self.offers_feedback:
            # Never asked, so never stored, whatever a crafted request posts.
            self.wants_feedback.data = None
            self.wants_feedback.raw_data = []
        ok: bool = super().validate(extra_validators)
        required: dict[str, Any] = {"reporter_name": _l("Skriv ditt namn.")}
        if self.professional:
            required |= {
                "reporter_phone": _l("Skriv ditt telefonnummer i tjänsten."),
                "reporter_email": _l("Skriv din e-postadress i tjänsten."),
                "workplace": _l("Skriv din arbetsplats eller verksamhet."),
                "role": _l("Skriv din yrkesroll."),
                "information_received_by": _l("Skriv vem som fick informationen."),
                "information_received_on": _l("Skriv när ni fick informationen."),
            }
            if self.offers_feedback:
                required["wants_feedback"] = _l("Välj om du vill ha återkoppling.")
        elif not (self.reporter_phone.data or self.reporter_email.data):
            self.reporter_phone.errors = [
                *self.reporter_phone.errors,
                _l("Skriv ett telefonnummer eller en e-postadress så att vi kan nå dig."),
            ]
            ok = False
        for name, message in required.items():
            field: Field = getattr(self, name)
            if not field.data and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        ok = self._check_email() and ok
        return self._check_received_on() and ok

    def _check_email(self) -> bool:
        value = self.reporter_email.data
        if not value:
            return True
        try:
            self.reporter_email.data = emails.normalise(value)
        except emails.InvalidAddress as error:
            self.reporter_email.errors = [*self.reporter_email.errors, emails.message_for(error)]
            return False
        return True

    def _check_received_on(self) -> bool:
        value = self.information_received_on.data
        if not value or self.information_received_on.errors:
            return True
        try:
            parse_birth_date(value, today=clock.local_date(clock.now()))
        except IdentityNumberError as error:
            self.information_received_on.errors = [
                *self.information_received_on.errors,
                _date_message(error),
            ]
            return False
        return True


class CheckForm(FlaskForm):
    """Check your answers and send: the privacy notice and a honeypot.

    No token field of its own: the app-wide CSRFProtect checks every POST before the view
    runs, and the page renders the token with `csrf_token()`, so the final submit does not
    sign and check a second token."""

    class Meta:
        csrf = False

    confirm = MultiCheckbox(
        _l("Bekräfta"),
        choices=[
            SelectChoice(
                "ja",
                _l("Jag har läst hur mina uppgifter behandlas och lämnar dem efter bästa förmåga"),
            )
        ],
        validators=[
            InputRequired(message=_l("Bekräfta att du har läst hur uppgifterna behandlas."))
        ],
    )
    # Bots fill every field; people never see this one (hidden by the stylesheet).
    website = StringField(_l("Lämna detta fält tomt"))
