"""A long waiting list (issue 14 §3): positions are counted, not listed, and promotion reads the
list a page at a time; order is first come, first served, ties broken by sign-up number."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake import clock
from intake.dialogues import service
from intake.dialogues.models import CONFIRMED, WAITLISTED, Dialogue, Registration
from intake.extensions import db

from ..staff_helpers import Installation
from .helpers import BASE_URL, new_dialogue

WAITING = 130  # more than two pages of promotion


def _fill(dialogue_id: int) -> list[int]:
    """One confirmed seat, then WAITING people in line (every third pair at the same instant)."""
    start = clock.now() - timedelta(hours=1)
    rows = [
        Registration(
            dialogue_id=dialogue_id,
            email_tag=f"tag-{n}",
            party_size=1,
            status=CONFIRMED if n == 0 else WAITLISTED,
            locale="sv",
            created_at=start + timedelta(seconds=(n // 2) * 2 if n % 3 == 0 else n),
        )
        for n in range(WAITING + 1)
    ]
    db.session.add_all(rows)
    db.session.commit()
    line = sorted(rows[1:], key=lambda r: (r.created_at, r.id))
    return [r.id for r in line]


@pytest.mark.parametrize(("seats", "promoted"), [(1, 0), (41, 40), (None, WAITING)])
def test_positions_and_promotion_follow_the_line(
    site: Installation, seats: int | None, promoted: int
) -> None:
    dialogue_id = new_dialogue(site.app, capacity=1)
    with site.app.app_context():
        line = _fill(dialogue_id)
        # Every place in the line is its count of those ahead, plus one
        by_id = {r.id: r for r in db.session.scalars(sa.select(Registration))}
        assert [service.waitlist_position(by_id[i]) for i in line] == list(range(1, WAITING + 1))
        assert service.anyone_waiting(dialogue_id)
        # When the dialogue gets more seats (or no limit), the first in line get them
        dialogue = db.session.get(Dialogue, dialogue_id)
        assert dialogue is not None
        dialogue.capacity = seats
        links = service.MailLinks(BASE_URL, site.app.config["SECRET_KEY"])
        moved = service.refill(dialogue, keys=site.app.config["APP_KEYS"], links=links)
        db.session.commit()
        assert [r.id for r in moved] == line[:promoted]
        statuses = [db.session.get(Registration, i).status for i in line]  # type: ignore[union-attr]
        assert statuses == [CONFIRMED] * promoted + [WAITLISTED] * (WAITING - promoted)
        assert service.anyone_waiting(dialogue_id) is (promoted < WAITING)
