"""Prepare resident sessions over HTTP: each walked to the check page, ready for one submit.

A session is the `intake_session` cookie plus the body of the final POST (CSRF token from the
check page's hidden input, `confirm=ja`, the empty honeypot). A submit deletes the draft the
cookie points to, so every final submit needs a session of its own.
"""

from __future__ import annotations

import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

COOKIE_NAME = "intake_session"

# The same walk as tests/reports/journey_helpers.PRIVATE_ANONYMOUS_CHILD: four steps, a child,
# an anonymous private reporter (so the guardians step applies and no contact step does).
STEPS: dict[str, dict[str, Any]] = {
    "om-dig": {"reporter_type": "privat", "anonymous": "ja"},
    "personen": {"subject_type": "barn", "first_name": "Alva", "age": "8"},
    "vardnadshavare": {"guardian1_name": "Förälder Ett", "guardians_aware": "nej"},
    "oro": {
        "categories": ["omsorgssvikt"],
        "what_happened": "Barnet är ofta hungrigt.",
        "acute_danger": "nej",
    },
}

_CSRF_INPUT = re.compile(r"<input\b[^>]*\bname=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"([^\"]+)\"")


class PrepareError(RuntimeError):
    """The service did not answer a step as a resident's browser expects."""


@dataclass(frozen=True)
class Session:
    """One prepared session: the cookie header value and the final POST body."""

    cookie: str
    body: str

    def line(self) -> str:
        """The `cookie<TAB>body` line the wrk script reads."""
        return f"{self.cookie}\t{self.body}"


def csrf_token(html: str) -> str:
    """The value of the first hidden csrf_token input in a page."""
    tag = _CSRF_INPUT.search(html)
    value = _VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise PrepareError("no csrf_token input on the page")
    return value.group(1)


class _Browser:
    """One keep-alive connection with one cookie: just enough of a browser."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.connection: http.client.HTTPConnection | None = None
        self.cookie = ""

    def request(
        self, method: str, path: str, form: dict[str, Any] | None = None
    ) -> tuple[int, str]:
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, ConnectionError):
                # gunicorn's sync workers close after every response; reconnect once.
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                if COOKIE_NAME in jar:
                    self.cookie = jar[COOKIE_NAME].value
            return response.status, text
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _walk(browser: _Browser) -> Session:
    browser.cookie = ""
    status, html = browser.request("GET", "/orosanmalan/om-dig")
    if status != 200:
        raise PrepareError(f"GET /orosanmalan/om-dig answered {status}")
    token = csrf_token(html)
    for slug, answers in STEPS.items():
        status, html = browser.request(
            "POST", f"/orosanmalan/{slug}", {**answers, "csrf_token": token}
        )
        if status != 302:
            raise PrepareError(f"POST /orosanmalan/{slug} answered {status}: {html[:300]!r}")
    status, html = browser.request("GET", "/orosanmalan/granska")
    if status != 200:
        raise PrepareError(f"GET /orosanmalan/granska answered {status}")
    body = urlencode({"csrf_token": csrf_token(html), "confirm": "ja", "website": ""})
    return Session(cookie=f"{COOKIE_NAME}={browser.cookie}", body=body)


def prepare(host: str, port: int, count: int, *, parallel: int = 8) -> list[Session]:
    """Walk `count` fresh sessions to the check page, `parallel` at a time."""
    local = threading.local()
    browsers: list[_Browser] = []
    lock = threading.Lock()

    def one(_: int) -> Session:
        browser = getattr(local, "browser", None)
        if browser is None:
            browser = local.browser = _Browser(host, port)
            with lock:
                browsers.append(browser)
        return _walk(browser)

    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for browser in browsers:
            browser.close()
