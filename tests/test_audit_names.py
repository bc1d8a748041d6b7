"""The audit log reads in Swedish: every event code the code base records has a name in ONE
table, and reports are named by their reference (resolved per page in one query)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from intake import audit, audit_names, clock
from intake.extensions import db
from intake.reports.models import Report

from .accounts.back_office import submit, text
from .staff_helpers import Installation

PACKAGE = Path(audit.__file__).parent
# Helpers that pass their first argument on to audit.record as the event code.
WRAPPERS = {"_log"}


def emitted_codes() -> dict[str, str]:
    """Every event code passed to audit.record (or a wrapper) in intake/, with where."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            direct = (
                isinstance(func, ast.Attribute)
                and func.attr == "record"
                and isinstance(func.value, ast.Name)
                and func.value.id == "audit"
            )
            wrapped = isinstance(func, ast.Name) and func.id in WRAPPERS
            if not (direct or wrapped):
                continue
            code = node.args[0]
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found[code.value] = where
            elif isinstance(code, ast.Name) and code.id == "action":
                continue  # the wrapper itself, passing its caller's code on
            else:
                pytest.fail(f"{where}: an event code that is not a literal ({ast.unparse(code)})")
    return found


def test_the_walk_finds_the_emit_sites() -> None:
    codes = emitted_codes()
    # Codes from each kind of site: direct calls in services, CLI, and the admin wrapper
    assert {"login", "report_purged", "keys_rotated", "rule_added", "dialogue_created"} <= set(
        codes
    )


def test_every_event_code_has_a_swedish_name() -> None:
    missing = {
        code: where
        for code, where in emitted_codes().items()
        if code not in audit_names.EVENT_NAMES
    }
    assert missing == {}


def test_names_are_distinct_and_a_code_without_one_is_shown_as_itself(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        names = [str(name) for name in audit_names.EVENT_NAMES.values()]
        assert len(names) == len(set(names))
        assert audit_names.event_name("login") == "Inloggning"
        assert audit_names.event_name("from_an_old_release") == "from_an_old_release"
        assert audit_names.target_name("report") == "Anmälan"
        assert audit_names.target_name(None) == ""


@pytest.fixture
def admin(installation: Installation):  # type: ignore[no-untyped-def]
    installation.add_user("chef@alvsbyn.se", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@alvsbyn.se")
    return client


def _view(app, report_id: str) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        audit.record(
            "report_viewed",
            actor_id=None,
            actor="vera@alvsbyn.se",
            target_type="report",
            target_id=report_id,
        )
        db.session.commit()


def test_the_log_shows_references_and_purged_reports(installation: Installation, admin) -> None:  # type: ignore[no-untyped-def]
    app = installation.app
    # Given three reports viewed by a caseworker, one of them purged since
    ids = [submit(app) for _ in range(3)]
    for report_id in ids:
        _view(app, report_id)
    with app.app_context():
        purged = db.session.get(Report, ids[0])
        assert purged is not None
        purged.purged_at = clock.now()
        db.session.commit()
        references = {r.id: r.reference for r in db.session.scalars(sa.select(Report))}
    # When the admin reads the log
    html = text(admin.get("/personal/admin/logg"))
    # Then events have Swedish names and reports their references, not their ids
    assert "Anmälan öppnad" in html and "report_viewed" not in html.replace(
        'value="report_viewed"', ""
    )
    for report_id in ids:
        assert report_id not in html
        assert references[report_id] in html
    assert f"{references[ids[0]]} (gallrad)" in html
    assert html.count("(gallrad)") == 1
    # And the filter finds a report by its reference
    found = text(admin.get("/personal/admin/logg", query_string={"objekt": references[ids[1]]}))
    assert references[ids[1]] in found and references[ids[2]] not in found


@pytest.mark.parametrize("reports", [1, 6])
def test_the_references_cost_one_query_per_page(
    installation: Installation,
    admin,
    reports: int,  # type: ignore[no-untyped-def]
) -> None:
    app = installation.app
    for _ in range(reports):
        _view(app, submit(app))
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if re.search(r"\bFROM report\b", statement):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert admin.get("/personal/admin/logg").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_routing_rules_show_labels_not_codes(admin) -> None:  # type: ignore[no-untyped-def]
    html = text(admin.get("/personal/admin/routning"))
    assert "En ung vuxen, 18–20 år" in html
    assert "<td>ung_vuxen</td>" not in html
