"""dialogue drafts (published_at), walk-ins, answered questions

A new dialogue is a draft (status "draft") until it is published. The dialogues already in
the database were public before drafts existed, so they stay published: their status is kept
and published_at is set to when they were created.

Revision ID: 0019_organiser
Revises: 0018_casenotes
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_organiser"
down_revision = "0018_casenotes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dialogue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE dialogue SET published_at = created_at WHERE status <> 'draft'")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("walk_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("dialogue_question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("dialogue_question", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("walk_in")
    with op.batch_alter_table("dialogue", schema=None) as batch_op:
        batch_op.drop_column("published_at")
