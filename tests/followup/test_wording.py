"""The seeded promise keeps the signed document's wording; residents read obvious typing errors
corrected, with a note naming the original (intake.followup.wording)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from intake.extensions import db
from intake.followup import wording
from intake.followup.models import Commitment

NOTE = "rättat stavfel, i det undertecknade löftet står ”droganeundersökning”"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            "Kommunen kommer att göra en droganeundersökning varje år.",
            "Kommunen kommer att göra en drogvaneundersökning varje år."
            f' <span class="correction-note">({NOTE})</span>',
        ),
        ("Trafikkontroller vid skolor.", "Trafikkontroller vid skolor."),
        # Text is escaped as ever; a correction does not open a hole
        ("<b>droganeundersökning</b>", "&lt;b&gt;drogvaneundersökning&lt;/b&gt;"),
    ],
)
def test_displayed(app: Flask, stored: str, shown: str) -> None:
    with app.test_request_context():
        result = str(wording.displayed(stored))
    assert result.startswith(shown)
    assert ("correction-note" in result) is ("droganeundersökning" in stored)


def test_the_public_page_shows_the_correction_and_the_database_the_original(
    installation,  # type: ignore[no-untyped-def]
) -> None:
    app = installation.app
    with app.app_context():
        stored = db.session.scalars(
            sa.select(Commitment.text).where(Commitment.text.contains("undersökning"))
        ).all()
    assert stored and all("droganeundersökning" in text for text in stored)
    page = app.test_client().get("/medborgarloftet/").get_data(as_text=True)
    assert "drogvaneundersökning" in page and NOTE in page
