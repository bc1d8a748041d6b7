"""worker: a heartbeat per worker process, and a stable Message-ID per outbox row

Revision ID: 0009_worker_health
Revises: 0008_question_contact_apart
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_worker_health"
down_revision = "0008_question_contact_apart"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeat")),
    )
    # Rows queued before this revision keep an empty message_id: the outbox derives a stable
    # one from the row id for them.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("message_id")
    op.drop_table("worker_heartbeat")
