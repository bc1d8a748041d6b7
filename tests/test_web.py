"""Template helpers of intake.web: the kept URLs are the URLs url_for builds."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for

from intake import web

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("site.home", {}),
    ("static", {"filename": "intake.css"}),
    ("reports.step", {"slug": "oro"}),
    ("reports.step", {"slug": "oro", "granska": 1}),
    ("reports.step", {"slug": "oro", "granska": True}),
    (".check", {}),
    ("site.language", {"code": "en", "next": "/orosanmalan/oro?a=1&b=<>"}),
    ("followup.start", {"_external": True}),
    ("site.home", {"_anchor": "main"}),
    ("reports.step", {"slug": "oro", "ids": [1, 2]}),
]


@pytest.mark.parametrize("script_root", ["", "/intake"])
def test_kept_urls_are_built_as_url_for_builds_them(app: Flask, script_root: str) -> None:
    for _ in range(2):  # the second round is served from the kept URLs
        with app.test_request_context("/orosanmalan/oro", base_url=f"http://x{script_root}/"):
            for endpoint, values in CALLS:
                assert web._template_url_for(endpoint, **values) == url_for(endpoint, **values)


def test_templates_use_the_kept_urls(app: Flask) -> None:
    assert app.jinja_env.globals["url_for"] is web._template_url_for


def test_only_links_without_arguments_or_of_static_files_are_kept(app: Flask) -> None:
    web._built_url.cache_clear()
    with app.test_request_context("/"):
        web._template_url_for("site.home")
        web._template_url_for("static", filename="intake.css")
        web._template_url_for("dialogues.change", token="a-bearer-token")
        web._template_url_for("reports.step", slug="oro")
    assert web._built_url.cache_info().currsize == 2
