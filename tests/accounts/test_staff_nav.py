"""The staff navigation: roles and memberships decide the links, the admin pages sit under one
disclosure, and the inbox form no longer offers a retention figure that decides nothing."""

from __future__ import annotations

import re

import pytest

from ..staff_helpers import Installation
from .back_office import text

ADMIN_LINKS = [
    "/personal/admin/anvandare",
    "/personal/admin/inkorgar",
    "/personal/admin/routning",
    "/personal/admin/logg",
    "/personal/admin/gallring",
]


def _nav(html: str) -> str:
    found = re.search(r'<nav class="staff-nav".*?</nav>', html, re.S)
    assert found is not None
    return found.group(0)


def _links(nav: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', nav)


@pytest.mark.parametrize(
    ("role", "inboxes", "inbox_link", "dialogues", "admin"),
    [
        ("caseworker", ("Barn och unga",), True, False, False),
        ("caseworker", (), False, False, False),
        ("organiser", (), False, True, False),
        ("organiser", ("Medborgardialog",), True, True, False),
        ("partner", (), False, False, False),
        ("admin", (), False, True, True),
        ("admin", ("Vuxna",), True, True, True),
    ],
)
def test_roles_and_memberships_decide_the_links(
    installation: Installation,
    role: str,
    inboxes: tuple[str, ...],
    inbox_link: bool,
    dialogues: bool,
    admin: bool,
) -> None:
    # Given a staff member of a role, member of some inboxes or none
    email = f"{role}.{len(inboxes)}@alvsbyn.se"
    installation.add_user(email, role, inboxes=inboxes)
    client = installation.app.test_client()
    installation.login(client, email)
    # When they open the overview
    response = client.get("/personal/")
    assert response.status_code == 200
    links = _links(_nav(text(response)))
    # Then they see the links they can use, and only those
    assert ("/personal/inkorg" in links) is inbox_link
    assert ("/personal/dialoger/" in links or "/personal/dialoger" in links) is dialogues
    assert all((link in links) is admin for link in ADMIN_LINKS)
    assert "/personal/uppfoljning/" in links or "/personal/uppfoljning" in links
    # And every link the nav shows opens for them
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_admin_pages_sit_under_one_disclosure(installation: Installation) -> None:
    installation.add_user("chef@alvsbyn.se", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@alvsbyn.se")
    nav = _nav(text(client.get("/personal/")))
    menu = re.search(
        r'<details class="staff-menu">\s*<summary>Administration</summary>(.*?)</details>',
        nav,
        re.S,
    )
    assert menu is not None
    assert _links(menu.group(1)) == ADMIN_LINKS


def test_the_inbox_form_has_no_retention_figure(installation: Installation) -> None:
    installation.add_user("chef@alvsbyn.se", "admin")
    client = installation.app.test_client()
    installation.login(client, "chef@alvsbyn.se")
    with installation.app.app_context():
        inbox_id = installation.inbox("Vuxna").id
    html = text(client.get(f"/personal/admin/inkorgar/{inbox_id}"))
    assert 'name="retention_days"' not in html
    assert "gallringsbesluten" in html
    assert "dagar" not in text(client.get("/personal/admin/inkorgar"))
    # A form from before (with the old field) still saves, and the figure is ignored
    response = client.post(
        f"/personal/admin/inkorgar/{inbox_id}",
        data={"name": "Vuxna", "notification_email": "vuxna@alvsbyn.se", "retention_days": "x"},
    )
    assert response.status_code == 302
