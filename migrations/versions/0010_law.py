"""law: tri-state acute answer, subject type, återkoppling request, adult handling states

Revision ID: 0010_law
Revises: 0009_worker_health
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_law"
down_revision = "0009_worker_health"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adult_outcomes", sa.String(length=400), nullable=True))
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acute_answer", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("subject_type", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "feedback_requested", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
    # What is known without opening a report: an acute "ja", and the subject type of the
    # routing rule that chose the inbox. The rest is filled in when a member opens the report.
    op.execute("UPDATE report SET acute_answer = 'ja' WHERE acute = true")
    op.execute(
        "UPDATE report SET subject_type = (SELECT routing_rule.subject_type FROM routing_rule "
        "WHERE routing_rule.id = report.routing_rule_id) WHERE routing_rule_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("feedback_requested")
        batch_op.drop_column("subject_type")
        batch_op.drop_column("acute_answer")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("adult_outcomes")
