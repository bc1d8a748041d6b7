"""The inbox's counts per status, kept by the database (issue 14 §1): report_tally always equals
counting the reports, whatever changes them (ORM, Core, several rows at once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.extensions import db
from intake.reports import service, tally
from intake.reports.models import Inbox, Report, ReportTally, ReportTallyChange

from ..accounts.back_office import fast_passwords, submit
from ..staff_helpers import Installation

STATUSES = ("received", "assessed", "decided", "registered", "purged")
ANSWERS = (None, "ja", "nej", "vet_ej")
WHEN = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def kept() -> dict[tuple[int, str, str | None, bool], int]:
    """What the kept counts say (with PostgreSQL's pending changes), inbox by inbox."""
    inboxes = db.session.scalars(sa.select(Inbox.id))
    return {
        (inbox_id, status, answer, acute): n
        for inbox_id in inboxes
        for status, answer, acute, n in tally.counts([inbox_id])
    }


def counted() -> dict[tuple[int, str, str | None, bool], int]:
    """Counting the reports themselves."""
    rows = db.session.execute(
        sa.select(
            Report.inbox_id, Report.status, Report.acute_answer, Report.acute, sa.func.count()
        ).group_by(Report.inbox_id, Report.status, Report.acute_answer, Report.acute)
    )
    return {(i, s, a, bool(acute)): n for i, s, a, acute, n in rows}


def test_the_triggers_exist_at_the_head(app: Flask) -> None:
    # A later SQLite batch migration of `report` would drop them (see migration 0021_tally).
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'report'::regclass"
            expected = {"report_tally_insert_delete", "report_tally_update"}
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'report'"
            expected = {"report_tally_insert", "report_tally_delete", "report_tally_update"}
        names = set(db.session.scalars(sa.text(query)))
    assert {name for name in names if name.startswith("report_tally")} == expected


def test_submitted_reports_are_counted_and_their_changes_follow(
    installation: Installation,
) -> None:
    app = installation.app
    first = submit(app, acute_danger="ja")
    submit(app, acute_danger="nej")
    with app.app_context():
        assert sum(kept().values()) == 2
        assert kept() == counted()
        report = db.session.get(Report, first)
        assert report is not None
        report.status = "assessed"
        db.session.commit()
        assert kept() == counted()
        assert ("assessed", "ja", True, 1) in tally.counts([report.inbox_id])


operation = st.one_of(
    st.tuples(
        st.just("insert"),
        st.integers(0, 1),
        st.sampled_from(STATUSES),
        st.sampled_from(ANSWERS),
        st.booleans(),
    ),
    st.tuples(
        st.just("update"),
        st.integers(0, 50),
        st.sampled_from(("status", "acute_answer", "acute", "inbox_id")),
        st.integers(0, 4),
    ),
    st.tuples(st.just("update_many"), st.sampled_from(STATUSES), st.sampled_from(STATUSES)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, max_size=30))
def test_any_sequence_of_changes_keeps_the_tally(
    installation: Installation, operations: list[tuple[object, ...]]
) -> None:
    with installation.app.app_context():
        inboxes = list(db.session.scalars(sa.select(Inbox.id).order_by(Inbox.id)))[:2]
        for n, op in enumerate(operations):
            ids = list(db.session.scalars(sa.select(Report.id).order_by(Report.id)))
            if op[0] == "insert":
                _, which, status, answer, acute = op
                db.session.execute(
                    sa.insert(Report).values(
                        id=f"{n:08x}-0000-4000-8000-{len(ids):012x}",
                        reference=f"T{n:04d}{len(ids):05d}",
                        inbox_id=inboxes[int(str(which))],
                        received_at=WHEN - timedelta(minutes=n),
                        status=status,
                        acute_answer=answer,
                        acute=acute,
                        schema_version=service.SCHEMA_VERSION,
                    )
                )
            elif op[0] == "update" and ids:
                _, index, column, value = op
                report = db.session.get(Report, ids[int(str(index)) % len(ids)])
                assert report is not None
                pick = int(str(value))
                if column == "status":
                    report.status = STATUSES[pick]
                elif column == "acute_answer":
                    report.acute_answer = ANSWERS[pick % len(ANSWERS)]
                elif column == "acute":
                    report.acute = bool(pick % 2)
                else:
                    report.inbox_id = inboxes[pick % 2]
            elif op[0] == "update_many":
                _, old, new = op
                db.session.execute(sa.update(Report).where(Report.status == old).values(status=new))
            elif op[0] == "delete" and ids:
                db.session.execute(
                    sa.delete(Report).where(Report.id == ids[int(str(op[1])) % len(ids)])
                )
            db.session.flush()
            assert kept() == counted(), op
            if n % 7 == 6:  # the worker folds now and then
                db.session.commit()
                tally.fold()
                assert kept() == counted(), "after a fold"
        db.session.commit()
        tally.fold()
        assert kept() == counted()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportTallyChange)) == 0
        db.session.execute(sa.delete(Report))
        db.session.commit()
        assert kept() == {}
        tally.fold()
        assert kept() == {}
        assert all(n == 0 for n in db.session.scalars(sa.select(ReportTally.reports)))
