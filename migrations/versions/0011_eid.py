"""inbox: require e-legitimation for professional reporters

Revision ID: 0011_eid
Revises: 0010_law
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_eid"
down_revision = "0010_law"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_eid_professional",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade():
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("require_eid_professional")
