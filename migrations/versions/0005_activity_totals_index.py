"""follow-up: a covering index for the dashboard's activity sums

Revision ID: 0005_activity_totals_index
Revises: 0004_followup
"""
from alembic import op

revision = "0005_activity_totals_index"
down_revision = "0004_followup"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_totals", ["commitment_id", "occurred_on", "count"], unique=False)


def downgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_totals")
