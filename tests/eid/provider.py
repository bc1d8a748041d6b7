"""A real OpenID Provider for the tests: panva/oidc-provider (certified) run by Node.

`tests/eid/op/` holds the script and its package.json + package-lock.json; node_modules is not
committed. The first use runs `npm ci` into a cache folder keyed by the lock file (under
INTAKE_TEST_CACHE, default ~/.cache/intake-test), so a fresh clone in CI installs it in the
test setup itself, once, under a file lock shared by the xdist workers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

OP_SOURCE = Path(__file__).parent / "op"
CLIENT_ID = "intake"
CLIENT_SECRET = "intake-test-secret-0123456789abcdef"  # the test OP's own client
PKJWT_CLIENT_ID = "intake-pkjwt"
CALLBACK_PATH = "/orosanmalan/e-legitimation/retur"


def _cache_root() -> Path:
    configured = os.environ.get("INTAKE_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "intake-test"


def installed() -> Path:
    """A folder with the OP script and its node_modules (installed once with `npm ci`)."""
    lock = (OP_SOURCE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()[:16]
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"oidc-op-{digest}"
    with open(root / "oidc-op.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (target / "node_modules" / "oidc-provider").is_dir():
            target.mkdir(exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(OP_SOURCE / name, target / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=target,
                check=True,
                timeout=600,
            )
        shutil.copy(OP_SOURCE / "op.js", target / "op.js")
    return target


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Provider:
    """One running OP process."""

    issuer: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the process and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(**env: str) -> Provider:
    """Start an OP on a free loopback port; return when its discovery document answers."""
    from joserfc.jwk import RSAKey

    folder = installed()
    port = free_port()
    # Each instance signs with its own fresh key (the OP's built-in dev key is the same in all).
    signing = RSAKey.generate_key(2048, parameters={"kid": f"op-{port}", "use": "sig"})
    env = {"OP_JWKS": json.dumps({"keys": [signing.as_dict(private=True)]}), **env}
    process = subprocess.Popen(
        ["node", "op.js"],
        cwd=folder,
        env={**os.environ, "OP_PORT": str(port), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return Provider(issuer=issuer, process=process)
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the test OpenID Provider did not start")


class _Forms(HTMLParser):
    """The forms of a page: action and fields, with the button's text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action"), "fields": {}, "button": ""})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""

    def handle_data(self, data: str) -> None:
        if self.forms and data.strip():
            self.forms[-1]["button"] += data.strip()


def _form(page: requests.Response, prompt: str) -> dict[str, Any]:
    parser = _Forms()
    parser.feed(page.text)
    return next(form for form in parser.forms if form["fields"].get("prompt") == prompt)


def sign_in_at(
    authorization_url: str, account: str, *, cancel: bool = False, callback: str = ""
) -> str:
    """Act as the resident's browser at the OP: log in as `account` and consent (or cancel).

    Returns the URL the OP sends the browser back to (the RP's callback with its query)."""
    browser = requests.Session()
    callback = callback or CALLBACK_PATH
    url = authorization_url
    page = None
    for _ in range(20):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if urlsplit(url).path == callback:
                return url
            continue
        page = response
        if "/interaction/" not in url:
            raise AssertionError(f"unexpected page at the OP: {url} {response.status_code}")
        if 'value="login"' in page.text:
            form = _form(page, "abort" if cancel else "login")
            fields = {**form["fields"], "login": account}
        else:
            form = _form(page, "abort" if cancel else "consent")
            fields = form["fields"]
        posted = browser.post(
            urljoin(url, form["action"]), data=fields, allow_redirects=False, timeout=10
        )
        url = urljoin(url, posted.headers["location"])
        if urlsplit(url).path == callback:
            return url
    raise AssertionError("the OP never sent the browser back")


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def public_jwks(private_pem_path: Path) -> str:
    """The public JWKS (JSON) of a PEM private key, for the private_key_jwt client."""
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(private_pem_path.read_text())
    public = key.as_dict(private=False)
    return json.dumps({"keys": [public]})


def redacted(text: str) -> str:
    """Text with anything that looks like a personnummer masked (for assertion messages)."""
    return re.sub(r"\d{8}-?\d{4}", "<pnr>", text)
