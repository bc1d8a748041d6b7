"""One gate for every query string and form value: no control character reaches a view.

NUL, C0 control characters (TAB, and in multi-line fields LF and CR, excepted), lone
surrogates and invalid UTF-8 are refused before any view, form or database sees them: a query
string gets a Swedish 400 page; a form gets a 400 page that holds everything typed, with the
bad characters taken out, ready to send again (DESIGN.md must-hold #6). A field is multi-line
when some form declares it a `TextAreaField`; elsewhere CR and LF are refused too (they are
how headers and log lines are forged). Numeric query parameters are bounded (intake.bounds).
The gate never writes to the session, so a refused request sets no cookie.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import unquote_to_bytes

from flask import abort, render_template, request, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField

from intake import bounds
from intake.errors import NOT_ECHOED

SINGLE_LINE = re.compile("[\x00-\x08\x0a-\x1f\ud800-\udfff]")
MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n]")
_FORM_BODY = "application/x-www-form-urlencoded"


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    direct: type
    for direct in cls.__subclasses__():
        found.extend(_subclasses(direct))
    return found


@cache
def multiline_fields() -> frozenset[str]:
    """The names of every text area in every form (the forms are imported by then)."""
    return frozenset(
        name
        for form in _subclasses(FlaskForm)
        for name, value in vars(form).items()
        if isinstance(value, UnboundField) and issubclass(value.field_class, TextAreaField)
    )


def refused(value: str, *, multiline: bool) -> bool:
    """Whether a value holds a character no field takes."""
    return bool((MULTI_LINE if multiline else SINGLE_LINE).search(value))


def cleaned(value: str, *, multiline: bool) -> str:
    """The value without what `refused` objects to; line breaks in one-line fields as spaces."""
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    return MULTI_LINE.sub("", value)


def _utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded_anyway(raw: bytes) -> list[tuple[str, str]]:
    """The pairs of an urlencoded body that is no UTF-8 (werkzeug then drops every field), the
    undecodable bytes left out, so the page can still give back what was typed."""
    pairs = []
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        decode = [
            unquote_to_bytes(x.replace(b"+", b" ")).decode("utf-8", "ignore") for x in (name, value)
        ]
        if decode[0]:
            pairs.append((decode[0], decode[1]))
    return pairs


def check() -> tuple[str, int] | None:
    """before_request: refuse bad characters in the path, the query or the form; bound query
    numbers."""
    # No address of ours holds a control character: such a path names nothing (and would
    # reach the database as a key, where PostgreSQL refuses a NUL with an error).
    if refused(request.path, multiline=False):
        abort(404)
    args = list(request.args.items(multi=True))
    if not _utf8(request.query_string) or any(
        refused(name, multiline=False) or refused(value, multiline=False) for name, value in args
    ):
        return render_template("errors/characters.html", fields=None), 400
    if not all(bounds.query_number_ok(name, value) for name, value in args):
        abort(404)
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return None
    # Read the raw body first (kept for the form parser): werkzeug would keep invalid UTF-8
    # as its percent-escapes, which is valid text, so only the bytes show it.
    raw_ok = request.mimetype != _FORM_BODY or _utf8(request.get_data(cache=True))
    multiline = multiline_fields()
    # A multipart part without a name comes back named None.
    fields = [(name or "", value) for name, value in request.form.items(multi=True)]
    if not raw_ok:
        fields = _decoded_anyway(request.get_data(cache=True))
    names = [file.filename or "" for _, file in request.files.items(multi=True)]
    bad = [
        name
        for name, value in fields
        if refused(name, multiline=False) or refused(value, multiline=name in multiline)
    ]
    if raw_ok and not bad and not any(refused(name, multiline=False) for name in names):
        return None
    kept = [
        (cleaned(name, multiline=False), cleaned(value, multiline=name in multiline))
        for name, value in fields
        if name not in NOT_ECHOED
    ]
    # A token only from a session that has one: making one would set a new cookie.
    token = generate_csrf() if "csrf_token" in session else None
    page = render_template(
        "errors/characters.html",
        fields=kept,
        retype=any(name in NOT_ECHOED - {"csrf_token"} for name, _ in fields),
        action=request.full_path.rstrip("?"),
        token=token,
    )
    return page, 400
