"""Retention (gallring): content goes N days after registration in the case system, N from the
recorded gallringsbeslut; a content-free tombstone and the audit rows stay; unregistered
reports are never purged. (Refusal without a decision, the receipt floor and the storage
canaries on both databases: tests/test_gallring.py.)"""

from __future__ import annotations

import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import audit, clock
from intake.extensions import db
from intake.reports import handling, retention
from intake.reports.models import Report, ReportMessage

from ..accounts.back_office import CHILD_PNR, Clock, fast_passwords, freeze, stockholm, submit, text
from ..conftest import POSTGRES
from ..gallring_helpers import decide
from ..staff_helpers import Installation

BEA = "bea@alvsbyn.invalid"
REGISTERED = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Tuesday 10 March 2026, moved only by the test."""
    return freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))


def handled(
    installation: Installation, frozen: Clock, *, registered: bool = True, **answers: str
) -> str:
    """A report taken through the three steps by Bea (signed in), with a reporter addition."""
    app = installation.app
    frozen.advance(seconds=30)  # a fresh TOTP step for each sign-in
    report_id = submit(app, **answers)
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        handling.add_message(report, "KANARIE-tillägg från anmälaren.", base_url="http://test")
    client = app.test_client()
    installation.login(client, BEA)
    base = f"/personal/anmalan/{report_id}"
    assert client.get(base).status_code == 200
    client.post(f"{base}/skyddsbedomning", data={"note": "KANARIE-anteckning."})
    client.post(f"{base}/beslut", data={"decision": "opened", "decided_on": "2026-03-10"})
    client.post(f"{base}/handlaggning", data={"outcome": "Kontakt tagen"})  # adults only
    if registered:
        data = {"registered_on": REGISTERED.isoformat(), "case_reference": "SN 2026/17"}
        assert client.post(f"{base}/registrerad", data=data).status_code == 302
    client.post("/personal/logga-ut")
    return report_id


@pytest.fixture
def office(installation: Installation, frozen: Clock) -> Installation:
    """Bea is a member of both report inboxes; a gallringsbeslut says 30 days for content."""
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga", "Vuxna"))
    decide(installation.app, "report_content", days=30)
    return installation


@pytest.mark.parametrize(
    ("subject", "days_after", "purged"),
    [
        ("barn", 29, False),
        ("barn", 30, True),  # the decision: 30 days, whatever the inbox
        ("vuxen", 29, False),
        ("vuxen", 30, True),
        ("vuxen", 400, True),
    ],
)
def test_content_goes_n_days_after_registration(
    office: Installation, frozen: Clock, subject: str, days_after: int, purged: bool
) -> None:
    report_id = handled(office, frozen, subject_type=subject)
    with office.app.app_context():
        gone = retention.purge(today=REGISTERED + timedelta(days=days_after))
        assert [g.report_id for g in gone] == ([report_id] if purged else [])
        report = db.session.get(Report, report_id)
        assert report is not None and (report.sealed is None) is purged


def test_a_purge_leaves_a_content_free_tombstone_and_the_audit_rows(
    office: Installation, frozen: Clock
) -> None:
    app = office.app
    # Given a handled, registered report with a follow-up code, a note, an addition and a
    # linking tag (it was opened, and names a personnummer)
    report_id = handled(office, frozen, identity_number=CHILD_PNR)
    with app.app_context():
        before = db.session.get(Report, report_id)
        assert before is not None and before.followup_hash is not None
        assert before.link_tag is not None
        reference = before.reference
        trail = db.session.scalars(
            sa.select(audit.AuditEvent.id).where(audit.AuditEvent.target_id == report_id)
        ).all()
        assert len(trail) >= 4
    # When its retention period is over
    with app.app_context():
        retention.purge(today=REGISTERED + timedelta(days=30))
    # Then only what handling needs is left
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        assert report.sealed is None and report.assessment_note is None
        assert report.followup_hash is None and report.followup_lookup is None
        assert report.link_tag is None  # a later report about the person links to nothing
        assert report.status == "purged" and report.purged_at == clock.now()
        assert (report.reference, report.decision, report.registered_on) == (
            reference,
            "opened",
            REGISTERED,
        )
        sealed = db.session.scalars(
            sa.select(ReportMessage.sealed).where(ReportMessage.report_id == report_id)
        ).all()
        assert sealed == [None]
        # And the audit rows are all still there, one more for the purge, the chain intact
        after = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.target_id == report_id)
        ).all()
        assert {e.id for e in after} >= set(trail)
        assert [e.action for e in after][-1] == "report_purged"
        assert audit.verify().ok
    # And the caseworker sees the tombstone, not an error
    frozen.advance(seconds=30)
    client = app.test_client()
    office.login(client, BEA)
    page = client.get(f"/personal/anmalan/{report_id}")
    assert page.status_code == 200 and "gallrades" in text(page)
    assert "KANARIE" not in text(page)
    assert client.get(f"/personal/anmalan/{report_id}/utskrift").status_code == 404


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("skyddsbedomning", {"note": "Sent omsider."}),
        ("beslut", {}),
        ("beslut", {"decision": "ongoing", "decided_on": "2026-04-09"}),
        ("registrerad", {}),
        ("registrerad", {"registered_on": "2026-04-09", "case_reference": "SN 2"}),
        ("aterkoppling", {}),
        ("flytta", {"inbox_id": "2"}),
        ("utskrift", None),
    ],
)
def test_a_purged_report_cannot_be_handled_any_more(
    office: Installation, frozen: Clock, action: str, data: dict[str, str] | None
) -> None:
    # Given a report purged while its page was open in a caseworker's browser
    report_id = handled(office, frozen)
    with office.app.app_context():
        retention.purge(today=REGISTERED + timedelta(days=30))
    frozen.advance(seconds=30)
    client = office.app.test_client()
    office.login(client, BEA)
    # When a form on the old page is sent, then it is refused plainly (no server error)
    path = f"/personal/anmalan/{report_id}/{action}"
    response = client.get(path) if data is None else client.post(path, data=data)
    assert response.status_code == 404
    # And the tombstone stays a tombstone
    with office.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        assert (report.status, report.inbox.name, report.case_reference) == (
            "purged",
            "Barn och unga",
            "SN 2026/17",
        )


def test_unregistered_reports_are_never_purged(office: Installation, frozen: Clock) -> None:
    report_id = handled(office, frozen, registered=False)
    with office.app.app_context():
        for years in (1, 5, 50):
            assert retention.purge(today=REGISTERED + timedelta(days=365 * years)) == []
        report = db.session.get(Report, report_id)
        assert report is not None and report.sealed is not None
        assert (
            retention.unregistered(report.inbox_id, received_before=clock.now() + timedelta(days=1))
            == 1
        )


def test_the_dry_run_lists_without_changing(office: Installation, frozen: Clock) -> None:
    app = office.app
    report_id = handled(office, frozen)
    handled(office, frozen, registered=False)
    with app.app_context():
        reference = db.session.get(Report, report_id).reference  # type: ignore[union-attr]
    frozen.set(stockholm(2026, 4, 9, 12, 0))  # 30 days after registration
    runner = app.test_cli_runner()
    # When the dry run lists what is due
    result = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert reference in result.output and "1 anmälningar skulle gallras." in result.output
    assert "Barn och unga" in result.output and "gallras 2026-04-09" in result.output
    # Then nothing changed
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Report).where(Report.sealed.is_(None))
            )
            == 0
        )
        assert not db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.action == "report_purged")
        ).all()
    # And the real run purges exactly that report, once
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0 and "1 anmälningar gallrade." in result.output
    assert "0 anmälningar" in runner.invoke(args=["retention", "purge"]).output
    with app.app_context():
        purged = db.session.scalars(sa.select(Report.id).where(Report.sealed.is_(None))).all()
        assert purged == [report_id]


def _stored_bytes(app: Flask) -> bytes:
    """Everything the database keeps on disk (SQLite) or would hand to a backup (pg_dump)."""
    with app.app_context():
        url = db.engine.url
        db.session.remove()
        if POSTGRES:
            dump = subprocess.run(
                ["pg_dump", "--data-only", "-h", str(url.host), "-p", str(url.port or 5432),
                 "-U", str(url.username), str(url.database)],
                check=True, capture_output=True,
                env={**os.environ, "PGPASSWORD": str(url.password or "")},
            )  # fmt: skip
            return dump.stdout
        db.engine.dispose()  # closes the connections: the WAL is checkpointed into the file
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_no_trace_of_the_content_remains_in_storage(office: Installation, frozen: Clock) -> None:
    app = office.app
    # Given a registered report; remember a stretch of each ciphertext it holds
    report_id = handled(office, frozen)
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None and report.sealed and report.assessment_note
        blobs = [report.sealed, report.assessment_note, *(m.sealed for m in report.messages)]
        fragments = [bytes(b)[100:164] for b in blobs if b]
    assert len(fragments) == 3
    # When it is purged
    with app.app_context():
        retention.purge(today=REGISTERED + timedelta(days=30))
    # Then neither the database files nor a dump hold any of it
    stored = _stored_bytes(app)
    hexed = stored.lower()
    for fragment in fragments:
        assert fragment not in stored
        assert fragment.hex().encode() not in hexed
    assert b"KANARIE" not in stored


@pytest.mark.skipif(POSTGRES, reason="SQLite only")
def test_sqlite_overwrites_deleted_content(app: Flask) -> None:
    # Many SQLite builds leave deleted bytes in free pages unless told otherwise.
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
