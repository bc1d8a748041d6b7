"""report_tally: the inbox's counts per status, kept by triggers on report; the triage index
holds the sort keys (issue 14 §1)

Revision ID: 0021_tally
Revises: 0020_casework

The inbox and the staff overview show how many reports each status holds. Counting them
read every report's index entry on each request (100,000 reports: ~30 ms on SQLite, ~25 ms
on PostgreSQL). The counts now live in `report_tally`, one row per (inbox, status, acute
answer, acute), and the database keeps them: a trigger on every INSERT, DELETE and UPDATE of
those columns of `report`, so no code path (ORM, Core, a migration, a restore's own SQL) can
forget. `acute_answer` '' stands for NULL (a key column cannot be NULL).

On SQLite (one writer at a time) the triggers update the tally row itself. On PostgreSQL
the trigger appends each change to `report_tally_change` instead (see _POSTGRESQL), which
readers add to the tally until a worker job folds them in.

Note for later migrations: on SQLite, `batch_alter_table("report")` copies the table and
drops the old one, and the triggers with it; such a migration must create them again
(the statements below; tests/reports/test_tally.py checks that they exist at the head).
"""

from alembic import op
import sqlalchemy as sa

revision = "0021_tally"
down_revision = "0020_casework"
branch_labels = None
depends_on = None

_KEY = "inbox_id, status, acute_answer, acute"
_LIST = ["inbox_id", "acute_first", "received_at", "id"]
_FILTERS = [
    "next_deadline",
    "concern_group",
    "reporter_kind",
    "subject_type",
    "assigned_to_id",
    "status",
    "acute_answer",
    "acute",
]
_TRIAGE = [
    "inbox_id",
    "next_deadline",
    "concern_group",
    "reporter_kind",
    "subject_type",
    "assigned_to_id",
    "status",
    "acute_first",
    "acute_answer",
    "acute",
]

_SQLITE = (
    """
    CREATE TRIGGER report_tally_insert AFTER INSERT ON report BEGIN
      INSERT OR IGNORE INTO report_tally (inbox_id, status, acute_answer, acute, reports)
        VALUES (NEW.inbox_id, NEW.status, COALESCE(NEW.acute_answer, ''), NEW.acute, 0);
      UPDATE report_tally SET reports = reports + 1
        WHERE inbox_id = NEW.inbox_id AND status = NEW.status
          AND acute_answer = COALESCE(NEW.acute_answer, '') AND acute = NEW.acute;
    END
    """,
    """
    CREATE TRIGGER report_tally_delete AFTER DELETE ON report BEGIN
      UPDATE report_tally SET reports = reports - 1
        WHERE inbox_id = OLD.inbox_id AND status = OLD.status
          AND acute_answer = COALESCE(OLD.acute_answer, '') AND acute = OLD.acute;
    END
    """,
    """
    CREATE TRIGGER report_tally_update AFTER UPDATE OF inbox_id, status, acute_answer, acute
    ON report
    WHEN OLD.inbox_id IS NOT NEW.inbox_id OR OLD.status IS NOT NEW.status
      OR OLD.acute_answer IS NOT NEW.acute_answer OR OLD.acute IS NOT NEW.acute
    BEGIN
      UPDATE report_tally SET reports = reports - 1
        WHERE inbox_id = OLD.inbox_id AND status = OLD.status
          AND acute_answer = COALESCE(OLD.acute_answer, '') AND acute = OLD.acute;
      INSERT OR IGNORE INTO report_tally (inbox_id, status, acute_answer, acute, reports)
        VALUES (NEW.inbox_id, NEW.status, COALESCE(NEW.acute_answer, ''), NEW.acute, 0);
      UPDATE report_tally SET reports = reports + 1
        WHERE inbox_id = NEW.inbox_id AND status = NEW.status
          AND acute_answer = COALESCE(NEW.acute_answer, '') AND acute = NEW.acute;
    END
    """,
)

