"""Anchors outside the database show what the hash chain alone cannot: its last rows removed
together with the head rewound to match."""

from __future__ import annotations

import json
import logging
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import audit, audit_anchors
from intake.audit import AuditEvent, AuditHead
from intake.extensions import db

from .accounts.back_office import fast_passwords, freeze, stockholm
from .staff_helpers import Installation


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def _append(app: Flask, count: int) -> None:
    with app.app_context():
        for number in range(count):
            audit.record("test_event", actor_id=None, actor="test", target_id=number)
            db.session.commit()


def _anchor(app: Flask) -> audit_anchors.Anchor | None:
    with app.app_context():
        return audit_anchors.write()


def _verify(app: Flask) -> audit_anchors.Verdict:
    with app.app_context():
        return audit_anchors.verify()


def _cut_tail(app: Flask, rows: int) -> None:
    """What someone with write access to the database can do unseen by the chain: remove the
    last rows and rewind the head to the new last one."""
    with app.app_context():
        last = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq > last - rows))
        kept = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq == last - rows)).one()
        db.session.execute(
            sa.update(AuditHead).where(AuditHead.id == 1).values(seq=kept.seq, hash=kept.hash)
        )
        db.session.commit()


def test_an_anchor_is_one_line_with_the_head_and_no_content(app: Flask) -> None:
    assert _anchor(app) is None  # an empty trail has nothing to anchor
    _append(app, 3)
    anchor = _anchor(app)
    assert anchor is not None and anchor.seq == 3
    file = Path(app.instance_path) / audit_anchors.FILENAME
    lines = file.read_text().splitlines()
    assert [json.loads(line).keys() for line in lines] == [{"seq", "hash", "at"}]
    with app.app_context():
        head = db.session.get(AuditHead, 1)
        assert head is not None
        assert json.loads(lines[0])["hash"] == head.hash
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_an_unchanged_head_is_anchored_once(app: Flask) -> None:
    _append(app, 2)
    assert _anchor(app) is not None
    assert _anchor(app) is None
    _append(app, 1)
    assert _anchor(app) is not None
    with app.app_context():
        anchors, problems = audit_anchors.read()
    assert [a.seq for a in anchors] == [2, 3] and problems == []


def test_a_whole_trail_agrees_with_its_anchors(app: Flask) -> None:
    _append(app, 4)
    _anchor(app)
    _append(app, 3)
    _anchor(app)
    _append(app, 2)  # rows after the last anchor are fine: the trail grows
    verdict = _verify(app)
    assert verdict.ok and verdict.checked == 9 and verdict.anchors == 2
    assert verdict.problem is None


def test_no_anchor_file_is_no_problem(app: Flask) -> None:
    _append(app, 2)
    verdict = _verify(app)
    assert verdict.ok and verdict.anchors == 0


@pytest.mark.parametrize(
    ("rows_cut", "message"),
    [
        (1, "rad 6 saknas, men fanns enligt ankaret från 2026-03-10"),
        (3, "rad 6 saknas, men fanns enligt ankaret från 2026-03-10"),
    ],
)
def test_a_cut_tail_with_a_rewound_head_is_found(
    app: Flask, monkeypatch: pytest.MonkeyPatch, rows_cut: int, message: str
) -> None:
    freeze(monkeypatch, stockholm(2026, 3, 10, 23, 30))
    _append(app, 6)
    _anchor(app)
    _cut_tail(app, rows_cut)
    with app.app_context():
        assert audit.verify().ok  # the chain alone sees a whole, shorter trail
    verdict = _verify(app)
    assert not verdict.ok
    assert verdict.problem == message


def test_a_cut_tail_regrown_past_the_anchor_is_found(app: Flask) -> None:
    """Cutting rows and writing new ones up to and past the anchored number still differs at
    the anchored row: its hash covers everything before it."""
    _append(app, 5)
    anchored = _anchor(app)
    assert anchored is not None
    _cut_tail(app, 2)
    _append(app, 4)
    verdict = _verify(app)
    assert not verdict.ok
    assert verdict.problem is not None
    assert verdict.problem.startswith(f"rad {anchored.seq} stämmer inte med ankaret från ")


def test_a_broken_chain_is_reported_first(app: Flask) -> None:
    _append(app, 4)
    _anchor(app)
    with app.app_context():
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 2).values(actor="x"))
        db.session.commit()
    verdict = _verify(app)
    assert not verdict.ok and verdict.problem == "rad 2 är ändrad eller flyttad"


@pytest.mark.parametrize(
    "line", ["not json", "{}", '{"seq": "x", "hash": "h", "at": "2026-01-01T00:00:00+00:00"}',
             '{"seq": 1, "hash": "h", "at": "2026-01-01T00:00:00"}', "[]"]
)  # fmt: skip
def test_an_unreadable_anchor_line_is_a_problem(app: Flask, line: str) -> None:
    _append(app, 2)
    _anchor(app)
    file = Path(app.instance_path) / audit_anchors.FILENAME
    with file.open("a") as handle:
        handle.write(line + "\n")
    verdict = _verify(app)
    assert not verdict.ok
    assert verdict.problem == "rad 2 i ankarfilen går inte att läsa"


