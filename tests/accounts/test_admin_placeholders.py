"""The admin's overview warns (once: not on every admin page) about setup's placeholder
addresses until real ones are saved, and the forms let an unchanged placeholder stay but refuse
a newly typed one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from intake import bootstrap
from intake.accounts.models import User
from intake.extensions import db
from intake.reports import handling
from intake.reports.models import Inbox

from ..staff_helpers import Installation
from .back_office import errors, text

CHEF = "chef@alvsbyn.se"  # the signed-in admin: a real address, so only setup's are listed
BAD_ADDRESS = "Skriv e-postadressen som namn@exempel.se."
INBOXES = ("Barn och unga", "Medborgardialog", "Vuxna")
REAL = {
    "Barn och unga": "barnochunga@alvsbyn.se",
    "Medborgardialog": "dialog@alvsbyn.se",
    "Vuxna": "vuxna@alvsbyn.se",
}
PATHS = {
    "overview": "/personal/",
    "users": "/personal/admin/anvandare",
    "inboxes": "/personal/admin/inkorgar",
}
PAGES = ("overview",)
QUIET = ("users", "inboxes", "inbox Vuxna")


@dataclass
class Office:
    """An installation after setup, with an admin (real address) signed in."""

    site: Installation
    admin: FlaskClient

    def inbox(self, name: str) -> Inbox:
        """An inbox by name, outside any app context."""
        with self.site.app.app_context():
            found = self.site.inbox(name)
            db.session.expunge(found)
            return found

    def user(self, email: str) -> User:
        """A user by e-mail, outside any app context."""
        with self.site.app.app_context():
            found = self.site.user(email)
            db.session.expunge(found)
            return found

    def page(self, which: str) -> str:
        """One of the admin's pages, by name."""
        path = PATHS.get(which) or f"/personal/admin/inkorgar/{self.inbox('Vuxna').id}"
        response = self.admin.get(path)
        assert response.status_code == 200
        return text(response)

    def save_inbox(self, name: str, /, **changes: Any) -> Any:
        """Post the inbox form with its saved values, changed as given."""
        inbox = self.inbox(name)
        data = {
            "name": inbox.name,
            "notification_email": inbox.notification_email or "",
            **changes,
        }
        return self.admin.post(f"/personal/admin/inkorgar/{inbox.id}", data=data)

    def save_user(self, email: str, /, **changes: Any) -> Any:
        """Post the user form with the user's saved values, changed as given."""
        user = self.user(email)
        data = {"name": user.name, "email": user.email, "role": user.role, "active": "y"}
        return self.admin.post(f"/personal/admin/anvandare/{user.id}", data={**data, **changes})


@pytest.fixture
def office(installation: Installation) -> Office:
    installation.add_user(CHEF, "admin")
    client = installation.app.test_client()
    installation.login(client, CHEF)
    return Office(installation, client)


def _warning(html: str) -> str:
    found = re.search(
        r'<div class="warning"[^>]*aria-labelledby="placeholders-title">(.*?)</div>', html, re.S
    )
    return found.group(1) if found else ""


def _inboxes_warned(html: str) -> list[str]:
    return re.findall(r"Inkorgen (.+?) har ingen riktig aviseringsadress", _warning(html))


def _admins_warned(html: str) -> list[str]:
    return re.findall(r"har ingen riktig e-postadress \((.+?)\)", _warning(html))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("saved", "warned"),
    [
        ({}, list(INBOXES)),
        ({"Vuxna": REAL["Vuxna"]}, ["Barn och unga", "Medborgardialog"]),
        # An address removed altogether notifies nobody either
        ({"Vuxna": REAL["Vuxna"], "Barn och unga": ""}, ["Barn och unga", "Medborgardialog"]),
        (REAL, []),
    ],
)
def test_the_warning_lists_exactly_the_placeholder_inboxes(
    office: Office, page: str, saved: dict[str, str], warned: list[str]
) -> None:
    # Given some inboxes saved with a real address (or none) through the admin form
    for name, address in saved.items():
        response = office.save_inbox(name, notification_email=address)
        assert response.status_code == 302, errors(text(response))
    # When the admin opens the page
    html = office.page(page)
    # Then the warning names exactly the inboxes still without a real address
    assert _inboxes_warned(html) == warned
    for name in warned:
        link = f'href="/personal/admin/inkorgar/{office.inbox(name).id}#notification_email"'
        assert link in _warning(html)


def test_the_warning_says_it_in_words_and_goes_once_every_address_is_real(office: Office) -> None:
    # Given a fresh setup: every address is a placeholder
    html = office.page("overview")
    assert "Riktiga e-postadresser saknas" in html
    assert (
        "Inkorgen Vuxna har ingen riktig aviseringsadress: ingen får e-post om nya anmälningar."
        in html
    )
    assert _admins_warned(html) == [bootstrap.FIRST_ADMIN]
    first_admin = office.user(bootstrap.FIRST_ADMIN)
    assert f'href="/personal/admin/anvandare/{first_admin.id}#email"' in _warning(html)
    # When every inbox and the first admin get real addresses
    for name, address in REAL.items():
        assert office.save_inbox(name, notification_email=address).status_code == 302
    assert office.save_user(bootstrap.FIRST_ADMIN, email="it.chef@alvsbyn.se").status_code == 302
    # Then no page warns any more
    for page in PAGES:
        html = office.page(page)
        assert _warning(html) == "" and "Riktiga e-postadresser saknas" not in html