# PostgreSQL: many writers at once. Updating one tally row per change would make every
# submit to an inbox wait for the one before it to commit (a row lock), and a transaction
# that changes thousands of reports would walk an ever longer chain of row versions of the
# same few rows (14,500 status changes in one transaction: 6.8 s instead of 1.3 s). So the
# trigger only appends the change (+1 for the new row, -1 for the old); readers add the
# changes to the tally, and intake.reports.tally.fold (a worker job) moves them into it.
_POSTGRESQL = (
    """
    CREATE FUNCTION report_tally_record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_tally_change (inbox_id, status, acute_answer, acute, change)
          VALUES (OLD.inbox_id, OLD.status, COALESCE(OLD.acute_answer, ''), OLD.acute, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO report_tally_change (inbox_id, status, acute_answer, acute, change)
          VALUES (NEW.inbox_id, NEW.status, COALESCE(NEW.acute_answer, ''), NEW.acute, 1);
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER report_tally_insert_delete AFTER INSERT OR DELETE ON report
    FOR EACH ROW EXECUTE FUNCTION report_tally_record()
    """,
    """
    CREATE TRIGGER report_tally_update AFTER UPDATE OF inbox_id, status, acute_answer, acute
    ON report FOR EACH ROW
    WHEN (OLD.inbox_id IS DISTINCT FROM NEW.inbox_id OR OLD.status IS DISTINCT FROM NEW.status
      OR OLD.acute_answer IS DISTINCT FROM NEW.acute_answer
      OR OLD.acute IS DISTINCT FROM NEW.acute)
    EXECUTE FUNCTION report_tally_record()
    """,
)


def create_triggers():
    """The triggers that keep report_tally, for this database."""
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(statement)


def upgrade():
    op.create_table(
        "report_tally",
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("acute_answer", sa.String(length=10), nullable=False),
        sa.Column("acute", sa.Boolean(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inbox.id"],
            name=op.f("fk_report_tally_inbox_id_inbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "inbox_id", "status", "acute_answer", "acute", name=op.f("pk_report_tally")
        ),
    )
    op.create_table(
        "report_tally_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("acute_answer", sa.String(length=10), nullable=False),
        sa.Column("acute", sa.Boolean(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inbox.id"],
            name=op.f("fk_report_tally_change_inbox_id_inbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_tally_change")),
    )
    op.create_index(op.f("ix_report_tally_change_inbox_id"), "report_tally_change", ["inbox_id"])
    op.execute(
        f"INSERT INTO report_tally ({_KEY}, reports) "
        "SELECT inbox_id, status, COALESCE(acute_answer, ''), acute, count(*) FROM report "
        "GROUP BY inbox_id, status, COALESCE(acute_answer, ''), acute"
    )
    create_triggers()
    # The counts were this index's only reader.
    op.drop_index("ix_report_inbox_counts", table_name="report")
    # The triage filters' matches come with their sort keys from the index alone.
    op.drop_index("ix_report_inbox_triage", table_name="report")
    op.create_index("ix_report_inbox_triage", "report", [*_TRIAGE, "received_at", "id"])
    # ... and a filtered list is walked in order from the list's index alone.
    op.drop_index("ix_report_inbox_list", table_name="report")
    op.create_index("ix_report_inbox_list", "report", [*_LIST, *_FILTERS])


def downgrade():
    op.drop_index("ix_report_inbox_list", table_name="report")
    op.create_index("ix_report_inbox_list", "report", _LIST)
    op.drop_index("ix_report_inbox_triage", table_name="report")
    op.create_index("ix_report_inbox_triage", "report", _TRIAGE)
    op.create_index(
        "ix_report_inbox_counts", "report", ["inbox_id", "status", "acute_answer", "acute"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_tally_update ON report")
        op.execute("DROP TRIGGER report_tally_insert_delete ON report")
        op.execute("DROP FUNCTION report_tally_record()")
    else:
        for name in ("report_tally_update", "report_tally_delete", "report_tally_insert"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("report_tally_change")
    op.drop_table("report_tally")
