"""report: stored acute-first sort key and indexes for the inbox list (issue 14 §1)

Revision ID: 0015_scale
Revises: 0014_gallring
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_scale"
down_revision = "0014_gallring"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acute_first", sa.SmallInteger(), nullable=False, server_default=sa.text("0"))
        )
    # "ja" and "vet inte" sort with the acute ones (intake.law.ACUTE_AS_ACUTE).
    report = sa.table(
        "report",
        sa.column("acute", sa.Boolean()),
        sa.column("acute_answer", sa.String()),
        sa.column("acute_first", sa.SmallInteger()),
    )
    op.execute(
        report.update()
        .where(sa.or_(report.c.acute.is_(True), report.c.acute_answer.in_(["ja", "vet_ej"])))
        .values(acute_first=1)
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_inbox_list", ["inbox_id", "acute_first", "received_at", "id"]
        )
        batch_op.create_index(
            "ix_report_inbox_status_list",
            ["inbox_id", "status", "acute_first", "received_at", "id"],
        )
        batch_op.create_index(
            "ix_report_inbox_counts", ["inbox_id", "status", "acute_answer", "acute"]
        )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_inbox_counts")
        batch_op.drop_index("ix_report_inbox_status_list")
        batch_op.drop_index("ix_report_inbox_list")
        batch_op.drop_column("acute_first")
