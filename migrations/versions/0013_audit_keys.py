"""audit: each row names the version of the audit key its MAC is under (0 = plain SHA-256)

Revision ID: 0013_audit_keys
Revises: 0012_promise
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_audit_keys"
down_revision = "0012_promise"
branch_labels = None
depends_on = None


def upgrade():
    # Rows written so far stay as they are: version 0, the plain hash chain, checked as such
    # up to the cut-over row recorded in the instance secrets (intake.audit).
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_id", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
