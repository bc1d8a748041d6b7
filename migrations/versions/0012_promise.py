"""followup: a counting rule for dialogue commitments (joint dialogues only, or any), and
"done once" carried over from the commitment a successive promise copied

Revision ID: 0012_promise
Revises: 0011_eid
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_promise"
down_revision = "0011_eid"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counting_rule", sa.String(length=20), server_default="any", nullable=False)
        )
        batch_op.add_column(sa.Column("copied_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("done_earlier_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            "fk_commitment_copied_from_id_commitment",
            "commitment",
            ["copied_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # "Polisen och kommunen ska … genomföra medborgardialoger": a dialogue commitment of both
    # parties counts only the dialogues both host (issue 11); the organiser marks the hosts.
    op.execute(
        "UPDATE commitment SET counting_rule = 'both_hosts' "
        "WHERE source = 'dialogues' AND party = 'bada'"
    )


def downgrade():
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_commitment_copied_from_id_commitment", type_="foreignkey")
        batch_op.drop_column("done_earlier_on")
        batch_op.drop_column("copied_from_id")
        batch_op.drop_column("counting_rule")
