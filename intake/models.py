"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from intake.accounts.models import User
from intake.outbox import OutboxMessage
from intake.reports.models import Draft, Inbox, Report, RoutingRule

__all__ = ["Draft", "Inbox", "OutboxMessage", "Report", "RoutingRule", "User"]
