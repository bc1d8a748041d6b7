"""accounts: failed sign-ins counted per keyed hash of the typed e-mail, known or not

Revision ID: 0007_sign_in_throttle
Revises: 0006_activity_monthly_totals
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_sign_in_throttle"
down_revision = "0006_activity_monthly_totals"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_throttle",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_sign_in_throttle")),
    )
    with op.batch_alter_table("sign_in_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_throttle_expires_at"), ["expires_at"], unique=False)
    # Password failures so far were counted on the account row; they now live in the new
    # table (keyed by e-mail), so the old counts would only hold up second-factor codes.
    op.execute("UPDATE user_account SET failed_logins = 0, locked_until = NULL")


def downgrade():
    with op.batch_alter_table("sign_in_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_throttle_expires_at"))
    op.drop_table("sign_in_throttle")
