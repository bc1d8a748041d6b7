"""What a page asked for and said on its console, recorded by the `watch` fixture."""

from __future__ import annotations

from dataclasses import dataclass, field

LOOPBACK = "http://127.0.0.1:"


@dataclass
class Watch:
    """What a page asked for and said on its console."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to any host other than the app on 127.0.0.1."""
        return [url for url in self.requests if not url.startswith(LOOPBACK)]

    def csp_violations(self) -> list[str]:
        """Console messages in which Chromium reports a Content-Security-Policy violation."""
        return [text for text in self.console if "Content Security Policy" in text]
