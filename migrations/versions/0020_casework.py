"""report: triage columns, assigned caseworker, stored next deadline (issues 13 §2, 14 §1)

Revision ID: 0020_casework
Revises: 0019_organiser
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

revision = "0020_casework"
down_revision = "0019_organiser"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("concern_group", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("next_deadline_kind", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_assigned_to_id_user_account"),
            "user_account",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_report_inbox_assigned_list",
            ["inbox_id", "assigned_to_id", "acute_first", "received_at", "id"],
        )
        batch_op.create_index(
            "ix_report_inbox_triage",
            [
                "inbox_id",
                "next_deadline",
                "concern_group",
                "reporter_kind",
                "subject_type",
                "assigned_to_id",
                "status",
                "acute_first",
                "acute_answer",
                "acute",
            ],
        )
    _backfill_reporter_kind()
    _backfill_next_deadline()


def _backfill_reporter_kind():
    # Only what plain data tells: återkoppling is asked for by professionals only, and a rule
    # that matched on "yrkesverksam" routed only professionals. A private person may or may
    # not have been anonymous: those stay NULL ("okänd") until a caseworker opens the report.
    report = sa.table(
        "report",
        sa.column("reporter_kind", sa.String()),
        sa.column("feedback_requested", sa.Boolean()),
        sa.column("routing_rule_id", sa.Integer()),
    )
    rule = sa.table("routing_rule", sa.column("id", sa.Integer()), sa.column("reporter_type"))
    professional_rules = sa.select(rule.c.id).where(rule.c.reporter_type == "yrkesverksam")
    op.execute(
        report.update()
        .where(
            sa.or_(
                report.c.feedback_requested.is_(True),
                report.c.routing_rule_id.in_(professional_rules),
            )
        )
        .values(reporter_kind="yrkesverksam")
    )


def _backfill_next_deadline():
    # The dates come from the application's own rules (intake.reports.next_deadline), as the
    # inbox showed them before this migration; only plain columns are read.
    from intake.models_base import UTCDateTime
    from intake.reports import next_deadline

    bind = op.get_bind()
    report = sa.table(
        "report",
        sa.column("id", sa.String()),
        sa.column("subject_type", sa.String()),
        sa.column("feedback_requested", sa.Boolean()),
        sa.column("decision", sa.String()),
        sa.column("decided_on", sa.Date()),
        sa.column("registered_on", sa.Date()),
        sa.column("received_at", UTCDateTime()),
        sa.column("assessed_at", UTCDateTime()),
        sa.column("feedback_sent_at", UTCDateTime()),
        sa.column("purged_at", UTCDateTime()),
        sa.column("next_deadline", sa.Date()),
        sa.column("next_deadline_kind", sa.String()),
    )
    update = (
        report.update()
        .where(report.c.id == sa.bindparam("report_id"))
        .values(
            next_deadline=sa.bindparam("due", type_=sa.Date()),
            next_deadline_kind=sa.bindparam("kind", type_=sa.String()),
        )
    )
    last = ""
    while True:
        rows = bind.execute(
            sa.select(report)
            .where(report.c.purged_at.is_(None), report.c.id > last)
            .order_by(report.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        values = []
        for row in rows:
            due, kind = next_deadline.compute(SimpleNamespace(**row._asdict()))
            values.append({"report_id": row.id, "due": due, "kind": kind})
        bind.execute(update, values)
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_inbox_triage")
        batch_op.drop_index("ix_report_inbox_assigned_list")
        batch_op.drop_constraint(
            batch_op.f("fk_report_assigned_to_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("next_deadline_kind")
        batch_op.drop_column("next_deadline")
        batch_op.drop_column("assigned_to_id")
        batch_op.drop_column("concern_group")
        batch_op.drop_column("reporter_kind")
