"""The anonymous reporter's coarse states: one table, none that reads as "closed"."""

from __future__ import annotations

import pytest

from intake.reports import handling, public_status
from intake.reports.public_status import BEDOMS, FARDIG, MOTTAGEN


def test_every_internal_state_has_a_public_one() -> None:
    assert set(public_status.BY_STATUS) == set(handling.STATUSES)


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (handling.RECEIVED, MOTTAGEN),
        (handling.ASSESSED, BEDOMS),
        # Decided covers "utredning inleds": the reporter must not read it as closed.
        (handling.DECIDED, FARDIG),
        (handling.REGISTERED, FARDIG),
        (handling.PURGED, FARDIG),
        ("something new", BEDOMS),
    ],
)
def test_the_table(status: str, shown: public_status.PublicStatus) -> None:
    assert public_status.public_status(status) is shown


@pytest.mark.parametrize("state", public_status.PUBLIC_STATES)
def test_each_state_says_what_it_does_and_does_not_mean(state: public_status.PublicStatus) -> None:
    for text in (state.label, state.means, state.does_not_mean):
        assert str(text).strip()
    assert "avslutad" not in str(state.label).lower()
    assert str(state.does_not_mean).startswith("Det ")
