"""Validating a whole draft again (check page, final submit) with kept, refilled forms: each
draft is judged on its own answers, never on what the previous one left behind."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from intake.reports import journey

from .journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT


def flat(steps: dict[str, dict[str, Any]], **changes: Any) -> dict[str, Any]:
    """A walk's answers as one draft, with some answers changed (None drops one)."""
    answers = {key: value for step in steps.values() for key, value in step.items()}
    answers.update(changes)
    return {key: value for key, value in answers.items() if value is not None}


CHILD = flat(PRIVATE_ANONYMOUS_CHILD)
ADULT = flat(PROFESSIONAL_ADULT)


def slug(step: journey.Step | None) -> str | None:
    return step.slug if step else None


@pytest.mark.parametrize(
    ("draft", "failing"),
    [
        (CHILD, None),
        (ADULT, None),
        (flat(PRIVATE_ANONYMOUS_CHILD, guardians_aware=None), "vardnadshavare"),
        (flat(PRIVATE_ANONYMOUS_CHILD, what_happened=None), "oro"),
        # An adult's concern category offered to a child, and the other way round
        (flat(PRIVATE_ANONYMOUS_CHILD, categories=["beroende"]), "oro"),
        (flat(PROFESSIONAL_ADULT, categories=["omsorgssvikt"]), "oro"),
        (flat(PROFESSIONAL_ADULT, anonymous="ja"), "om-dig"),
        (flat(PROFESSIONAL_ADULT, workplace=None), "dina-uppgifter"),
        (flat(PRIVATE_ANONYMOUS_CHILD, age="8 år"), "personen"),
        (flat(PROFESSIONAL_ADULT, acute_how=None), "oro"),
    ],
)
def test_each_draft_is_judged_on_its_own_answers(
    app: Flask, draft: dict[str, Any], failing: str | None
) -> None:
    with app.test_request_context():
        # Judged alone, after every other case, and again: always the same verdict
        alone = slug(journey.incomplete(draft))
        for other in (CHILD, ADULT, flat(PROFESSIONAL_ADULT, anonymous="ja")):
            journey.incomplete(other)
        assert alone == failing
        assert slug(journey.incomplete(draft)) == failing


def test_a_valid_draft_after_an_invalid_one_passes(app: Flask) -> None:
    with app.test_request_context():
        assert slug(journey.incomplete(flat(PROFESSIONAL_ADULT, categories=["omsorgssvikt"])))
        assert journey.incomplete(ADULT) is None
        assert slug(journey.incomplete(flat(PRIVATE_ANONYMOUS_CHILD, categories=["beroende"])))
        assert journey.incomplete(CHILD) is None


def test_threads_keep_forms_of_their_own(app: Flask) -> None:
    verdicts: dict[str, list[str | None]] = {}

    def judge(name: str, draft: dict[str, Any]) -> None:
        with app.test_request_context():
            verdicts[name] = [slug(journey.incomplete(draft)) for _ in range(200)]

    threads = [
        threading.Thread(target=judge, args=("valid", CHILD)),
        threading.Thread(
            target=judge,
            args=("invalid", flat(PRIVATE_ANONYMOUS_CHILD, what_happened=None)),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts == {"valid": [None] * 200, "invalid": ["oro"] * 200}


def test_every_step_knows_its_field_names_without_a_form(app: Flask) -> None:
    with app.test_request_context():
        for step in journey.STEPS:
            form = step.form(formdata=None, answers={}, meta={"csrf": False})
            assert journey.FIELDS[step.slug] == set(form._fields)


@pytest.mark.parametrize(
    ("answers", "done", "marked"),
    [
        (CHILD, list(PRIVATE_ANONYMOUS_CHILD), True),
        # A step not yet done, or a draft that fails validation as a whole: no mark
        (CHILD, list(PRIVATE_ANONYMOUS_CHILD)[:-1], False),
        (
            flat(PRIVATE_ANONYMOUS_CHILD, categories=["beroende"]),
            list(PRIVATE_ANONYMOUS_CHILD),
            False,
        ),
    ],
)
def test_a_draft_is_marked_checked_only_when_whole_and_valid(
    app: Flask, answers: dict[str, Any], done: list[str], marked: bool
) -> None:
    with app.test_request_context():
        mark = journey.mark_checked(answers, done)
        assert (mark is not None) is marked
        assert journey.checked(answers, mark) is marked


def test_the_mark_holds_only_for_the_same_answers_and_schema_version(app: Flask) -> None:
    with app.test_request_context():
        mark = journey.mark_checked(CHILD, list(PRIVATE_ANONYMOUS_CHILD))
    assert mark is not None
    assert journey.checked(dict(reversed(list(CHILD.items()))), mark)  # order is no matter
    # Any other answer, an older schema version or a malformed mark: validate again
    assert not journey.checked(flat(PRIVATE_ANONYMOUS_CHILD, age="9"), mark)
    assert not journey.checked(CHILD, [journey.SCHEMA_VERSION - 1, mark[1]])
    for odd in (None, [], "x", [journey.SCHEMA_VERSION], {"v": 1}):
        assert not journey.checked(CHILD, odd)  # type: ignore[arg-type]


def _bound(step: journey.Step, posted: dict[str, Any], answers: dict[str, Any]) -> Any:
    form = journey.bind(step, answers, journey.as_formdata(posted))
    return journey.answers_of(form) if form.validate() else None


@pytest.mark.parametrize("walk", [PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT])
def test_a_posted_step_gives_what_a_newly_bound_form_gives(
    app: Flask, walk: dict[str, dict[str, Any]]
) -> None:
    # Given every step posted before by other residents, valid and not
    others = [
        (step, posted, flat(steps))
        for steps in (PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT)
        for step in journey.STEPS
        for posted in (steps.get(step.slug, {}), {"age": "åtta", "reporter_email": "x"})
    ]
    answers: dict[str, Any] = {}
    with app.test_request_context():
        for slug_, posted in walk.items():
            step = journey.BY_SLUG[slug_]
            for other, other_posted, other_answers in others:
                journey.posted_answers(other, journey.as_formdata(other_posted), other_answers)
            # When this resident posts the step on the kept form
            given = journey.posted_answers(step, journey.as_formdata(posted), answers)
            # Then the answers are exactly those of a form bound to this post alone
            assert given == _bound(step, posted, answers)
            assert given is not None
            answers.update(given)
            assert journey.posted_answers(step, journey.as_formdata({}), answers) == _bound(
                step, {}, answers
            )
