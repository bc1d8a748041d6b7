"""Staff password hashes at the cheapest Argon2id cost for every account test."""

from __future__ import annotations

import pytest

from .back_office import fast_passwords


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)
