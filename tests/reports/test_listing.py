"""The inbox list at scale (issue 14 §1): cursors, the stored sort key, no sealed column read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from intake.extensions import db
from intake.reports import listing
from intake.reports.models import Report, acute_first_of

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
