"""Staff users for tests: created, enrolled in TOTP, granted inboxes, signed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from intake import bootstrap, clock
from intake.accounts import service
from intake.accounts.models import User
from intake.extensions import db
from intake.reports.models import Inbox, RoutingRule

PASSWORD = "korrekt häst batteri häftklammer"


@dataclass
class Installation:
    """An app after setup, with the secrets setup printed."""

    app: Flask
    recovery_codes: dict[str, str]
    totp: dict[str, str] = field(default_factory=dict)

    def inbox(self, name: str) -> Inbox:
        """An inbox by name (inside an app context)."""
        found = db.session.scalar(sa.select(Inbox).where(Inbox.name == name))
        assert found is not None
        return found

    def add_user(
        self, email: str, role: str, *, inboxes: tuple[str, ...] = (), password: str = PASSWORD
    ) -> int:
        """A staff user with TOTP enrolled, own password set, and memberships."""
        with self.app.app_context():
            user = bootstrap.create_user(email, email.split("@")[0].title(), role, password)
            secret = service.begin_totp_enrolment(user, self.app.config["APP_KEYS"])
            user.totp_enrolled_at = clock.now()
            user.must_change_password = False
            self.totp[email] = secret
            for name in inboxes:
                inbox = self.inbox(name)
                inbox_secret = bootstrap.recover_inbox_secret(inbox, self.recovery_codes[name])
                service.grant(user, inbox.id, inbox_secret, by=user)
            db.session.commit()
            return user.id

    def add_inbox(self, name: str, *, subject_type: str) -> None:
        """Another inbox (sharing the linking key) whose kind a routing rule for the subject
        type gives (after the default rules, so it routes nothing new)."""
        with self.app.app_context():
            barn = self.inbox("Barn och unga")
            link_key = bootstrap.recover_inbox_secret(
                barn, self.recovery_codes["Barn och unga"]
            ).link_key
            slug = name.lower().replace(" ", "-")
            inbox, _secret, code = bootstrap.create_inbox(slug, name, None, link_key=link_key)
            db.session.flush()
            last = db.session.scalar(sa.select(sa.func.max(RoutingRule.position))) or 0
            db.session.add(
                RoutingRule(
                    position=last + 1, name=name, subject_type=subject_type, inbox_id=inbox.id
                )
            )
            db.session.commit()
            self.recovery_codes[name] = code

    def code(self, email: str, *, offset: int = 0) -> str:
        """The current TOTP code of a user."""
        moment = clock.now().timestamp() + 30 * offset
        return pyotp.TOTP(self.totp[email]).at(int(moment))

    def login(self, client: FlaskClient, email: str, *, password: str = PASSWORD) -> Any:
        """Password, then TOTP; returns the last response."""
        response = client.post("/personal/logga-in", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client.post("/personal/tvastegsverifiering", data={"code": self.code(email)})

    def user(self, email: str) -> User:
        """A user by e-mail (inside an app context)."""
        found = db.session.scalar(sa.select(User).where(User.email == email))
        assert found is not None
        return found


# The caseworkers of the case-handling tests: Bea in "Barn och unga", Vera in "Vuxna", Bo in both.
BEA, VERA, BOTH = "bea@alvsbyn.invalid", "vera@alvsbyn.invalid", "bo@alvsbyn.invalid"


def seat_caseworkers(installation: Installation) -> Installation:
    """Bea, Vera and Bo added to their inboxes; the installation back."""
    installation.add_user(BEA, "caseworker", inboxes=("Barn och unga",))
    installation.add_user(VERA, "caseworker", inboxes=("Vuxna",))
    installation.add_user(BOTH, "caseworker", inboxes=("Barn och unga", "Vuxna"))
    return installation


def signed_in(installation: Installation, email: str) -> FlaskClient:
    """A test client signed in as the user (password and TOTP)."""
    client = installation.app.test_client()
    installation.login(client, email)
    return client
