"""What every page's header and footer bring from our own host: the favicon, the municipal
logo (never able to run script), and phone numbers as tel: links that do not wrap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import logo, phone
from intake.config import ConfigError

EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def test_favicon_is_served_and_linked(client: FlaskClient) -> None:
    """/favicon.ico answers from our static folder; every page links an icon."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").get_data(as_text=True)


def test_shipped_logo_with_the_municipality_as_alt_text(client: FlaskClient) -> None:
    """Without MUNICIPAL_LOGO the neutral logo is served as SVG, shown through <img>."""
    response = client.get("/logotyp.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == logo.CSP
    assert response.data == logo.SHIPPED.read_bytes()
    page = client.get("/").get_data(as_text=True)
    assert '<img class="logo" src="/logotyp.svg" alt="Älvsbyns kommun"' in page
    assert "<svg" not in page.split("<main", 1)[0]  # never inlined


def test_configured_logo_from_the_instance_folder(make_app: Any, instance_path: Path) -> None:
    """An SVG in the instance folder is served as it is, under a policy with no script."""
    (instance_path / "kommun.svg").write_bytes(EVIL_SVG)
    app: Flask = make_app(MUNICIPAL_LOGO="kommun.svg")
    response = app.test_client().get("/logotyp.svg")
    assert response.status_code == 200
    assert response.data == EVIL_SVG
    assert response.mimetype == "image/svg+xml"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("../utanfor.svg", EVIL_SVG),  # outside the instance folder
        ("kommun.png", b"\x89PNG"),  # not an SVG
        ("kommun.svg", b"<html><script>alert(1)</script></html>"),  # not an SVG document
        ("saknas.svg", None),  # no such file
    ],
)
def test_a_logo_that_cannot_be_served_stops_the_start(
    make_app: Any, instance_path: Path, name: str, content: bytes | None
) -> None:
    """MUNICIPAL_LOGO must name an SVG document inside the instance folder."""
    if content is not None:
        (instance_path / name).resolve().write_bytes(content)
    with pytest.raises(ConfigError, match="MUNICIPAL_LOGO"):
        make_app(MUNICIPAL_LOGO=name)


@pytest.mark.parametrize(
    ("number", "uri"),
    [
        ("112", "tel:112"),
        ("114 14", "tel:11414"),
        ("0929-170 00", "tel:+4692917000"),
        ("0920-29 30 00", "tel:+46920293000"),
        ("+46 929 170 00", "tel:+4692917000"),
    ],
)
def test_tel_uri(number: str, uri: str) -> None:
    """National numbers dial with +46; short numbers as they are."""
    assert phone.tel_uri(number) == uri


def test_linked_escapes_the_text_and_links_whole_numbers_only() -> None:
    """Only the named numbers, not a part of a longer one, and the rest stays escaped."""
    text = "Ring 112 eller 0929-170 00, inte 1120 <b>"
    assert str(phone.linked(text, ["112", "0929-170 00"])) == (
        'Ring <a href="tel:112" class="tel">112</a> eller '
        '<a href="tel:+4692917000" class="tel">0929-170 00</a>, inte 1120 &lt;b&gt;'
    )


def test_acute_numbers_on_the_start_page_are_tel_links(client: FlaskClient) -> None:
    """112 and the social services' numbers are links that do not break inside."""
    page = client.get("/orosanmalan/").get_data(as_text=True)
    assert '<a href="tel:112" class="tel">' in page
    assert '<a href="tel:+4692917000" class="tel">0929-170 00</a>' in page
    assert '<a href="tel:+46920293000" class="tel">0920-29 30 00</a>' in page