def test_the_anchor_file_can_live_elsewhere(make_app: object, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "anchors.jsonl"
    app: Flask = make_app(AUDIT_ANCHOR_FILE=str(target))  # type: ignore[operator]
    _append(app, 2)
    assert _anchor(app) is not None
    assert target.exists()
    assert not (Path(app.instance_path) / audit_anchors.FILENAME).exists()
    assert _verify(app).ok


def test_the_cli_anchors_and_verify_finds_a_cut_tail(app: Flask) -> None:
    runner = app.test_cli_runner()
    _append(app, 4)
    anchored = runner.invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0 and "Förankrat: rad 4" in anchored.output
    assert "Inget nytt att förankra." in runner.invoke(args=["audit", "anchor"]).output
    whole = runner.invoke(args=["audit", "verify"])
    assert whole.exit_code == 0
    assert "4 rader kontrollerade, 1 ankare stämmer." in whole.output
    _cut_tail(app, 2)
    cut = runner.invoke(args=["audit", "verify"])
    assert cut.exit_code == 1
    assert "BRUTEN: rad 4 saknas, men fanns enligt ankaret från" in cut.output


@pytest.mark.parametrize(
    ("rows", "minutes", "anchored"),
    [
        (2, 10, [2]),  # few rows, little time: not due
        (5, 10, [2, 7]),  # EVERY_ROWS rows since the last anchor
        (1, 61, [2, 3]),  # the head moved and EVERY_SECONDS passed
        (0, 600, [2]),  # time passed but nothing new: nothing to anchor
    ],
)
def test_the_worker_anchors_every_n_rows_or_every_hour(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, rows: int, minutes: int, anchored: list[int]
) -> None:
    from intake import jobs

    app: Flask = make_app(AUDIT_ANCHOR_EVERY_ROWS=5, AUDIT_ANCHOR_EVERY_SECONDS=3600)
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    _append(app, 2)
    with app.app_context():
        jobs.run_due()  # the first anchor: there was none
        _append(app, rows)
        frozen.advance(minutes=minutes)
        jobs.run_due()
        anchors, problems = audit_anchors.read()
    assert [a.seq for a in anchors] == anchored and problems == []


def test_each_anchor_goes_to_a_second_file_and_syslog(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a second file on "another volume" and a syslog listener on loopback UDP
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    copy = tmp_path / "other-volume" / "anchors.jsonl"
    app: Flask = make_app(
        AUDIT_ANCHOR_COPY_FILE=str(copy),
        AUDIT_ANCHOR_SYSLOG=f"127.0.0.1:{listener.getsockname()[1]}",
    )
    freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    _append(app, 3)
    # When an anchor is written
    with listener:
        anchor = _anchor(app)
        datagram = listener.recv(4096).decode()
    # Then the same line is in both files and in the syslog message, and nothing else is
    assert anchor is not None
    primary = (Path(app.instance_path) / audit_anchors.FILENAME).read_text()
    assert copy.read_text() == primary
    line = primary.strip()
    assert json.loads(line) == {"seq": 3, "hash": anchor.hash, "at": anchor.at.isoformat()}
    assert datagram.startswith("<")  # a syslog priority
    assert datagram.rstrip("\x00").endswith("intake-audit-anchor " + line)
    # And the copy verifies the trail as well as the primary does
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchors", str(copy)])
    assert result.exit_code == 0 and "1 ankare stämmer" in result.output


def test_a_failing_sink_is_logged_and_the_anchor_still_written(
    make_app: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app: Flask = make_app(
        AUDIT_ANCHOR_COPY_FILE=str(blocker / "cannot" / "be.jsonl"),
        AUDIT_ANCHOR_SYSLOG=str(tmp_path / "no-such-socket"),
    )
    _append(app, 2)
    with caplog.at_level(logging.ERROR, logger="intake.audit_anchors"):
        assert _anchor(app) is not None
    assert "could not copy the audit anchor" in caplog.text
    assert "could not send the audit anchor to syslog" in caplog.text
    assert _verify(app).ok


def test_the_first_anchor_of_each_day_is_mailed_to_the_dpo(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake.outbox import OutboxMessage

    app: Flask = make_app(AUDIT_ANCHOR_MAIL_TO="dataskyddsombud@alvsbyn.invalid")
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    for _ in range(3):  # three anchors on the 10th, one on the 11th
        _append(app, 1)
        assert _anchor(app) is not None
        frozen.advance(hours=2)
    frozen.advance(days=1)
    _append(app, 1)
    assert _anchor(app) is not None
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.template, m.recipient) for m in mails] == [
            ("audit_anchor", "dataskyddsombud@alvsbyn.invalid")
        ] * 2
        assert [(m.context["seq"], m.context["day"]) for m in mails] == [
            (1, "2026-03-10"),
            (4, "2026-03-11"),
        ]
        # The mail holds the anchor only: a number, a MAC and a time
        assert set(mails[0].context) == {"seq", "hash", "at", "day"}


def test_the_admin_log_page_reports_a_cut_tail(installation: Installation) -> None:
    app = installation.app
    installation.add_user("chef@alvsbyn.invalid", "admin")
    admin = app.test_client()
    installation.login(admin, "chef@alvsbyn.invalid")
    _append(app, 3)
    _anchor(app)
    assert "Kedjan är hel" in admin.get("/personal/admin/logg").get_data(as_text=True)
    _cut_tail(app, 1)
    page = admin.get("/personal/admin/logg").get_data(as_text=True)
    assert "Kedjan är bruten" in page
    assert "saknas, men fanns enligt ankaret från" in page
