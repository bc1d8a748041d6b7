"""gallring: recorded gallringsbeslut per information class; a purged report names its decision

Revision ID: 0014_gallring
Revises: 0013_audit_keys
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_gallring"
down_revision = "0013_audit_keys"
branch_labels = None
depends_on = None


def upgrade():
    # No decision is recorded here: until an admin records one, nothing is purged or erased
    # (intake.gallring).
    op.create_table(
        "retention_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("information_class", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_retention_decision_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_decision")),
    )
    with op.batch_alter_table("retention_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_decision_information_class"), ["information_class"], unique=False
        )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purge_decision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_purge_decision_id_retention_decision"),
            "retention_decision",
            ["purge_decision_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_report_purge_decision_id_retention_decision"), type_="foreignkey"
        )
        batch_op.drop_column("purge_decision_id")
    with op.batch_alter_table("retention_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_decision_information_class"))
    op.drop_table("retention_decision")
