"""Routing: ordered rules pick the inbox a report goes to; the first match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from intake.extensions import db
from intake.reports.models import Inbox, RoutingRule


class NoInboxError(RuntimeError):
    """No rule matched and no fallback inbox is set: the installation is misconfigured."""


@dataclass(frozen=True)
class Route:
    """Where a report goes and why."""

    inbox_id: int
    rule_id: int | None


def matches(rule: RoutingRule, answers: Mapping[str, Any]) -> bool:
    """Whether every condition the rule sets holds for these answers."""
    return (rule.subject_type is None or rule.subject_type == answers.get("subject_type")) and (
        rule.reporter_type is None or rule.reporter_type == answers.get("reporter_type")
    )


def choose(answers: Mapping[str, Any], rules: Sequence[RoutingRule], fallback: int | None) -> Route:
    """The route for these answers given the rules in order and the fallback inbox."""
    for rule in rules:
        if matches(rule, answers):
            return Route(inbox_id=rule.inbox_id, rule_id=rule.id)
    if fallback is None:
        raise NoInboxError("no routing rule matched and there is no fallback inbox")
    return Route(inbox_id=fallback, rule_id=None)


def route(answers: Mapping[str, Any]) -> Route:
    """Route answers with the rules stored in the database."""
    rules = db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.position)).all()
    fallback = db.session.scalar(sa.select(Inbox.id).where(Inbox.is_fallback.is_(True)).limit(1))
    return choose(answers, rules, fallback)
