"""follow-up: monthly activity totals, kept with each activity change

Revision ID: 0006_activity_monthly_totals
Revises: 0005_activity_totals_index
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_activity_monthly_totals"
down_revision = "0005_activity_totals_index"
branch_labels = None
depends_on = None

# The first day of the month of a DATE: SQLite keeps it as 'YYYY-MM-DD' text.
MONTH_OF = {
    "sqlite": "substr(occurred_on, 1, 8) || '01'",
    "postgresql": "CAST(date_trunc('month', occurred_on) AS DATE)",
}


def upgrade():
    op.create_table(
        "activity_total",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitment.id"], name=op.f("fk_activity_total_commitment_id_commitment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("commitment_id", "month", name=op.f("pk_activity_total")),
    )
    # The activities recorded so far; from here on the app keeps the totals itself.
    month = MONTH_OF[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO activity_total (commitment_id, month, total) "
        f"SELECT commitment_id, {month}, SUM(count) FROM activity GROUP BY commitment_id, {month}"
    )


def downgrade():
    op.drop_table("activity_total")
