"""The `nodes` marker: tests that run several servers and workers against one PostgreSQL."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (the suite treats unknown marks as errors)."""
    config.addinivalue_line(
        "markers", "nodes: two gunicorn nodes and two outbox workers on PostgreSQL + Redis"
    )
