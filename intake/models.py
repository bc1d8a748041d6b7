"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from intake.accounts.models import BackupCode, Membership, StaffSession, User
from intake.audit import AuditEvent, AuditHead
from intake.dialogues.models import Dialogue, HeldReport, Question, Registration
from intake.followup.models import Activity, Commitment, Promise, YearNote
from intake.gallring import RetentionDecision
from intake.health import WorkerHeartbeat
from intake.jobs import JobRun
from intake.outbox import OutboxMessage
from intake.reports.models import (
    CaseNote,
    ChannelMessage,
    Draft,
    Inbox,
    Report,
    ReportMessage,
    RoutingRule,
)

__all__ = [
    "Activity",
    "AuditEvent",
    "AuditHead",
    "BackupCode",
    "CaseNote",
    "ChannelMessage",
    "Commitment",
    "Dialogue",
    "Draft",
    "HeldReport",
    "Inbox",
    "JobRun",
    "Membership",
    "OutboxMessage",
    "Promise",
    "Question",
    "Registration",
    "Report",
    "ReportMessage",
    "RetentionDecision",
    "RoutingRule",
    "StaffSession",
    "User",
    "WorkerHeartbeat",
    "YearNote",
]
