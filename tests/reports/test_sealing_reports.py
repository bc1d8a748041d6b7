"""A stored report opens only with its inbox's key, and only in its own row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import bootstrap
from intake.crypto import CryptoError
from intake.extensions import db
from intake.reports.models import Inbox, Report
from intake.reports.service import open_answers

from .journey_helpers import PRIVATE_ANONYMOUS_CHILD, PROFESSIONAL_ADULT, walk


@pytest.fixture
def setup(make_app: Callable[..., Flask]) -> tuple[Flask, dict[str, str]]:
    """The app and the recovery codes setup printed, by inbox name."""
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        codes = bootstrap.run_setup().recovery_codes
    assert set(codes) == {"Barn och unga", "Vuxna", "Medborgardialog"}
    return app, codes


def _send(app: Flask, steps: dict[str, dict[str, Any]]) -> None:
    response = walk(app.test_client(), steps)
    assert response.status_code == 303


def _inbox(name: str) -> Inbox:
    inbox = db.session.scalar(sa.select(Inbox).where(Inbox.name == name))
    assert inbox is not None
    return inbox


def _reports() -> list[Report]:
    return list(db.session.scalars(sa.select(Report).order_by(Report.received_at, Report.id)))


def test_stored_report_opens_with_the_inbox_recovery_code(
    setup: tuple[Flask, dict[str, str]],
) -> None:
    # Given a report sent through the resident's journey
    app, codes = setup
    _send(app, PRIVATE_ANONYMOUS_CHILD)
    with app.app_context():
        [report] = _reports()
        assert report.inbox.name == "Barn och unga"
        # When the inbox key is unlocked with its printed recovery code
        key = bootstrap.unlock_with_recovery_code(report.inbox, codes["Barn och unga"])
        # Then the stored ciphertext opens to exactly the answers given
        answers = open_answers(report, key)
    assert answers["what_happened"] == "Barnet är ofta hungrigt."
    assert answers["first_name"] == "Alva"
    assert answers["subject_type"] == "barn"
    assert answers["categories"] == ["omsorgssvikt"]
    assert answers["guardian1_name"] == "Förälder Ett"


def test_recovery_code_may_be_typed_sloppily(setup: tuple[Flask, dict[str, str]]) -> None:
    app, codes = setup
    _send(app, PROFESSIONAL_ADULT)
    sloppy = codes["Vuxna"].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    with app.app_context():
        [report] = _reports()
        key = bootstrap.unlock_with_recovery_code(report.inbox, sloppy)
        assert open_answers(report, key)["reporter_name"] == "Lärare Lärarsson"


@pytest.mark.parametrize("which", ["other inbox's code", "one symbol off", "empty"])
def test_wrong_recovery_code_fails(setup: tuple[Flask, dict[str, str]], which: str) -> None:
    app, codes = setup
    right = codes["Barn och unga"]
    wrong = {
        "other inbox's code": codes["Vuxna"],
        "one symbol off": right[:-1] + ("2" if right[-1] != "2" else "3"),
        "empty": "",
    }[which]
    with app.app_context(), pytest.raises(CryptoError):
        bootstrap.unlock_with_recovery_code(_inbox("Barn och unga"), wrong)


def test_a_recovery_blob_moved_to_another_inbox_fails(
    setup: tuple[Flask, dict[str, str]],
) -> None:
    # The recovery-wrapped key is bound to its inbox's slug: copying it across is useless.
    app, codes = setup
    with app.app_context():
        children, adults = _inbox("Barn och unga"), _inbox("Vuxna")
        adults.recovery_wrapped_key = children.recovery_wrapped_key
        with pytest.raises(CryptoError):
            bootstrap.unlock_with_recovery_code(adults, codes["Barn och unga"])


def test_other_inbox_key_cannot_open(setup: tuple[Flask, dict[str, str]]) -> None:
    app, codes = setup
    _send(app, PRIVATE_ANONYMOUS_CHILD)
    with app.app_context():
        [report] = _reports()
        key = bootstrap.unlock_with_recovery_code(_inbox("Vuxna"), codes["Vuxna"])
        with pytest.raises(CryptoError):
            open_answers(report, key)


def test_ciphertext_copied_into_another_report_fails(
    setup: tuple[Flask, dict[str, str]],
) -> None:
    # Given two reports in the same inbox
    app, codes = setup
    _send(app, PRIVATE_ANONYMOUS_CHILD)
    _send(app, PRIVATE_ANONYMOUS_CHILD)
    with app.app_context():
        a, b = _reports()
        assert a.inbox_id == b.inbox_id
        key = bootstrap.unlock_with_recovery_code(a.inbox, codes["Barn och unga"])
        assert open_answers(b, key)["first_name"] == "Alva"
        # When report A's ciphertext is written into report B's row
        db.session.execute(sa.update(Report).where(Report.id == b.id).values(sealed=a.sealed))
        db.session.commit()
        db.session.expire_all()
        b = db.session.get(Report, b.id)
        assert b is not None and b.sealed == a.sealed
        # Then B no longer opens, while A still does
        with pytest.raises(CryptoError):
            open_answers(b, key)
        assert open_answers(a, key)["first_name"] == "Alva"


def test_report_moved_to_another_inbox_fails(setup: tuple[Flask, dict[str, str]]) -> None:
    # Given a report in Barn och unga
    app, codes = setup
    _send(app, PRIVATE_ANONYMOUS_CHILD)
    with app.app_context():
        [report] = _reports()
        children, adults = _inbox("Barn och unga"), _inbox("Vuxna")
        children_key = bootstrap.unlock_with_recovery_code(children, codes["Barn och unga"])
        adults_key = bootstrap.unlock_with_recovery_code(adults, codes["Vuxna"])
        # When its row is pointed at the Vuxna inbox
        db.session.execute(
            sa.update(Report).where(Report.id == report.id).values(inbox_id=adults.id)
        )
        db.session.commit()
        db.session.expire_all()
        moved = db.session.get(Report, report.id)
        assert moved is not None and moved.inbox_id == adults.id
        # Then neither inbox's key opens it: the ciphertext is bound to the original inbox id
        for key in (children_key, adults_key):
            with pytest.raises(CryptoError):
                open_answers(moved, key)
