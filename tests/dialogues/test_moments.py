"""Dialogue dates as two inputs, `type=date` and `type=time` (issue 13 §4): checked on the
server, each error naming the moment it is about, what was typed kept; and no input at all
gives a server error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import clock

from ..staff_helpers import Installation
from .helpers import errors, input_value

AS_DATE = "som ÅÅÅÅ-MM-DD, till exempel 2026-03-14."
DAY = (clock.now() + timedelta(days=30)).astimezone(clock.STOCKHOLM).strftime("%Y-%m-%d")


def _form(**moments: str) -> dict[str, Any]:
    return {
        "title": "Trygghet i centrum",
        "hosts": ["polisen"],
        "format": "in_person",
        "place": "Folkets hus",
        "reminder_hours": "24",
        "starts_at-date": DAY,
        "starts_at-time": "18:00",
        "ends_at-date": DAY,
        "ends_at-time": "20:00",
        **{name.replace("__", "-"): value for name, value in moments.items()},
    }


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({}, None),
        ({"starts_at__time": "18.00", "ends_at__time": "2000"}, None),
        ({"starts_at__date": "", "starts_at__time": ""},
         "Skriv datum och tid för när dialogen börjar."),
        ({"starts_at__date": ""}, "Skriv datum för när dialogen börjar."),
        ({"ends_at__time": ""}, "Skriv tid för när dialogen slutar."),
        ({"starts_at__date": "14/3"}, f"Skriv datum för när dialogen börjar {AS_DATE}"),
        ({"starts_at__date": "2031-02-30"},
         f"Skriv datum för när dialogen börjar {AS_DATE}"),
        ({"ends_at__time": "25:00"},
         "Skriv tid för när dialogen slutar som TT:MM, till exempel 18:00."),
        ({"starts_at__date": "1999-12-31"},
         "Datum för när dialogen börjar: skriv ett år mellan 2000 och 2100."),
        ({"ends_at__time": "17:00"}, "Dialogen måste sluta efter att den börjar."),
        ({"signup_opens_at__time": "09:00"}, "Skriv datum för när anmälan öppnar."),
        ({"signup_closes_at__date": DAY}, "Skriv tid för när anmälan stänger."),
        ({"signup_closes_at__date": DAY, "signup_closes_at__time": "12:00"}, None),
    ],
)  # fmt: skip
def test_date_and_time_are_checked_and_named(
    site: Installation, organiser: FlaskClient, typed: dict[str, str], error: str | None
) -> None:
    # When the organiser sends the new-dialogue form with these dates and times
    response = organiser.post("/personal/dialoger/ny", data=_form(**typed))
    if error is None:
        # Then it is saved
        assert response.status_code == 302, errors(response.get_data(as_text=True))
        return
    # Or one message names the moment, and every part typed comes back as typed
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert errors(page) == [error]
    for name, value in _form(**typed).items():
        if name.endswith("-date"):
            assert input_value(page, name[: -len("-date")]) == value
        elif name.endswith("-time"):
            assert input_value(page, name) == value


def test_the_form_has_date_and_time_inputs(site: Installation, organiser: FlaskClient) -> None:
    page = organiser.get("/personal/dialoger/ny").get_data(as_text=True)
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
        assert f'id="{name}" name="{name}-date" type="date"' in page
        assert f'id="{name}-time" name="{name}-time" type="time"' in page


def test_editing_shows_the_stored_moments(site: Installation, organiser: FlaskClient) -> None:
    from .helpers import new_dialogue, stockholm

    dialogue_id = new_dialogue(site.app, starts_at=stockholm(2031, 3, 14, 18, 30))
    page = organiser.get(f"/personal/dialoger/{dialogue_id}/andra").get_data(as_text=True)
    assert input_value(page, "starts_at") == "2031-03-14"
    assert input_value(page, "starts_at-time") == "18:30"
    assert input_value(page, "ends_at-time") == "20:30"


PARTS = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}\Z"),
    st.from_regex(r"\A[0-9]{1,3}[:.]?[0-9]{0,3}\Z"),
    st.sampled_from(["", "0000-00-00", "9999-12-31", "2031-02-29", "24:00", "23:59", "-1"]),
)


@settings(
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(starts_date=PARTS, starts_time=PARTS, ends_date=PARTS, ends_time=PARTS, opens=PARTS)
def test_no_date_or_time_gives_a_server_error(
    site: Installation,
    organiser: FlaskClient,
    starts_date: str,
    starts_time: str,
    ends_date: str,
    ends_time: str,
    opens: str,
) -> None:
    form = _form(
        starts_at__date=starts_date,
        starts_at__time=starts_time,
        ends_at__date=ends_date,
        ends_at__time=ends_time,
        signup_opens_at__date=opens,
    )
    response = organiser.post("/personal/dialoger/ny", data=form)
    assert response.status_code in (200, 302, 400)
