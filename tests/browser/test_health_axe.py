"""axe-core on the admin overview with the red notice of intake.health (stale worker, a
failed mail)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from intake import clock, health, outbox
from intake.extensions import db
from intake.outbox import OutboxMessage

from .site import Site
from .test_axe import audit
from .test_staff_journey import sign_in
from .watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHIEF = "chef@alvsbyn.invalid"


def test_admin_overview_with_the_health_notice(
    page: Page, watch: Watch, site: Site, live_app: Flask
) -> None:
    # Given a worker that last beat an hour ago and a mail the outbox gave up on
    site.installation.add_user(CHIEF, "admin", inboxes=("Vuxna",))
    with live_app.app_context():
        hour_ago = clock.now() - timedelta(hours=1)
        health.beat("old-worker", started_at=hour_ago, now=hour_ago)
        outbox.enqueue("new_report", "x@example.org", {"inbox": "X", "acute": False})
        db.session.execute(
            sa.update(OutboxMessage).values(
                failed_at=clock.now(), last_error="InvalidAddress", recipient_protected=None
            )
        )
        db.session.commit()
    # When the admin opens the overview
    sign_in(page, site, CHIEF)
    response = page.goto("/personal/")
    assert response is not None and response.status == 200
    # Then the notice is there and the page passes axe
    expect(page.get_by_role("heading", name="Tjänsten behöver tillsyn")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("InvalidAddress")
    audit(page, watch, "admin overview with the health notice")
