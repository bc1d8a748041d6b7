"""The steps of the resident's journey, which apply when, and the answers as a summary."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Field, RadioField, SelectMultipleField
from wtforms.fields.core import UnboundField

from intake.i18n import lazy_gettext as _l
from intake.reports import choices as c
from intake.reports import forms

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Step:
    """One page of questions."""

    slug: str
    title: Any
    form: type[forms.StepForm]
    applies: Callable[[Mapping[str, Any]], bool]


def _always(answers: Mapping[str, Any]) -> bool:
    return True


def _young(answers: Mapping[str, Any]) -> bool:
    return answers.get("subject_type") in c.YOUNG


def _named(answers: Mapping[str, Any]) -> bool:
    return answers.get("anonymous") != c.YES


STEPS: tuple[Step, ...] = (
    Step("om-dig", _l("Om dig som anmäler"), forms.ReporterForm, _always),
    Step("personen", _l("Personen du är orolig för"), forms.SubjectForm, _always),
    Step("vardnadshavare", _l("Vårdnadshavare"), forms.GuardiansForm, _young),
    Step("oro", _l("Din oro"), forms.ConcernForm, _always),
    Step("dina-uppgifter", _l("Dina uppgifter"), forms.ReporterDetailsForm, _named),
)
BY_SLUG = {step.slug: step for step in STEPS}


def _field_names(form: type[forms.StepForm]) -> frozenset[str]:
    """The names of a step form's questions: declared on the class, the same for every draft
    (what depends on earlier answers is only the options offered)."""
    return frozenset(
        name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)
    )


# Known once, at import: building a step's form only to read its field names cost a POST more
# than validating it.
FIELDS = {step.slug: _field_names(step.form) for step in STEPS}


def applicable(answers: Mapping[str, Any]) -> list[Step]:
    """The steps that apply to these answers, in order."""
    return [step for step in STEPS if step.applies(answers)]


def next_step(current: str, answers: Mapping[str, Any]) -> Step | None:
    """The step after `current`, or None when the check page comes next."""
    steps = applicable(answers)
    slugs = [step.slug for step in steps]
    if current not in slugs:
        return steps[0]
    index = slugs.index(current)
    return steps[index + 1] if index + 1 < len(steps) else None


def first_missing(answers: Mapping[str, Any], done: list[str]) -> Step | None:
    """The first applicable step not yet completed."""
    return next((step for step in applicable(answers) if step.slug not in done), None)


def as_formdata(answers: Mapping[str, Any]) -> MultiDict[str, Any]:
    """Stored answers as form data, to validate them again."""
    pairs: list[tuple[str, Any]] = []
    for key, value in answers.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return MultiDict(pairs)


def bind(step: Step, answers: Mapping[str, Any], formdata: Any = None) -> forms.StepForm:
    """The step's form, filled from posted data or, without it, from stored answers."""
    if formdata is None:
        return step.form(formdata=as_formdata(answers), answers=dict(answers))
    return step.form(formdata=formdata, answers=dict(answers))


def answers_of(form: forms.StepForm) -> dict[str, Any]:
    """The answers a valid step form holds (no CSRF token)."""
    return {
        name: field.data
        for name, field in form._fields.items()
        if name != "csrf_token" and field.data not in (None, "", [])
    }


def prune(answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers of steps that no longer apply (e.g. guardians after choosing an adult)."""
    keep = {name for step in applicable(answers) for name in FIELDS[step.slug]}
    return {key: value for key, value in answers.items() if key in keep}


class _Checkers(threading.local):
    """One kept form per step and thread, refilled to validate whole drafts and to label the
    summary without building every field again. Never rendered, never handed out."""

    def __init__(self) -> None:
        self.forms: dict[str, forms.StepForm] = {}


_checkers = _Checkers()


def _checker(step: Step) -> forms.StepForm:
    form = _checkers.forms.get(step.slug)
    if form is None:
        form = _checkers.forms[step.slug] = step.form(formdata=None, meta={"csrf": False})
    return form


def posted_answers(step: Step, formdata: Any, answers: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answers a valid POST of `step` gives (`answers_of` a form bound to it), or None
    if it is not valid. Validated on the step's kept form: building the step's fields cost
    as much as validating them. An invalid POST is bound anew by the view, to be shown."""
    form = _checker(step)
    form.refill(formdata, answers=dict(answers))
    return answers_of(form) if form.validate() else None


def incomplete(answers: Mapping[str, Any]) -> Step | None:
    """Validate every applicable step again; the first that fails, or None if all pass."""
    for step in applicable(answers):
        form = _checker(step)
        form.refill(as_formdata(answers), answers=dict(answers))
        if not form.validate():
            return step
    return None


def _digest(answers: Mapping[str, Any]) -> str:
    canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def mark_checked(answers: Mapping[str, Any], done: list[str]) -> list[Any] | None:
    """After a step is saved: if every applicable step is done and the whole draft passes
    `incomplete`, the mark to keep in the draft (this schema version and a digest of exactly
    these answers); else None."""
    if first_missing(answers, done) is not None or incomplete(answers) is not None:
        return None
    return [SCHEMA_VERSION, _digest(answers)]


def checked(answers: Mapping[str, Any], mark: list[Any] | None) -> bool:
    """Whether these answers were validated whole, under this schema version, when the
    server last wrote the draft (drafts are written only by the server, encrypted and
    authenticated): then the check page and the final submit need not validate them again."""
    return (
        isinstance(mark, list)
        and len(mark) == 2
        and mark[0] == SCHEMA_VERSION
        and mark[1] == _digest(answers)
    )


@dataclass(frozen=True)
class Row:
    """One answered question for the summary."""

    name: str
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    """The answered questions of one step."""

    step: Step
    rows: list[Row]


def _display(field: Field, value: Any) -> str:
    if isinstance(field, SelectMultipleField):
        return ", ".join(c.label_of(list(field.choices), item) for item in value)
    if isinstance(field, RadioField):
        return c.label_of(list(field.choices), value)
    return str(value)


def summary(answers: Mapping[str, Any]) -> list[Section]:
    """The answers as labelled rows, step by step, for the check page and caseworkers."""
    sections = []
    for step in applicable(answers):
        # Labels and options only (read at once, as text): a kept form, prepared for these
        # answers, instead of building each step's fields again.
        form = _checker(step)
        form.refill(None, answers=dict(answers))
        rows = [
            Row(name, str(field.label.text), _display(field, answers[name]))
            for name, field in form._fields.items()
            if name in answers and answers[name] not in (None, "", [])
        ]
        sections.append(Section(step=step, rows=rows))
    return sections
