"""The inbox's counts per status, acute answer and acute flag (issue 14 §1).

The database keeps them (migration 0021_tally): on SQLite its triggers update `report_tally`
itself; on PostgreSQL they append each change to `report_tally_change`, so that concurrent
writers never queue on a tally row. `counts` adds the pending changes to the tally in one
statement (one snapshot: a fold in between cannot count a change twice or miss it); `fold`,
a worker job, moves them into the tally in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from intake.extensions import db
from intake.reports.models import ReportTally, ReportTallyChange

Count = tuple[str, str | None, bool, int]  # status, acute answer (None: not known), acute, n

# One statement: what it deletes is exactly what it adds (changes appended meanwhile stay).
_FOLD = sa.text(
    "WITH moved AS (DELETE FROM report_tally_change"
    " RETURNING inbox_id, status, acute_answer, acute, change),"
    " summed AS (SELECT inbox_id, status, acute_answer, acute, sum(change) AS change,"
    " count(*) AS n FROM moved GROUP BY inbox_id, status, acute_answer, acute),"
    " kept AS (INSERT INTO report_tally AS tally (inbox_id, status, acute_answer, acute, reports)"
    " SELECT inbox_id, status, acute_answer, acute, change FROM summed"
    " ON CONFLICT (inbox_id, status, acute_answer, acute)"
    " DO UPDATE SET reports = tally.reports + excluded.reports)"
    " SELECT coalesce(sum(n), 0) FROM summed"
)


def counts(inbox_ids: Sequence[int]) -> list[Count]:
    """Reports per (status, acute answer, acute) in the given inboxes, the empty ones left out."""
    if not inbox_ids:
        return []
    if db.engine.dialect.name != "postgresql":  # SQLite's triggers keep the tally itself
        rows = db.session.execute(
            sa.select(
                ReportTally.status, ReportTally.acute_answer, ReportTally.acute, ReportTally.reports
            ).where(ReportTally.inbox_id.in_(inbox_ids), ReportTally.reports > 0)
        )
        return [(status, answer or None, bool(acute), n) for status, answer, acute, n in rows]
    kept = sa.select(
        ReportTally.status,
        ReportTally.acute_answer,
        ReportTally.acute,
        ReportTally.reports.label("n"),
    ).where(ReportTally.inbox_id.in_(inbox_ids))
    pending = sa.select(
        ReportTallyChange.status,
        ReportTallyChange.acute_answer,
        ReportTallyChange.acute,
        ReportTallyChange.change.label("n"),
    ).where(ReportTallyChange.inbox_id.in_(inbox_ids))
    both = sa.union_all(kept, pending).subquery()
    total = sa.func.sum(both.c.n)
    rows = db.session.execute(
        sa.select(both.c.status, both.c.acute_answer, both.c.acute, total)
        .group_by(both.c.status, both.c.acute_answer, both.c.acute)
        .having(total > 0)
    )
    return [(status, answer or None, bool(acute), int(n)) for status, answer, acute, n in rows]


def fold() -> int:
    """Move the pending changes into the tally (PostgreSQL; nothing waits on SQLite); returns
    how many were folded. Commits. Changes appended meanwhile wait for the next fold."""
    if db.engine.dialect.name != "postgresql":
        return 0
    folded = db.session.execute(_FOLD).scalar_one()
    db.session.commit()
    return int(folded)
