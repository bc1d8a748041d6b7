"""A forger with database access only: five `report_viewed` rows deleted and the chain
recomputed, as the plain SHA-256 chain of older releases and as an HMAC under a guessed key.
`audit verify` (the function and the command) must catch both, with no anchor to help it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from intake import audit, audit_anchors
from intake.audit import AuditEvent, AuditHead
from intake.extensions import db
from intake.reports.models import Report

from ..accounts.back_office import fast_passwords
from ..conftest import POSTGRES
from ..reports.journey_helpers import PRIVATE_ANONYMOUS_CHILD, walk
from ..staff_helpers import Installation

BEA = "bea@alvsbyn.invalid"
GENESIS = "0" * 64
Forge = Callable[[dict[str, Any]], tuple[int, str]]


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def _body(row: dict[str, Any]) -> dict[str, Any]:
    """What a forger who read the source knows each row's digest covers."""
    return {
        "seq": row["seq"],
        "at": row["at"].isoformat(),
        "actor_id": row["actor_id"],
        "actor": row["actor"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "details": row["details"],
        "prev": row["prev_hash"],
    }


def plain_sha256(row: dict[str, Any]) -> tuple[int, str]:
    """Version 0: the plain chain, which needed no key."""
    body = json.dumps(_body(row), sort_keys=True, ensure_ascii=False).encode()
    return 0, hashlib.sha256(body).hexdigest()


def hmac_with_a_wrong_key(row: dict[str, Any]) -> tuple[int, str]:
    """Version 1 as the code computes it, under a key the forger made up."""
    body = json.dumps({**_body(row), "key": 1}, sort_keys=True, ensure_ascii=False).encode()
    return 1, hmac.new(b"guessed" * 5, body, hashlib.sha256).hexdigest()


def forge(url: str, recompute: Forge, *, drop: str, count: int) -> int:
    """With its own connection, no app and no key: delete `count` rows of action `drop`,
    renumber what is left and recompute every MAC and the head. Returns the rows kept."""
    table, head = AuditEvent.__table__, AuditHead.__table__
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.seq))]
            doomed = [r["id"] for r in rows if r["action"] == drop][:count]
            assert len(doomed) == count, "not enough rows to delete"
            kept = [r for r in rows if r["id"] not in doomed]
            conn.execute(sa.delete(table))
            previous = GENESIS
            for seq, row in enumerate(kept, start=1):
                row.update(seq=seq, prev_hash=previous)
                row["key_id"], row["hash"] = recompute(row)
                previous = row["hash"]
                conn.execute(sa.insert(table).values(row))
            conn.execute(sa.update(head).where(head.c.id == 1).values(seq=len(kept), hash=previous))
    finally:
        engine.dispose()
    return len(kept)


NO_KEY = "rad 1 saknar nyckel, men installationen har haft granskningsnyckel från början"


@pytest.mark.parametrize(
    ("recompute", "problem"),
    [(plain_sha256, NO_KEY), (hmac_with_a_wrong_key, "rad 1 är ändrad eller flyttad")],
)
def test_deleted_views_with_a_recomputed_chain_are_caught(
    installation: Installation, recompute: Forge, problem: str
) -> None:
    # Given a caseworker who opened a report eight times (eight `report_viewed` rows)
    app = installation.app
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    walk(app.test_client(), PRIVATE_ANONYMOUS_CHILD)
    bea = app.test_client()
    installation.login(bea, BEA)
    with app.app_context():
        report_id = db.session.scalars(sa.select(Report.id)).one()
    for _ in range(8):
        assert bea.get(f"/personal/anmalan/{report_id}").status_code == 200
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        before = audit.verify()
        assert before.ok and before.legacy == 0
        url = db.engine.url.render_as_string(hide_password=False)
    # When someone with database access only deletes five of them and recomputes the chain
    kept = forge(url, recompute, drop="report_viewed", count=5)
    assert kept == before.checked - 5
    # Then the function catches it, on its own and with the anchors
    where = "PostgreSQL" if POSTGRES else "SQLite"
    with app.app_context():
        verdict = audit.verify()
        assert not verdict.ok, where
        assert verdict.problem == problem, (where, verdict.problem)
        assert not audit_anchors.verify().ok
        viewed = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "report_viewed")
        )
        assert viewed == 3  # the forgery itself went through: only the check stops it
    # And so does the command, with exit code 1
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, (where, result.output)
    assert f"Granskningsloggen är BRUTEN: {problem}" in result.output
