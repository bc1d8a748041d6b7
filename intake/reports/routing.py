"""Routing: ordered rules pick the inbox a report goes to; the first match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from intake.extensions import db
from intake.reports.models import Inbox, RoutingRule


class NoInboxError(RuntimeError):
    """No rule matched and no fallback inbox is set: the installation is misconfigured."""


class Rule(Protocol):
    """What routing reads of a rule (a RoutingRule, or a row of its columns)."""

    @property
    def id(self) -> int: ...
    @property
    def inbox_id(self) -> int: ...
    @property
    def subject_type(self) -> str | None: ...
    @property
    def reporter_type(self) -> str | None: ...


@dataclass(frozen=True)
class Route:
    """Where a report goes and why."""

    inbox_id: int
    rule_id: int | None


def matches(rule: Rule, answers: Mapping[str, Any]) -> bool:
    """Whether every condition the rule sets holds for these answers."""
    return (rule.subject_type is None or rule.subject_type == answers.get("subject_type")) and (
        rule.reporter_type is None or rule.reporter_type == answers.get("reporter_type")
    )


def choose(answers: Mapping[str, Any], rules: Sequence[Rule], fallback: int | None) -> Route:
    """The route for these answers given the rules in order and the fallback inbox."""
    for rule in rules:
        if matches(rule, answers):
            return Route(inbox_id=rule.inbox_id, rule_id=rule.id)
    if fallback is None:
        raise NoInboxError("no routing rule matched and there is no fallback inbox")
    return Route(inbox_id=fallback, rule_id=None)


_rules = RoutingRule.__table__.c
_inboxes = Inbox.__table__.c
# Core statements on the tables (no ORM objects): routing runs on every submit.
_FALLBACK = sa.select(_inboxes.id).where(_inboxes.is_fallback.is_(True)).limit(1)
_RULES = sa.select(_rules.id, _rules.inbox_id, _rules.subject_type, _rules.reporter_type).order_by(
    _rules.position
)


def route(answers: Mapping[str, Any]) -> Route:
    """Route answers with the rules stored in the database (read in the caller's transaction)."""
    connection = db.session.connection()
    rules: Sequence[Any] = connection.execute(_RULES).all()
    if any(matches(rule, answers) for rule in rules):
        return choose(answers, rules, None)
    # The fallback is read only when no rule matches.
    return choose(answers, (), connection.execute(_FALLBACK).scalar())
