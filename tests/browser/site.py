"""The served app after setup, as the staff-side browser tests use it."""

from __future__ import annotations

from dataclasses import dataclass

from ..staff_helpers import Installation


@dataclass
class Site:
    """The served app after setup: its secrets and the first admin's one-time password."""

    installation: Installation
    admin_password: str
