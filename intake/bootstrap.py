"""`flask --app intake setup`: migrate, then create what a fresh installation needs.

Idempotent: what exists is left alone, and a secret (recovery code, one-time password) is
printed only when the thing it belongs to is created.

Setup cannot know the municipality's real addresses, so the default inboxes notify
`.invalid` stand-ins (RFC 2606: such mail never arrives) until an admin replaces them;
`placeholders` lists what is still left, for the admin pages to warn about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from intake import clock, emails
from intake.accounts import service
from intake.accounts.models import ADMIN, User
from intake.config import DEFAULTS
from intake.crypto import custody, keywrap, passwords, sealing
from intake.extensions import db
from intake.followup import seed
from intake.reports import choices as c
from intake.reports.models import Inbox, RoutingRule

DEFAULT_INBOXES = (
    ("barn-och-unga", "Barn och unga", "barnochunga@alvsbyn.invalid", False),
    ("vuxna", "Vuxna", "vuxna@alvsbyn.invalid", True),
    ("medborgardialog", "Medborgardialog", "medborgardialog@alvsbyn.invalid", False),
)
DEFAULT_RULES = (
    ("Barn till Barn och unga", c.CHILD, "barn-och-unga"),
    ("Unga vuxna till Barn och unga", c.YOUNG_ADULT, "barn-och-unga"),
    ("Vuxna till Vuxna", c.ADULT, "vuxna"),
    ("Äldre till Vuxna", c.ELDERLY, "vuxna"),
)
# The first admin's address unless FIRST_ADMIN_EMAIL (INTAKE_FIRST_ADMIN_EMAIL) says otherwise.
FIRST_ADMIN: str = DEFAULTS["FIRST_ADMIN_EMAIL"]


class SetupError(RuntimeError):
    """Setup cannot run with this configuration."""


@dataclass
class SetupResult:
    """What setup created, with the secrets to print once."""

    recovery_codes: dict[str, str] = field(default_factory=dict)
    admin_password: str | None = None
    admin_email: str | None = None
    created: list[str] = field(default_factory=list)


@dataclass
class Placeholders:
    """Stand-in addresses still in use: inboxes that notify nobody, admins who get no mail."""

    inboxes: list[Inbox]
    admins: list[User]

    def __bool__(self) -> bool:
        return bool(self.inboxes or self.admins)


def is_placeholder(email: str | None) -> bool:
    """Whether an address is missing or under the reserved `.invalid` domain (never delivered)."""
    domain = (email or "").strip().rpartition("@")[2].lower().rstrip(".")
    return not domain or domain == "invalid" or domain.endswith(".invalid")


def placeholders() -> Placeholders:
    """The inboxes and active admins whose address is still a placeholder, by name."""
    inboxes = db.session.scalars(sa.select(Inbox).order_by(Inbox.name))
    admins = db.session.scalars(
        sa.select(User).where(User.role == ADMIN, User.active.is_(True)).order_by(User.name)
    )
    return Placeholders(
        inboxes=[i for i in inboxes if is_placeholder(i.notification_email)],
        admins=[u for u in admins if is_placeholder(u.email)],
    )


def argon2_cost() -> keywrap.Cost:
    """The configured Argon2id cost for wrapping keys."""
    cfg = current_app.config
    return keywrap.Cost(
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"]
    )


def create_inbox(
    slug: str, name: str, email: str | None, *, link_key: bytes, fallback: bool = False
) -> tuple[Inbox, custody.InboxSecret, str]:
    """A new inbox with its own key pair; returns it, its secret and its recovery code."""
    pair = sealing.generate_keypair()
    secret = custody.InboxSecret(private=pair.private, link_key=link_key)
    code = keywrap.new_recovery_code()
    inbox = Inbox(
        slug=slug,
        name=name,
        notification_email=email,
        public_key=pair.public,
        recovery_wrapped_key=custody.wrap_with_recovery_code(
            secret, code, slug=slug, cost=argon2_cost()
        ),
        is_fallback=fallback,
        created_at=clock.now(),
    )
    db.session.add(inbox)
    return inbox, secret, code


def recover_inbox_secret(inbox: Inbox, code: str) -> custody.InboxSecret:
    """The inbox secret from its recovery code; CryptoError if the code is wrong."""
    return custody.unwrap_with_recovery_code(inbox.recovery_wrapped_key, code, slug=inbox.slug)


def unlock_with_recovery_code(inbox: Inbox, code: str) -> bytes:
    """The inbox's private key, from its recovery code; CryptoError if the code is wrong."""
    return recover_inbox_secret(inbox, code).private


def _ensure_inboxes(result: SetupResult) -> dict[str, Inbox]:
    existing = {i.slug: i for i in db.session.scalars(sa.select(Inbox))}
    # One linking key for the default inboxes, so earlier reports about a person can be found
    # across them (intake.reports.linking).
    link_key = custody.new_link_key()
    for slug, name, email, fallback in DEFAULT_INBOXES:
        if slug not in existing:
            inbox, _secret, code = create_inbox(
                slug, name, email, link_key=link_key, fallback=fallback
            )
            existing[slug] = inbox
            result.recovery_codes[name] = code
            result.created.append(f"inbox {name}")
    db.session.flush()
    return existing


def _ensure_rules(inboxes: dict[str, Inbox], result: SetupResult) -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)):
        return
    for position, (name, subject, slug) in enumerate(DEFAULT_RULES, start=1):
        db.session.add(
            RoutingRule(
                position=position, name=name, subject_type=subject, inbox_id=inboxes[slug].id
            )
        )
    result.created.append("routing rules")


def create_user(email: str, name: str, role: str, password: str) -> User:
    """A staff user with a key pair, password verifier and key wrap from one Argon2id run."""
    user = User(
        email=emails.normalise(email, stand_in_ok=True),
        name=name,
        role=role,
        password_hash="",  # set with the key pair below, once the id is known
        must_change_password=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()  # the id binds the wrapped key to this user
    give_new_keypair(user, password)
    return user


def give_new_keypair(user: User, password: str) -> None:
    """A fresh key pair for the user, wrapped under the password (memberships must be regranted)."""
    pair = sealing.generate_keypair()
    user.public_key = pair.public
    service.set_password(user, password, pair.private, cost=argon2_cost())


def _ensure_admin(result: SetupResult) -> None:
    if db.session.scalar(sa.select(User.id).where(User.role == "admin").limit(1)):
        return
    password = passwords.one_time_password()
    # An empty setting counts as unset, as for INTAKE_* variables.
    configured = current_app.config.get("FIRST_ADMIN_EMAIL") or FIRST_ADMIN
    try:
        email = emails.normalise(configured, stand_in_ok=True)
    except emails.InvalidAddress as error:
        raise SetupError(
            "FIRST_ADMIN_EMAIL (INTAKE_FIRST_ADMIN_EMAIL) är ingen giltig e-postadress."
        ) from error
    admin = create_user(email, "Administratör", ADMIN, password)
    result.admin_password, result.admin_email = password, admin.email
    result.created.append(f"admin {admin.email}")


def run_setup(
    *, demo: bool = False, demo_hook: Callable[[SetupResult], None] | None = None
) -> SetupResult:
    """Create the default inboxes, routing rules and first admin if missing; commits."""
    result = SetupResult()
    inboxes = _ensure_inboxes(result)
    _ensure_rules(inboxes, result)
    _ensure_admin(result)
    if seed.load_seed_promise() is not None:
        result.created.append("medborgarlöfte 2021–2022")
    db.session.commit()
    if demo and demo_hook is not None:
        demo_hook(result)
    return result
