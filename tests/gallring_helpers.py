"""Recording gallringsbeslut in tests: without one nothing is purged or erased."""

from __future__ import annotations

from datetime import date

from flask import Flask

from intake import clock, gallring
from intake.extensions import db

ALL = tuple(gallring.CLASSES)


def decide(
    app: Flask,
    *classes: str,
    days: int = 30,
    valid_from: date = date(2000, 1, 1),
    reference: str = "SN 2026/40",
) -> list[int]:
    """Record a decision for each class (all classes if none named); their ids."""
    with app.app_context():
        ids = [
            gallring.record(
                information_class,
                reference=reference,
                decided_on=valid_from,
                decided_by="Socialnämnden",
                retention_days=days,
                valid_from=valid_from,
                now=clock.now(),
            ).id
            for information_class in classes or ALL
        ]
        db.session.commit()
        return ids
