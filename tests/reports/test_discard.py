"""'Avbryt och radera mina svar' asks first, on a second page that needs no JavaScript."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake.extensions import db
from intake.reports.models import Draft

from .journey_helpers import PRIVATE_ANONYMOUS_CHILD, walk

CONFIRM = "/orosanmalan/radera-svar"


def drafts(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) or 0)


def test_the_check_page_links_to_a_confirmation_instead_of_deleting(
    app: Flask, client: FlaskClient
) -> None:
    # Given answers waiting on the check page
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    page = client.get("/orosanmalan/granska").get_data(as_text=True)
    # Then "Skicka anmälan" is the only button; discarding is a plain link to a second page
    assert page.count('<button class="button"') == 1
    assert f'<a href="{CONFIRM}">Avbryt och radera mina svar</a>' in page
    assert 'action="/orosanmalan/avbryt"' not in page
    assert page.index("Skicka anmälan") < page.index("Avbryt och radera mina svar")


def test_opening_the_confirmation_deletes_nothing(app: Flask, client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    page = client.get(CONFIRM)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Vill du radera dina svar?" in body
    assert 'action="/orosanmalan/avbryt"' in body and 'name="csrf_token"' in body
    assert '<a href="/orosanmalan/granska">Nej, tillbaka till mina svar</a>' in body
    assert drafts(app) == 1
    # "Nej" keeps every answer
    assert "Barnet är ofta hungrigt." in client.get("/orosanmalan/granska").get_data(as_text=True)


def test_yes_deletes_the_answers(app: Flask, client: FlaskClient) -> None:
    walk(client, PRIVATE_ANONYMOUS_CHILD, send=False)
    client.get(CONFIRM)
    response = client.post("/orosanmalan/avbryt", follow_redirects=True)
    assert "Dina svar är raderade." in response.get_data(as_text=True)
    assert drafts(app) == 0
    assert client.get("/orosanmalan/granska").location == "/orosanmalan/om-dig"
