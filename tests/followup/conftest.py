"""Follow-up fixtures: the clock seam frozen for every test, before setup runs (setup records
the digital orosanmälan service as introduced on its own date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from intake import clock

from .factories import utc


@pytest.fixture(autouse=True)
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the clock seam to a fixed moment (2026-07-02 10:00 UTC until moved)."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    set_now(utc(2026, 7, 2, 10, 0))
    return set_now
