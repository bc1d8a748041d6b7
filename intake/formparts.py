"""Form parts in the GOV.UK pattern: label, hint, inline error, input; an error summary on top.

Templates call them as `m.text(form.name)` etc. (`_macros.html` exports them). They are
Python rather than Jinja macros for speed: a step page has 10–25 fields, and as macros each
field cost three macro calls and some thirty escapes through Jinja's runtime, about two thirds
of rendering a step page. The HTML is the one the macros wrote, byte for byte; every value is
escaped as `{{ … }}` escapes it (markupsafe's `escape`, which leaves `Markup` alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from intake.i18n import gettext as _

# The field types whose first input an error summary links to as `<id>-0`.
_GROUPS = ("Choice", "MultiCheckbox")


def error_summary(forms: Iterable[Any]) -> Markup:
    """Every error of these forms, linked to its field; nothing when there are none."""
    items = [(field, error) for form in forms for field in form for error in field.errors]
    if not items:
        return Markup("\n  \n  \n  \n")
    parts = [
        '\n  \n  \n  \n  <div class="error-summary" role="alert"'
        ' aria-labelledby="error-summary-title" tabindex="-1">\n'
        '    <h2 id="error-summary-title">',
        _("Det finns ett problem"),
        "</h2>\n    <ul>\n      ",
    ]
    for field, error in items:
        anchor = "-0" if field.type in _GROUPS else ""
        parts += ['\n      <li><a href="#', escape(field.id), anchor, '">', escape(error)]
        parts.append("</a></li>\n      ")
    parts.append("\n    </ul>\n  </div>\n  \n")
    return Markup("".join(parts))  # noqa: S704 - every value is escaped above


def _errors(field: Any) -> str:
    # One id for all of a field's errors: aria-describedby then announces every one of them.
    if not field.errors:
        return "\n  \n  \n"
    label = _("Fel:")
    inner = "".join(
        f'<p class="field-error"><span class="visually-hidden">{label}</span> {escape(error)}</p>'
        for error in field.errors
    )
    return f'\n  \n  <div id="{escape(field.id)}-error">{inner}</div>\n'


def _hint(field: Any, hint: Any, indent: str) -> str:
    shown = hint or field.description
    if not shown:
        return indent
    return f'<p class="hint" id="{escape(field.id)}-hint">{escape(shown)}</p>{indent}'


def _described_by(field: Any, hint: Any) -> str:
    ids = []
    if hint or field.description:
        ids.append(f"{field.id}-hint")
    if field.errors:
        ids.append(f"{field.id}-error")
    return f' aria-describedby="{escape(" ".join(ids))}"' if ids else ""


def _opening(field: Any) -> str:
    return '\n  <div class="field field-invalid">' if field.errors else '\n  <div class="field">'


def text(
    field: Any,
    hint: Any = "",
    autocomplete: Any = "off",
    type: Any = "text",  # the input's attribute, as the templates name it
    width: Any = "",
    inputmode: Any = "",
) -> Markup:
    """A one-line text input with its label, hint and errors."""
    ident = escape(field.id)
    mode = f' inputmode="{escape(inputmode)}"' if inputmode else ""
    invalid = ' aria-invalid="true"' if field.errors else ""
    return Markup(  # noqa: S704 - every value is escaped
        f'{_opening(field)}\n    <label for="{ident}">{escape(field.label.text)}</label>\n    '
        f"{_hint(field, hint, chr(10) + '    ')}{_errors(field)}"
        f'\n    <input class="input {escape(width)}" id="{ident}" name="{escape(field.name)}"'
        f' type="{escape(type)}"\n      value="{escape(field._value())}"'
        f' autocomplete="{escape(autocomplete)}"{mode}{invalid}{_described_by(field, hint)}>'
        "\n  </div>\n"
    )


def textarea(field: Any, hint: Any = "", rows: Any = 5) -> Markup:
    """A text area with its label, hint and errors."""
    ident = escape(field.id)
    invalid = ' aria-invalid="true"' if field.errors else ""
    return Markup(  # noqa: S704 - every value is escaped
        f'{_opening(field)}\n    <label for="{ident}">{escape(field.label.text)}</label>\n    '
        f"{_hint(field, hint, chr(10) + '    ')}{_errors(field)}"
        f'\n    <textarea class="textarea" id="{ident}" name="{escape(field.name)}"'
        f' rows="{escape(rows)}"{invalid}{_described_by(field, hint)}>'
        f"{escape(field._value())}</textarea>\n  </div>\n"
    )


def _choices(field: Any, kind: str, chosen: Any) -> str:
    ident, name = escape(field.id), escape(field.name)
    return "".join(
        f'\n        <div class="choice">\n          <input type="{kind}" id="{ident}-{index}"'
        f' name="{name}" value="{escape(choice.value)}"'
        f"{' checked' if chosen(choice.value) else ''}>\n"
        f'          <label for="{ident}-{index}">{escape(choice.label)}</label>\n'
        "        </div>\n      "
        for index, choice in enumerate(field.choices)
    )


def _group(field: Any, hint: Any, legend: str, kind: str, chosen: Any) -> Markup:
    return Markup(  # noqa: S704 - every value is escaped
        f'{_opening(field)}\n    <fieldset class="fieldset"{_described_by(field, hint)}>\n'
        f"      {legend}{escape(field.label.text)}</legend>\n      "
        f"{_hint(field, hint, chr(10) + '      ')}{_errors(field)}"
        '\n      <div class="choices">\n      '
        f"{_choices(field, kind, chosen)}"
        "\n      </div>\n    </fieldset>\n  </div>\n"
    )


def radios(field: Any, hint: Any = "", legend_class: Any = "") -> Markup:
    """A group of radio buttons with its legend, hint and errors."""
    data = field.data
    legend = f'<legend class="{escape(legend_class)}">'
    return _group(field, hint, legend, "radio", lambda value: data == value)


def checkboxes(field: Any, hint: Any = "") -> Markup:
    """A group of checkboxes with its legend, hint and errors."""
    data = field.data
    return _group(field, hint, "<legend>", "checkbox", lambda value: bool(data and value in data))
