"""The resident's side under faults: gunicorn on this test's database, and a tiny HTTP client
with one cookie jar that can be shared by many threads (the same browser pressing twice)."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .. import served
from ..conftest import FAST_ARGON2
from ..served import BIN, ROOT

COOKIE = "intake_session"
UNAVAILABLE = (
    "Tjänsten är tillfälligt otillgänglig. Dina svar finns kvar – försök igen om en stund."
)
REFERENCE = re.compile(r"\b20\d\d-[2-9A-Z]{4}-[2-9A-Z]{4}\b")


@dataclass
class Answer:
    """One HTTP response, read whole."""

    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        """The first header of that name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set_cookies(self) -> list[str]:
        """Every Set-Cookie header."""
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


class Browser:
    """A cookie jar of one cookie (the session) over plain http.client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        keep: bool = True,
    ) -> Answer:
        """Send one request with the jar's cookie; keep a new cookie unless told not to."""
        sent = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie and "Cookie" not in sent:
            sent["Cookie"] = f"{COOKIE}={self.cookie}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            answer = Answer(
                response.status, response.getheaders(), response.read().decode("utf-8", "replace")
            )
        finally:
            conn.close()
        if keep:
            for value in answer.set_cookies():
                name, _, rest = value.partition("=")
                if name == COOKIE:
                    self.cookie = rest.split(";", 1)[0] or None
        return answer

    def get(self, path: str, **kwargs: Any) -> Answer:
        """GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Answer:
        """POST a form."""
        return self.request("POST", path, data, **kwargs)


def walk(browser: Browser, steps: dict[str, dict[str, Any]]) -> None:
    """Every step of the journey posted, up to the check page."""
    for slug, data in steps.items():
        answer = browser.post(f"/orosanmalan/{slug}", data)
        assert answer.status == 302, (slug, answer.status, answer.body[:1000])


def write_instance_config(instance: Path, **settings: Any) -> None:
    """The instance's config.py: no CSRF (a bare form per request), cheap Argon2id, and more."""
    lines = ["WTF_CSRF_ENABLED = False", *(f"{k} = {v!r}" for k, v in FAST_ARGON2.items())]
    lines += [f"{k} = {v!r}" for k, v in settings.items()]
    (instance / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


def setup_instance(instance: Path, env: dict[str, str]) -> None:
    """Secrets and `flask setup` (inboxes, routing rules, the first admin)."""
    for args in (
        [str(BIN / "python"), "-m", "intake.secrets", "create", str(instance)],
        [str(BIN / "flask"), "--app", "intake", "setup"],
    ):
        done = subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"


def environment(instance: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment gunicorn and the CLI run with."""
    return {
        **os.environ,
        "INTAKE_INSTANCE_PATH": str(instance),
        "INTAKE_DATABASE_URL": database_url,
        **extra,
    }


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *, workers: int = 4) -> Iterator[int]:
    """gunicorn (workers x 4 threads) serving the app on a free loopback port; yields it."""
    with served.gunicorn(env, log, workers=workers) as server:
        yield server.port
