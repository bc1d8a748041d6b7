"""Browser fixtures: Debian Chromium through Playwright, and the app served over real HTTP.

Every browser test module sets
`pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]`: one xdist group, so
that only one worker drives Chromium (the suite runs `pytest -n 2 --dist loadgroup`).

Every context the browser opens keeps the HTML the app serves it; at the end of the session
the W3C Nu HTML checker runs once over all of it and any error fails the run (markup.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from intake import bootstrap

from ..conftest import LiveServer
from ..staff_helpers import Installation
from .markup import Markup
from .site import Site
from .watch import LOOPBACK, Watch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, once per test process."""
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def markup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Markup]:
    """Every page the browser tests were served; at the session's end, zero Nu errors."""
    kept = Markup(tmp_path_factory.mktemp("markup"))
    yield kept
    errors = kept.errors()
    if errors:
        pytest.fail(
            f"The Nu HTML checker found {len(errors)} errors:\n" + "\n".join(errors),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser(playwright: Playwright, markup: Markup) -> Iterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser. Each context it opens keeps
    the HTML it is served, for the Nu checker."""
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    open_context = chromium.new_context

    def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = open_context(*args, **kwargs)
        markup.watch(context)
        return context

    chromium.new_context = new_context  # type: ignore[method-assign]
    yield chromium
    chromium.close()


@pytest.fixture
def live_config() -> dict[str, Any]:
    """Extra config for the served app; a module overrides this fixture to change it."""
    return {}


@pytest.fixture
def site(make_app: Any, live_config: dict[str, Any]) -> Site:
    """The app with CSRF on after setup (default inboxes and routing rules), keeping what setup
    printed: the inboxes' recovery codes and the first admin's one-time password."""
    app: Flask = make_app(**live_config)
    with app.app_context():
        result = bootstrap.run_setup()
    assert result.admin_password is not None
    return Site(Installation(app=app, recovery_codes=result.recovery_codes), result.admin_password)


@pytest.fixture
def live_app(site: Site) -> Flask:
    """The served app; a module overrides this fixture (or `site`) to serve another."""
    return site.installation.app


@pytest.fixture
def live(live_app: Flask) -> Iterator[str]:
    """The app served on loopback over real HTTP; yields its base URL."""
    with LiveServer(live_app) as server:
        yield server.url


def _offline(context: BrowserContext) -> None:
    # A safety net: nothing a test does may reach the internet.
    context.route(lambda url: not url.startswith(LOOPBACK), lambda route: route.abort())


def _context(browser: Browser, live: str, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live, locale="sv-SE", **options)
    context.set_default_timeout(TIMEOUT_MS)
    _offline(context)
    yield context
    context.close()


@pytest.fixture
def context(browser: Browser, live: str) -> Iterator[BrowserContext]:
    """A fresh browser context (cookies, storage) for this test."""
    yield from _context(browser, live)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page in this test's context."""
    return context.new_page()


@pytest.fixture
def nojs_page(browser: Browser, live: str) -> Iterator[Page]:
    """A page in a fresh context with JavaScript turned off."""
    for context in _context(browser, live, java_script_enabled=False):
        yield context.new_page()


@pytest.fixture
def watch(page: Page) -> Watch:
    """Record every request and console message of the page."""
    seen = Watch()
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))
    return seen
