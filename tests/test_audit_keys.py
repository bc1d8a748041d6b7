"""The keyed chain: rows carry an HMAC under a versioned key from the instance secrets, keys
rotate, and an installation from before the keys keeps its plain rows up to a recorded row."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import appkeys, audit
from intake import secrets as instance_secrets
from intake.audit import AuditEvent, AuditHead
from intake.extensions import db


def _append(app: Flask, count: int) -> None:
    with app.app_context():
        for number in range(count):
            audit.record("test_event", actor_id=None, actor="test", target_id=number)
            db.session.commit()


def _rows(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        return [
            (seq, key)
            for seq, key in db.session.execute(
                sa.select(AuditEvent.seq, AuditEvent.key_id).order_by(AuditEvent.seq)
            )
        ]


def _verify(app: Flask) -> audit.Verdict:
    with app.app_context():
        return audit.verify()


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["audit", *args])


@pytest.fixture
def from_file(make_app: Any, instance_path: Path) -> Any:
    """Build an app whose audit keys come from the instance secrets file, as deployed."""

    def build(secrets: instance_secrets.InstanceSecrets | None = None) -> Flask:
        instance_secrets.write(instance_path, secrets or instance_secrets.generate())
        app: Flask = make_app()
        assert app.config["AUDIT_KEYS_FROM_FILE"]
        return app

    return build


def test_new_secrets_have_an_audit_key_and_no_plain_rows(instance_path: Path) -> None:
    created = instance_secrets.create(instance_path)
    assert list(created.audit_keys) == [1] and len(created.audit_keys[1]) == 32
    assert created.audit_legacy_until == 0
    assert instance_secrets.load(instance_path) == created


def test_a_row_is_an_hmac_under_the_newest_key(from_file: Any) -> None:
    app = from_file()
    _append(app, 2)
    key = app.config["AUDIT_KEYS"][1]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq == 2)).one()
        body = json.dumps(
            {**audit._body(event), "key": 1}, sort_keys=True, ensure_ascii=False
        ).encode()
        assert event.key_id == 1
        assert event.hash == hmac.new(key, body, hashlib.sha256).hexdigest()
        # The key is nowhere in the database
        head = db.session.get(AuditHead, 1)
        assert head is not None and head.hash == event.hash
    assert _verify(app) == audit.Verdict(True, 2)


def test_without_the_right_key_nothing_verifies(from_file: Any) -> None:
    app = from_file()
    _append(app, 3)
    with app.app_context():
        wrong = audit.Keys({1: b"w" * 32}, 0)
        verdict = audit.verify(wrong)
    assert verdict == audit.Verdict(False, 0, "rad 1 är ändrad eller flyttad")


def test_rotate_key_adds_a_version_and_old_rows_verify_with_theirs(
    from_file: Any, instance_path: Path
) -> None:
    # Given three rows under key 1
    app = from_file()
    _append(app, 3)
    # When the key is rotated and more rows are written
    result = _cli(app, "rotate-key")
    assert result.exit_code == 0, result.output
    assert "Ny granskningsnyckel, version 2." in result.output
    _append(app, 2)
    # Then the new rows (and the rotation's own row) use version 2, the old keep version 1
    assert _rows(app) == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]
    on_disk = instance_secrets.load(instance_path)
    assert on_disk is not None and sorted(on_disk.audit_keys) == [1, 2]
    assert on_disk.audit_legacy_until == 0
    verified = _cli(app, "verify")
    assert verified.exit_code == 0 and "6 rader kontrollerade" in verified.output
    assert "oskyddad" not in verified.output
    # And without version 1 the old rows cannot be checked
    instance_secrets.write(
        instance_path, dataclasses.replace(on_disk, audit_keys={2: on_disk.audit_keys[2]})
    )
    broken = _cli(app, "verify")
    assert broken.exit_code == 1
    assert "rad 1 anger nyckelversion 1, som inte finns" in broken.output


def test_a_row_moved_back_to_an_older_key_is_caught(from_file: Any) -> None:
    """Someone holding a retired key still cannot write rows after the rotation."""
    app = from_file()
    _append(app, 2)
    assert _cli(app, "rotate-key").exit_code == 0
    _append(app, 1)
    with app.app_context():
        old = app.config["AUDIT_KEYS"][1]
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq == 4)).one()
        event.key_id = 1
        event.hash = audit._mac(event, old)
        db.session.execute(sa.update(AuditHead).values(hash=event.hash))
        db.session.commit()
    assert _verify(app).problem == "rad 4 har en äldre nyckelversion än raden före"


def test_rotating_the_application_keys_keeps_the_audit_keys(
    from_file: Any, instance_path: Path
) -> None:
    app = from_file()
    before = instance_secrets.load(instance_path)
    with app.app_context():
        appkeys.add_key()
    after = instance_secrets.load(instance_path)
    assert before is not None and after is not None
    assert after.audit_keys == before.audit_keys and sorted(after.app_keys) == [1, 2]


def test_an_installation_from_before_the_keys_keeps_its_plain_rows_up_to_the_cut_over(
    from_file: Any, instance_path: Path
) -> None:
    # Given an upgraded installation whose secrets file has no audit key yet
    old = dataclasses.replace(instance_secrets.generate(), audit_keys={}, audit_legacy_until=None)
    app = from_file(old)
    _append(app, 3)
    assert _rows(app) == [(1, 0), (2, 0), (3, 0)]
    plain = _cli(app, "verify")
    assert plain.exit_code == 0
    assert "ingen granskningsnyckel" in plain.output
    # When the operator adds the first key
    rotated = _cli(app, "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    assert "Ny granskningsnyckel, version 1." in rotated.output
    assert "Rad 1–3 skrevs före nyckeln" in rotated.output
    _append(app, 2)
    # Then the cut-over row is in the secrets file, later rows are keyed, and verify says so
    on_disk = instance_secrets.load(instance_path)
    assert on_disk is not None and on_disk.audit_legacy_until == 3
    assert _rows(app) == [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1)]
    keyed = _cli(app, "verify")
    assert keyed.exit_code == 0
    assert "6 rader kontrollerade" in keyed.output
    assert "Rad 1–3 skrevs innan granskningsnyckeln fanns" in keyed.output
    assert _verify(app) == audit.Verdict(True, 6, legacy=3)


def test_plain_rows_after_the_cut_over_are_a_forgery(from_file: Any) -> None:
    """Rewriting keyed rows as the plain chain of older releases does not pass."""
    app = from_file(
        dataclasses.replace(instance_secrets.generate(), audit_keys={}, audit_legacy_until=None)
    )
    _append(app, 2)
    assert _cli(app, "rotate-key").exit_code == 0
    _append(app, 2)
    with app.app_context():
        previous = audit.GENESIS
        for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)):
            event.prev_hash, event.key_id = previous, 0
            event.hash = previous = audit._digest(event)
        db.session.execute(sa.update(AuditHead).values(hash=previous))
        db.session.commit()
    verdict = _verify(app)
    assert not verdict.ok
    assert verdict.problem == (
        "rad 3 saknar nyckel men är skriven efter att granskningsnyckeln infördes (rad 2)"
    )


def test_rotate_key_without_a_secrets_file_says_so(app: Flask) -> None:
    result = _cli(app, "rotate-key")
    assert result.exit_code == 1 and "Ingen ny nyckel" in result.output
