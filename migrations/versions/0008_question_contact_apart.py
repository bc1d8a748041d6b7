"""dialogues: askers' contact details sealed apart from the question, so they can be erased

Revision ID: 0008_question_contact_apart
Revises: 0007_sign_in_throttle
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_question_contact_apart"
down_revision = "0007_sign_in_throttle"
branch_labels = None
depends_on = None


def upgrade():
    # Questions sent so far keep their one sealed blob (text, name and e-mail together) and
    # both new columns empty: the service cannot open them, so a member of the inbox splits
    # them the first time they open a questions page (intake.dialogues.questions).
    with op.batch_alter_table("dialogue_question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_contact", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True))
    # Only a confirmed registration can be checked in: marks the waiting list or a cancelled
    # registration got before that rule were never attendance.
    op.execute("UPDATE registration SET checked_in_at = NULL WHERE status <> 'confirmed'")


def downgrade():
    # Questions split since the upgrade keep only their text: the contact part goes.
    with op.batch_alter_table("dialogue_question", schema=None) as batch_op:
        batch_op.drop_column("contact_erased_at")
        batch_op.drop_column("sealed_contact")
