"""inbox: drop retention_days (never read; the gallringsbeslut decides, migration 0014)

Revision ID: 0022_inbox_retention
Revises: 0021_tally

Per-inbox retention was planned before retention became the municipality's recorded
gallringsbeslut per information class (intake.gallring). The column has been written (30)
and never read since; an administrator reading the schema could think it decides something.
"""
from alembic import op
import sqlalchemy as sa

revision = "0022_inbox_retention"
down_revision = "0021_tally"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("retention_days")


def downgrade():
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_days", sa.Integer(), nullable=False, server_default="30")
        )
