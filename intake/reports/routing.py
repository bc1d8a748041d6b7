"""Routing: ordered rules pick the inbox a report goes to; the first match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from intake.extensions import db
from intake.reports.models import Inbox, RoutingRule

NO_INBOX = "no routing rule matched and there is no fallback inbox"


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


R = TypeVar("R", bound=Rule)


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


def first_match(answers: Mapping[str, Any], rules: Sequence[R]) -> R | None:
    """The first rule, in order, whose conditions hold for these answers."""
    return next((rule for rule in rules if matches(rule, answers)), None)


def choose(answers: Mapping[str, Any], rules: Sequence[Rule], fallback: int | None) -> Route:
    """The route for these answers given the rules in order and the fallback inbox."""
    rule = first_match(answers, rules)
    if rule is not None:
        return Route(inbox_id=rule.inbox_id, rule_id=rule.id)
    if fallback is None:
        raise NoInboxError(NO_INBOX)
    return Route(inbox_id=fallback, rule_id=None)


@dataclass(frozen=True)
class Destination:
    """The inbox a report goes to, with what sending it there needs, and the rule that chose it."""

    inbox_id: int
    rule_id: int | None
    name: str
    public_key: bytes
    notification_email: str | None


_rules = RoutingRule.__table__.c
_inboxes = Inbox.__table__.c
_INBOX_COLUMNS = (_inboxes.name, _inboxes.public_key, _inboxes.notification_email)
# Core statements on the tables (no ORM objects): routing runs on every submit. Each rule comes
# with its inbox's columns, so the common case is one query.
_RULES = (
    sa.select(
        _rules.id, _rules.inbox_id, _rules.subject_type, _rules.reporter_type, *_INBOX_COLUMNS
    )
    .join_from(RoutingRule.__table__, Inbox.__table__)
    .order_by(_rules.position)
)
_FALLBACK = (
    sa.select(_inboxes.id.label("inbox_id"), *_INBOX_COLUMNS)
    .where(_inboxes.is_fallback.is_(True))
    .order_by(_inboxes.id)
    .limit(1)
)


def destination(answers: Mapping[str, Any]) -> Destination:
    """Where these answers go, by the rules stored in the database (read in the caller's
    transaction); as `choose` decides, and with the inbox's columns a submit needs."""
    connection = db.session.connection()
    rule = first_match(answers, connection.execute(_RULES).all())
    if rule is not None:
        return Destination(
            rule.inbox_id, rule.id, rule.name, rule.public_key, rule.notification_email
        )
    # The fallback is read only when no rule matches.
    fallback = connection.execute(_FALLBACK).one_or_none()
    if fallback is None:
        raise NoInboxError(NO_INBOX)
    return Destination(
        fallback.inbox_id, None, fallback.name, fallback.public_key, fallback.notification_email
    )
