"""A report's next deadline, stored on its row when its handling state changes (issue 14 §1).

The inbox lists, filters and highlights by `Report.next_deadline` (and which deadline it is,
`next_deadline_kind`) instead of computing every row's deadlines in Python per request. The
dates come from intake.reports.handling.deadlines (intake.law and intake.clock); a mapper
event in intake.reports.models calls `stamp` on every insert and update of a report row, so no
handling step can forget it. The resident's submit writes its row with Core and calls `initial`.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import current_app, has_app_context

from intake import clock
from intake.reports.models import Report

SKYDD, FORHAND, FEEDBACK = "skyddsbedomning", "forhandsbedomning", "aterkoppling"
# The statutory handling deadlines of a report about a child, the ones a row is highlighted
# for (as Deadlines.states); on the same day the first named is the next one. Registration
# in the case system is counted apart (the digest); adults have no statutory deadline here.
KINDS = (SKYDD, FORHAND, FEEDBACK)


def office_hours() -> tuple[time, time]:
    """The office hours the skyddsbedömning deadline counts with (config, else clock's)."""
    if not has_app_context():
        return clock.OFFICE_OPENS, clock.OFFICE_CLOSES
    cfg = current_app.config
    return (
        time.fromisoformat(cfg.get("OFFICE_OPENS", clock.OFFICE_OPENS.isoformat())),
        time.fromisoformat(cfg.get("OFFICE_CLOSES", clock.OFFICE_CLOSES.isoformat())),
    )


def compute(report: Report) -> tuple[date | None, str | None]:
    """The earliest deadline still open on the report and its kind; (None, None) when none."""
    from intake.reports import handling  # handling imports the models this module serves

    if report.purged_at is not None or report.received_at is None:
        return None, None
    opens, closes = office_hours()
    # `today` only judges the states; an open step has a state whatever day it is.
    d = handling.deadlines(
        report, today=clock.local_date(report.received_at), opens=opens, closes=closes
    )
    candidates = [
        (due, KINDS.index(kind), kind)
        for due, state, kind in (
            (d.skyddsbedomning, d.skydd_state, SKYDD),
            (d.forhandsbedomning, d.forhand_state, FORHAND),
            (d.feedback, d.feedback_state, FEEDBACK),
        )
        if due is not None and state is not None
    ]
    if not candidates:
        return None, None
    due, _rank, kind = min(candidates)
    return due, kind


def stamp(report: Report) -> None:
    """Store the report's next deadline on its row (called by the mapper event)."""
    due, kind = compute(report)
    if report.next_deadline != due:
        report.next_deadline = due
    if report.next_deadline_kind != kind:
        report.next_deadline_kind = kind


def initial(received_at: datetime, subject_type: str | None) -> dict[str, object]:
    """The next-deadline columns of a report just received (for a Core insert)."""
    due, kind = compute(Report(received_at=received_at, subject_type=subject_type))
    return {"next_deadline": due, "next_deadline_kind": kind}


def state(due: date | None, *, today: date) -> str | None:
    """The state of a stored deadline ("overdue", "due_today", "upcoming"); None if none."""
    return None if due is None else clock.deadline_state(due, today=today)
