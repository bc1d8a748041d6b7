"""E-mail addresses: the one place that decides what an address is and how it is stored.

Every address the service takes (forms, admin pages, setup, FIRST_ADMIN_EMAIL) and every
address the outbox sends to passes `normalise`, built on `email-validator` without DNS
lookups (no network at request time).

SMTPUTF8 is refused on purpose: a local part (before the @) must be ASCII. Many mail servers,
Flask-Mail and the municipality's relay do not speak SMTPUTF8 end to end, and an address that
cannot be delivered would only fail later, in the worker, where nobody sees it; the resident
is told at once, in Swedish, instead. Internationalised domains (after the @) are fine: they
are stored in their IDNA ASCII form (`xn--…`), which every server understands.

Addresses are stored in lower case: the service compares them (sign-in, "already signed up")
and no mail system the municipality meets treats the local part's case as meaningful.

Setup's stand-ins end in `.invalid` (RFC 2606: never resolves). `email-validator` refuses
that name; `stand_in_ok=True` lets setup and the outbox accept them. The staff forms for users
and inboxes (`Address(stand_ins=True)`) accept them only while ALLOW_STAND_IN_EMAILS is on — a
local trial (`make run` turns it on) where the README's `.invalid` examples must work and no
mail leaves the machine. Residents' forms never do.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import ValidationError

STAND_IN_SUFFIX = ".invalid"
# Only the shape of a stand-in's domain is checked: a neutral reserved-free name stands in for
# `.invalid` while email-validator looks at it.
_STAND_IN_CHECK = ".se"
MAX_LENGTH = 254

MESSAGE = _l("Skriv e-postadressen som namn@exempel.se.")
ASCII_MESSAGE = _l(
    "Adressen får bara innehålla a–z, 0–9 och . _ - + före @ (inte å, ä, ö eller andra "
    "bokstäver). Skriv den som din e-posttjänst visar den."
)


class InvalidAddress(ValueError):
    """The text is not an e-mail address the service can send to."""

    def __init__(self, reason: str, *, non_ascii_local: bool = False) -> None:
        super().__init__(reason)
        self.non_ascii_local = non_ascii_local


def normalise(address: str, *, stand_in_ok: bool = False) -> str:
    """The address in the form the service stores and sends to; raises InvalidAddress."""
    text = address.strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidAddress("empty or too long")
    stand_in = stand_in_ok and text.lower().endswith(STAND_IN_SUFFIX)
    checked = text[: -len(STAND_IN_SUFFIX)] + _STAND_IN_CHECK if stand_in else text
    local = checked.rpartition("@")[0]
    if not local.isascii():
        raise InvalidAddress("non-ASCII local part", non_ascii_local=True)
    try:
        result = validate_email(checked, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from error
    ascii_email = str(result.ascii_email)
    if stand_in:
        ascii_email = ascii_email[: -len(_STAND_IN_CHECK)] + STAND_IN_SUFFIX
    return ascii_email.lower()


def message_for(error: InvalidAddress) -> str:
    """The Swedish text a form shows for this error."""
    return str(ASCII_MESSAGE if error.non_ascii_local else MESSAGE)


class Address:
    """WTForms validator: a valid address, replaced in the field by its stored form.

    `stand_ins=True` (staff forms only): a `.invalid` stand-in passes while the app's
    ALLOW_STAND_IN_EMAILS is on.
    """

    def __init__(self, *, stand_ins: bool = False) -> None:
        self.stand_ins = stand_ins

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        allowed = self.stand_ins and bool(current_app.config.get("ALLOW_STAND_IN_EMAILS"))
        try:
            field.data = normalise(str(field.data), stand_in_ok=allowed)
        except InvalidAddress as error:
            raise ValidationError(message_for(error)) from error
