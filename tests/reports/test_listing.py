"""The inbox list at scale (issue 14 §1): cursors, the stored sort key, no sealed column read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.extensions import db
from intake.reports import listing, service
from intake.reports.models import Inbox, Report, acute_first_of

from ..accounts.back_office import Clock, fast_passwords, freeze, stockholm, submit
from ..staff_helpers import Installation

BEA = "bea@alvsbyn.se"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Monday 9 March 2026, 08:00 in Stockholm."""
    return freeze(monkeypatch, stockholm(2026, 3, 9, 8, 0))


@pytest.mark.parametrize(
    ("acute", "answer", "first"),
    [(True, "ja", 1), (False, "vet_ej", 1), (False, "nej", 0), (False, None, 0), (True, None, 1)],
)
def test_the_acute_first_key(acute: bool, answer: str | None, first: int) -> None:
    assert acute_first_of(acute, answer) == first


def test_a_cursor_round_trips() -> None:
    key = (1, datetime(2026, 3, 9, 7, 0, tzinfo=UTC), "0f1e2d3c-0000-4000-8000-123456789abc")
    assert listing.decode_cursor(listing.encode_cursor(key)) == key


@given(st.text(max_size=200))
def test_any_text_is_a_cursor_or_none(value: str) -> None:
    decoded = listing.decode_cursor(value)
    assert decoded is None or (decoded[0] in (0, 1) and decoded[1].tzinfo is not None)


def test_submitted_reports_store_their_sort_key(installation: Installation, frozen: Clock) -> None:
    ids = {
        answer: submit(installation.app, acute_danger=answer) for answer in ("ja", "vet_ej", "nej")
    }
    with installation.app.app_context():
        rows = db.session.execute(
            sa.select(Report.id, Report.acute_first).where(Report.id.in_(ids.values()))
        ).all()
    stored = {report_id: first for report_id, first in rows}
    assert {answer: stored[report_id] for answer, report_id in ids.items()} == {
        "ja": 1,
        "vet_ej": 1,
        "nej": 0,
    }


def test_the_inbox_never_reads_a_sealed_column(installation: Installation, frozen: Clock) -> None:
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    for answer in ("ja", "nej", "vet_ej"):
        submit(installation.app, acute_danger=answer)
    client = installation.app.test_client()
    installation.login(client, BEA)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with installation.app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for path in ("/personal/", "/personal/inkorg", "/personal/inkorg?akut=ja&status=received"):
            assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    listed = [s for s in statements if "FROM report" in s]
    assert listed
    for statement in listed:
        assert "sealed" not in statement and "assessment_note" not in statement, statement


def _round_trips(installation: Installation, client: Any, path: str) -> tuple[int, int]:
    """(statements, transactions begun) for one GET."""
    counts = {"statements": 0, "begun": 0}

    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    def begun(*_args: Any) -> None:
        counts["begun"] += 1

    with installation.app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine, "begin", begun)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(engine, "begin", begun)
    return counts["statements"], counts["begun"]


def test_the_staff_pages_cost_the_same_round_trips_whatever_the_data(
    installation: Installation, frozen: Clock
) -> None:
    """Each round trip to PostgreSQL costs the same whatever it reads: the overview, the inbox
    and a report read in a fixed number of statements, in one transaction (issue 14 §1)."""
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    client = installation.app.test_client()
    installation.login(client, BEA)
    first = submit(installation.app, acute_danger="ja")
    pages = (
        "/personal/",
        "/personal/inkorg",
        f"/personal/anmalan/{first}",
        "/personal/inkorg?handlaggare=ingen&frist=kommande",
    )
    for path in pages:
        _round_trips(installation, client, path)  # what a first request learns or stamps
    few = {path: _round_trips(installation, client, path) for path in pages}
    for n in range(30):
        submit(installation.app, acute_danger=("ja", "nej", "vet_ej")[n % 3])
    many = {path: _round_trips(installation, client, path) for path in pages}
    assert many == few
    assert all(begun == 1 for _statements, begun in many.values()), many
    # The session and user, the inboxes with their keys, then: the counts and the first
    # page (overview); the colleagues, the counts and the page (inbox); the report with
    # its additions, the audit row (3), the move targets, the conversation and the notes;
    # with triage filters, the counts of every inbox's matches in one statement.
    bounds = dict(zip(pages, (4, 5, 9, 6), strict=True))
    assert all(many[path][0] <= bound for path, bound in bounds.items()), many


def _walk(inbox_ids: list[int], triage: listing.Triage) -> tuple[list[str], list[str]]:
    """Every listed id, page by page forward to the end, then back to the start."""
    forward: list[str] = []
    page = listing.list_reports(inbox_ids, status=None, inbox_id=None, acute=None, triage=triage)
    forward += [r.id for r in page.reports]
    while page.after is not None:
        page = listing.list_reports(
            inbox_ids, status=None, inbox_id=None, acute=None, after=page.after, triage=triage
        )
        forward += [r.id for r in page.reports]
    backward: list[str] = [r.id for r in page.reports]
    while page.before is not None:
        page = listing.list_reports(
            inbox_ids, status=None, inbox_id=None, acute=None, before=page.before, triage=triage
        )
        backward = [r.id for r in page.reports] + backward
    return forward, backward


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 1),
            st.sampled_from(("vald", "omsorg", None)),
            st.sampled_from(("nej", "ja", "vet_ej")),
            st.integers(-3, 3),
        ),
        min_size=1,
        max_size=70,
    ),
    concern=st.sampled_from(("vald", "omsorg", listing.UNKNOWN)),
    deadline=st.sampled_from((None, "forsenad", "kommande")),
)
def test_a_filtered_list_pages_alike_sorted_here_or_by_the_index(
    installation: Installation,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[int, str | None, str, int]],
    concern: str,
    deadline: str | None,
) -> None:
    # Up to SORT_HERE matches an inbox's page is sorted from all its matches; past it the
    # list's index is walked in order. Both give the same pages, forward and back.
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)  # many pages from few reports
    today = date(2026, 3, 9)
    triage = listing.Triage(concern=concern, deadline=deadline, today=today)
    with installation.app.app_context():
        db.session.execute(sa.delete(Report))
        inboxes = list(db.session.scalars(sa.select(Inbox.id).order_by(Inbox.id)))[:2]
        for n, (which, group, answer, days) in enumerate(rows):
            db.session.execute(
                sa.insert(Report).values(
                    id=f"{n:08x}-0000-4000-8000-000000000000",
                    reference=f"L{n:05d}",
                    inbox_id=inboxes[which],
                    # Some share a moment: the id breaks the tie
                    received_at=datetime(2026, 3, 9, 7, 0, tzinfo=UTC) - timedelta(minutes=n // 2),
                    status="received",
                    acute_answer=answer,
                    acute=answer == "ja",
                    concern_group=group,
                    next_deadline=today + timedelta(days=days),
                    schema_version=service.SCHEMA_VERSION,
                )
            )
        db.session.commit()
        monkeypatch.setattr(listing, "SORT_HERE", 10_000)
        sorted_here = _walk(inboxes, triage)
        monkeypatch.setattr(listing, "SORT_HERE", 0)
        by_index = _walk(inboxes, triage)
    assert sorted_here == by_index
    forward, backward = sorted_here
    assert forward == backward
    assert len(forward) == len(set(forward))