def test_an_inactive_first_admin_is_not_warned_about(office: Office) -> None:
    response = office.save_user(bootstrap.FIRST_ADMIN, active="")
    assert response.status_code == 302, errors(text(response))
    assert _admins_warned(office.page("overview")) == []


@pytest.mark.parametrize(
    ("changes", "saved"),
    [
        ({"name": "Första admin"}, ("Första admin", "admin", True)),
        ({"role": "caseworker"}, ("Administratör", "caseworker", True)),
        ({"active": ""}, ("Administratör", "admin", False)),
        # Typed with other case or spaces it is still the same saved address
        ({"email": " ADMIN@alvsbyn.invalid ", "name": "A"}, ("A", "admin", True)),
    ],
)
def test_the_first_admin_can_be_edited_without_touching_its_placeholder(
    office: Office, changes: dict[str, str], saved: tuple[str, str, bool]
) -> None:
    response = office.save_user(bootstrap.FIRST_ADMIN, **changes)
    assert response.status_code == 302, errors(text(response))
    user = office.user(bootstrap.FIRST_ADMIN)
    assert (user.name, user.role, user.active) == saved


def test_an_inbox_can_be_edited_without_touching_its_placeholder(office: Office) -> None:
    response = office.save_inbox("Vuxna", name="Vuxenenheten")
    assert response.status_code == 302, errors(text(response))
    inbox = office.inbox("Vuxenenheten")
    assert inbox.notification_email == "vuxna@alvsbyn.invalid"
    assert "Vuxenenheten" in _inboxes_warned(office.page("overview"))


@pytest.mark.parametrize("page", QUIET)
def test_the_admin_pages_leave_the_warning_to_the_overview(office: Office, page: str) -> None:
    # Given a fresh setup (every address a placeholder), when the admin opens an admin page
    html = office.page(page)
    # Then the warning is not repeated there
    assert "Riktiga e-postadresser saknas" not in html
    assert _warning(html) == ""


@pytest.mark.parametrize(
    ("who", "typed"),
    [
        (bootstrap.FIRST_ADMIN, "annan@alvsbyn.invalid"),  # another placeholder
        (CHEF, "chef@alvsbyn.invalid"),  # a real address swapped for a placeholder
        (None, "ny.person@alvsbyn.invalid"),  # a new user
    ],
)
def test_a_user_newly_given_a_placeholder_is_refused(
    office: Office, who: str | None, typed: str
) -> None:
    # When the admin types a placeholder for a user (and changes the name)
    if who is None:
        data = {"name": "Ny Person", "email": typed, "role": "caseworker", "active": "y"}
        response = office.admin.post("/personal/admin/anvandare/ny", data=data)
    else:
        response = office.save_user(who, email=typed, name="Nytt Namn")
    # Then the form says what is wrong, and nothing is saved
    assert response.status_code == 200
    assert errors(text(response)) == [BAD_ADDRESS]
    with office.site.app.app_context():
        saved = db.session.execute(sa.select(User.email, User.name).order_by(User.id)).all()
    assert [tuple(row) for row in saved] == [
        (bootstrap.FIRST_ADMIN, "Administratör"),
        (CHEF, "Chef"),
    ]


@pytest.mark.parametrize(
    ("before", "typed"),
    [
        (None, "annan@alvsbyn.invalid"),  # setup's placeholder for another one
        (REAL["Vuxna"], "vuxna@alvsbyn.invalid"),  # a real address for a placeholder
        ("", "vuxna@alvsbyn.invalid"),  # a placeholder where there was no address
    ],
)
def test_an_inbox_newly_given_a_placeholder_is_refused(
    office: Office, before: str | None, typed: str
) -> None:
    # Given the inbox's address as it is before (None: as setup left it)
    if before is not None:
        assert office.save_inbox("Vuxna", notification_email=before).status_code == 302
    saved = office.inbox("Vuxna").notification_email
    # When the admin types a placeholder (and renames the inbox)
    response = office.save_inbox("Vuxna", notification_email=typed, name="Vuxenenheten")
    # Then the form says what is wrong, and nothing is saved
    assert response.status_code == 200
    assert errors(text(response)) == [BAD_ADDRESS]
    assert office.inbox("Vuxna").notification_email == saved


def test_an_admin_sets_the_handling_states_for_reports_about_adults(office: Office) -> None:
    # Given the adults' inbox with the default states (no statutory deadlines for adults)
    assert handling.adult_outcomes(office.inbox("Vuxna")) == list(handling.ADULT_OUTCOMES)
    # When an admin writes the inbox's own states, one per line
    states = "Kontakt tagen\r\n\r\nStödsamtal erbjudet\r\nHänvisad till vården"
    response = office.save_inbox("Vuxna", adult_outcomes=states)
    assert response.status_code == 302, errors(text(response))
    # Then reports about adults in that inbox offer those states, blank lines dropped
    assert handling.adult_outcomes(office.inbox("Vuxna")) == [
        "Kontakt tagen",
        "Stödsamtal erbjudet",
        "Hänvisad till vården",
    ]
    # And an empty field brings the defaults back
    assert office.save_inbox("Vuxna", adult_outcomes="").status_code == 302
    assert office.inbox("Vuxna").adult_outcomes is None


def test_the_handling_states_are_bounded(office: Office) -> None:
    response = office.save_inbox("Vuxna", adult_outcomes="x" * 401)
    assert response.status_code == 200
    assert "Högst 400 tecken." in errors(text(response))
    assert office.inbox("Vuxna").adult_outcomes is None
