"""The municipal logo, served from our own host.

MUNICIPAL_LOGO names an SVG file inside the instance folder; empty means the neutral logo we
ship. An SVG can carry script, so the logo is only ever shown through `<img>` (where a browser
runs none) and never inlined into a page, and its own response forbids script too
(`default-src 'none'`): opened on its own it runs nothing either.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from werkzeug.wrappers import Response

from intake.config import ConfigError

SHIPPED = Path(__file__).resolve().parent / "static" / "logo.svg"
CSP = "default-src 'none'; style-src 'unsafe-inline'"
MAX_BYTES = 256 * 1024


class LogoRefused(Exception):
    """The configured logo is not an SVG file of ours to serve."""


def _svg(path: Path) -> bytes:
    """The file's bytes, if it is a small SVG document."""
    if path.suffix.lower() != ".svg" or not path.is_file():
        raise LogoRefused(f"{path} is not an .svg file")
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise LogoRefused(f"{path} is larger than {MAX_BYTES} bytes")
    if b"<svg" not in data[:4096]:
        raise LogoRefused(f"{path} does not start an <svg> document")
    return data


def path_of(app: Flask) -> Path:
    """Where the logo is: a file inside the instance folder, or the shipped one."""
    name = str(app.config.get("MUNICIPAL_LOGO") or "")
    if not name:
        return SHIPPED
    instance = Path(app.instance_path).resolve()
    path = (instance / name).resolve()
    if not path.is_relative_to(instance):
        raise LogoRefused(f"MUNICIPAL_LOGO must name a file inside {instance}")
    return path


def check(app: Flask) -> None:
    """Refuse to start with a logo setting that could not be served."""
    try:
        _svg(path_of(app))
    except LogoRefused as refused:
        raise ConfigError(f"MUNICIPAL_LOGO: {refused}") from refused


def response() -> Response:
    """The logo as image/svg+xml under a policy that forbids script; 404 if it went bad."""
    try:
        data = _svg(path_of(current_app))
    except LogoRefused:
        return Response(status=404)
    served = Response(data, mimetype="image/svg+xml")
    served.headers["Content-Security-Policy"] = CSP
    served.headers["Cache-Control"] = "public, max-age=3600"
    return served
