"""registration: an index for counting and paging the waiting list

Revision ID: 0017_nodes
Revises: 0016_channel
"""
from alembic import op

revision = "0017_nodes"
down_revision = "0016_channel"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registration_queue", ["dialogue_id", "status", "created_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_queue")
