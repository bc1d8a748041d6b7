"""Routing: ordered rules pick the inbox, the first match wins, else the fallback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake.extensions import db
from intake.reports import choices as c
from intake.reports.models import Inbox, RoutingRule
from intake.reports.routing import NoInboxError, Route, choose, destination

BARN_OCH_UNGA, VUXNA, FALLBACK, POLISEN = 1, 2, 3, 4


@dataclass(frozen=True)
class Rule:
    """A routing rule as plain data (what `choose` reads of a RoutingRule)."""

    id: int
    inbox_id: int
    subject_type: str | None = None
    reporter_type: str | None = None


DEFAULT_RULES: list[Any] = [
    Rule(1, BARN_OCH_UNGA, subject_type=c.CHILD),
    Rule(2, BARN_OCH_UNGA, subject_type=c.YOUNG_ADULT),
    Rule(3, VUXNA, subject_type=c.ADULT),
    Rule(4, VUXNA, subject_type=c.ELDERLY),
]


@pytest.mark.parametrize(
    ("subject_type", "inbox_id", "rule_id"),
    [
        (c.CHILD, BARN_OCH_UNGA, 1),
        (c.YOUNG_ADULT, BARN_OCH_UNGA, 2),
        (c.ADULT, VUXNA, 3),
        (c.ELDERLY, VUXNA, 4),
    ],
)
@pytest.mark.parametrize("reporter_type", [c.REPORTER_PRIVATE, c.REPORTER_PROFESSIONAL])
def test_default_rules_by_subject_type(
    subject_type: str, inbox_id: int, rule_id: int, reporter_type: str
) -> None:
    answers = {"subject_type": subject_type, "reporter_type": reporter_type}
    assert choose(answers, DEFAULT_RULES, FALLBACK) == Route(inbox_id=inbox_id, rule_id=rule_id)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # A professional reporting about a child goes to the first rule that names both.
        (
            {"subject_type": c.CHILD, "reporter_type": c.REPORTER_PROFESSIONAL},
            Route(POLISEN, 10),
        ),
        # A private person about a child skips it and falls through to the subject rule.
        ({"subject_type": c.CHILD, "reporter_type": c.REPORTER_PRIVATE}, Route(BARN_OCH_UNGA, 11)),
        # A professional about an adult matches the reporter-only rule before the subject rule.
        (
            {"subject_type": c.ADULT, "reporter_type": c.REPORTER_PROFESSIONAL},
            Route(VUXNA, 12),
        ),
        # A private person about an adult: only the subject rule holds.
        ({"subject_type": c.ADULT, "reporter_type": c.REPORTER_PRIVATE}, Route(BARN_OCH_UNGA, 13)),
        # Nothing but the catch-all rule matches an elderly subject from a private person.
        ({"subject_type": c.ELDERLY, "reporter_type": c.REPORTER_PRIVATE}, Route(FALLBACK, 14)),
        # Missing answers never satisfy a condition.
        ({}, Route(FALLBACK, 14)),
    ],
)
def test_rules_with_reporter_conditions_first_match_wins(
    answers: dict[str, str], expected: Route
) -> None:
    rules: list[Any] = [
        Rule(10, POLISEN, subject_type=c.CHILD, reporter_type=c.REPORTER_PROFESSIONAL),
        Rule(11, BARN_OCH_UNGA, subject_type=c.CHILD),
        Rule(12, VUXNA, reporter_type=c.REPORTER_PROFESSIONAL),
        Rule(13, BARN_OCH_UNGA, subject_type=c.ADULT),
        Rule(14, FALLBACK),  # no conditions: matches everything
        Rule(15, VUXNA),  # never reached
    ]
    assert choose(answers, rules, None) == expected


def test_order_decides_between_overlapping_rules() -> None:
    answers = {"subject_type": c.CHILD, "reporter_type": c.REPORTER_PRIVATE}
    first = Rule(1, BARN_OCH_UNGA, subject_type=c.CHILD)
    second = Rule(2, VUXNA, subject_type=c.CHILD)
    assert choose(answers, [first, second], None) == Route(BARN_OCH_UNGA, 1)
    assert choose(answers, [second, first], None) == Route(VUXNA, 2)


@pytest.mark.parametrize(
    ("rules", "answers"),
    [
        ([], {"subject_type": c.CHILD}),
        (DEFAULT_RULES, {}),
        (DEFAULT_RULES, {"subject_type": "okänd"}),
        ([Rule(1, VUXNA, reporter_type=c.REPORTER_PROFESSIONAL)], {"subject_type": c.ADULT}),
    ],
)
def test_no_match_goes_to_the_fallback(rules: list[Any], answers: dict[str, str]) -> None:
    assert choose(answers, rules, FALLBACK) == Route(inbox_id=FALLBACK, rule_id=None)


@pytest.mark.parametrize("rules", [[], DEFAULT_RULES])
def test_no_match_and_no_fallback_is_a_misconfiguration(rules: list[Any]) -> None:
    with pytest.raises(NoInboxError):
        choose({"subject_type": "okänd"}, rules, None)


def test_a_matching_rule_needs_no_fallback() -> None:
    assert choose({"subject_type": c.ELDERLY}, DEFAULT_RULES, None) == Route(VUXNA, 4)


def test_the_stored_rules_decide_as_choose_does(app: Flask) -> None:
    """`destination` reads the rules and inboxes the installation has; its answer is the one
    `choose` gives for the same rules, with the chosen inbox's key and address."""
    with app.app_context():
        stored = db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.position)).all()
        fallback = db.session.scalar(sa.select(Inbox.id).where(Inbox.is_fallback.is_(True)))
        for subject_type in (c.CHILD, c.YOUNG_ADULT, c.ADULT, c.ELDERLY, "okand"):
            answers = {"subject_type": subject_type, "reporter_type": c.REPORTER_PRIVATE}
            found = destination(answers)
            expected = choose(answers, stored, fallback)
            assert (found.inbox_id, found.rule_id) == (expected.inbox_id, expected.rule_id)
            inbox = db.session.get(Inbox, found.inbox_id)
            assert inbox is not None
            assert (found.name, found.public_key, found.notification_email) == (
                inbox.name,
                inbox.public_key,
                inbox.notification_email,
            )


def test_no_matching_rule_and_no_fallback_is_a_configuration_error(app: Flask) -> None:
    with app.app_context():
        db.session.execute(sa.delete(RoutingRule))
        db.session.execute(sa.update(Inbox).values(is_fallback=False))
        db.session.commit()
        with pytest.raises(NoInboxError):
            destination({"subject_type": c.CHILD})
