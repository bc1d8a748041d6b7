"""the reporter's channel: public key on the report, a waiting flag, channel messages
(and återkoppling to verified reporters)

Revision ID: 0016_channel
Revises: 0015_scale
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_channel"
down_revision = "0015_scale"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "channel_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=254), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_reporter", sa.LargeBinary(), nullable=True),
        sa.Column("protected", sa.LargeBinary(), nullable=True),
        sa.Column("reporter_tag", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_channel_message_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_channel_message_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_message")),
    )
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_message_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_channel_message_reporter_tag"), ["reporter_tag"], unique=False
        )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_public_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("channel_flag", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("channel_flag_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_report_channel_flag"), ["channel_flag"], unique=False)


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_channel_flag"))
        batch_op.drop_column("channel_flag_at")
        batch_op.drop_column("channel_flag")
        batch_op.drop_column("channel_public_key")
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_message_reporter_tag"))
        batch_op.drop_index(batch_op.f("ix_channel_message_report_id"))
    op.drop_table("channel_message")
