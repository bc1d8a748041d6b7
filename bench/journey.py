"""The whole resident journey, as a browser walks it: 14 requests per report.

A named private person reporting a concern about a child: the start page, then each of the
five steps (GET the page, POST the answers, follow the redirect), the check page, the final
submit and the receipt. Each page's own CSRF token is posted back, as a browser would.

`walk` drives it through any `send(method, path, form)`; `drive` runs 16 browsers over HTTP
against a server, each walking journey after journey until the time is up (a journey under
way then is finished, so every request counted belongs to a finished journey).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from sessions import COOKIE_NAME, csrf_token

PREFIX = "/orosanmalan"
STEPS: dict[str, dict[str, Any]] = {
    "om-dig": {"reporter_type": "privat", "anonymous": "nej"},
    "personen": {"subject_type": "barn", "first_name": "Alva", "age": "8"},
    "vardnadshavare": {"guardian1_name": "Förälder Ett", "guardians_aware": "nej"},
    "oro": {
        "categories": ["omsorgssvikt"],
        "what_happened": "Barnet är ofta hungrigt.",
        "acute_danger": "nej",
    },
    "dina-uppgifter": {
        "reporter_name": "Granne Grannesson",
        "reporter_phone": "0929-123 45",
        "relationship": "Granne",
    },
}
REQUESTS_PER_JOURNEY = 1 + 2 * len(STEPS) + 3

# What one request answered: (status, the Location header or "", the body as text).
Answer = tuple[int, str, str]
Send = Callable[[str, str, "dict[str, Any] | None"], Answer]


class JourneyError(RuntimeError):
    """The service did not answer as a resident's browser expects."""


def _expect(kind: str, answer: Answer, status: int) -> Answer:
    if answer[0] != status:
        raise JourneyError(f"{kind}: {answer[0]} (expected {status}): {answer[2][:300]!r}")
    return answer


def _path(location: str) -> str:
    return urlsplit(location).path


def walk(send: Send, on_request: Callable[[str], None] | None = None) -> None:
    """One whole journey through `send`; `on_request(kind)` is told of each request first."""

    def call(kind: str, method: str, path: str, form: dict[str, Any] | None, status: int) -> Answer:
        if on_request is not None:
            on_request(kind)
        return _expect(kind, send(method, path, form), status)

    call("start", "GET", f"{PREFIX}/", None, 200)
    path = f"{PREFIX}/{next(iter(STEPS))}"
    for slug, answers in STEPS.items():
        if path != f"{PREFIX}/{slug}":
            raise JourneyError(f"expected the step {slug}, was sent to {path}")
        page = call(f"GET {slug}", "GET", path, None, 200)
        form = {**answers, "csrf_token": csrf_token(page[2])}
        path = _path(call(f"POST {slug}", "POST", path, form, 302)[1])
    if path != f"{PREFIX}/granska":
        raise JourneyError(f"expected the check page, was sent to {path}")
    page = call("GET granska", "GET", path, None, 200)
    form = {"csrf_token": csrf_token(page[2]), "confirm": "ja", "website": ""}
    path = _path(call("POST granska", "POST", path, form, 303)[1])
    receipt = call("GET kvitto", "GET", path, None, 200)
    if "granska" in path or "kvitto" not in path or not receipt[2]:
        raise JourneyError(f"expected the receipt, was sent to {path}")


class Browser:
    """One cookie and a connection to one server: just enough of a browser."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.cookie = ""
        self.connection: http.client.HTTPConnection | None = None
        self.latencies: dict[str, list[float]] = {}
        self.kind = ""

    def send(self, method: str, path: str, form: dict[str, Any] | None) -> Answer:
        """One request; the session cookie is kept from the answers."""
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            started = time.monotonic()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, ConnectionError):
                # gunicorn's sync workers close after every response: connect again once.
                self.close()
                if attempt == 2:
                    raise
                continue
            self.latencies.setdefault(self.kind, []).append(time.monotonic() - started)
            if response.will_close:
                self.close()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                if COOKIE_NAME in jar:
                    self.cookie = jar[COOKIE_NAME].value
            return response.status, response.headers.get("Location", ""), text
        raise AssertionError("unreachable")

    def told(self, kind: str) -> None:
        """Remember the kind of the next request (for its latency)."""
        self.kind = kind

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class Outcome:
    """What the browsers did: journeys finished, requests sent, failures, latencies."""

    journeys: int = 0
    requests: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    span_s: float = 0.0


def drive(host: str, port: int, *, browsers: int, duration: float) -> Outcome:
    """`browsers` residents, each walking whole journeys (a fresh cookie each) until
    `duration` seconds are up; the journey under way then is finished."""
    outcome = Outcome()
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def resident() -> None:
        browser = Browser(host, port)
        sent = [0]

        def told(kind: str) -> None:
            sent[0] += 1
            browser.told(kind)

        try:
            while time.monotonic() < deadline:
                browser.cookie = ""
                try:
                    walk(browser.send, told)
                except (JourneyError, OSError, http.client.HTTPException) as error:
                    with lock:
                        outcome.failures[type(error).__name__] += 1
                    browser.close()
                    continue
                with lock:
                    outcome.journeys += 1
        finally:
            browser.close()
            with lock:
                outcome.requests += sent[0]
                for kind, seconds in browser.latencies.items():
                    outcome.latencies.setdefault(kind, []).extend(seconds)

    started = time.monotonic()
    threads = [threading.Thread(target=resident) for _ in range(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 120)
    outcome.span_s = time.monotonic() - started
    return outcome
