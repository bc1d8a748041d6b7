"""Migration 0019_organiser: dialogues already in the database were public before drafts existed,
so they stay published (their status kept, published_at set to when they were created)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from intake.dialogues.models import CANCELLED, PLANNED, Dialogue, Registration
from intake.extensions import db

from ..test_migrations import app, empty_database  # noqa: F401  (fixtures)

CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_existing_dialogues_stay_published(app: Flask) -> None:  # noqa: F811
    with app.app_context():
        # Given a database before drafts, with a planned and a cancelled dialogue
        upgrade(revision="0018_casenotes")
        for status in (PLANNED, CANCELLED):
            db.session.execute(
                sa.text(
                    "INSERT INTO dialogue (title, description, themes, hosts, starts_at, ends_at,"
                    " format, place, address, meeting_link, accepts_questions, accessibility,"
                    " reminder_hours, status, seat_version, created_at, updated_at) VALUES"
                    " (:title, '', '[]', '[]', :at, :at, 'in_person', '', '', '', :yes, '', 24,"
                    " :status, 0, :at, :at)"
                ),
                {"title": status, "at": CREATED, "status": status, "yes": True},
            )
        db.session.commit()
        # When the migration runs
        upgrade(revision="0019_organiser")
        # Then both keep their status and count as published from their creation
        rows = db.session.execute(
            sa.select(Dialogue.status, Dialogue.published_at).order_by(Dialogue.id)
        ).all()
        assert rows == [(PLANNED, CREATED), (CANCELLED, CREATED)]
        # And registrations are not walk-ins
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0
        db.session.remove()
