"""Scheduled work the worker runs on every round; each job is idempotent and cheap when idle."""

from __future__ import annotations

import logging

from intake.reports import drafts

log = logging.getLogger(__name__)


def run_due() -> None:
    """Run every scheduled job once."""
    purged = drafts.purge_expired()
    if purged:
        log.info("deleted %s expired drafts", purged)
