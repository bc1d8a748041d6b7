"""Configuration: defaults -> instance/config.py -> INTAKE_* environment -> the test mapping.

Only `create_app` calls `load_config`; nothing here runs at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from intake import secrets


class ConfigError(RuntimeError):
    """The service cannot start with this configuration."""


DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_DATABASE_URI": None,  # None = SQLite file in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_DEFAULT_SENDER": "Älvsbyns kommun <noreply@alvsbyn.invalid>",
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_TIMEOUT": 10,
    # This process's memory (intake.ratelimit); `redis://…` to share limits between processes.
    "RATELIMIT_STORAGE_URI": "intake-memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_SUBMIT": "20 per hour;5 per minute",
    "RATELIMIT_STEP": "120 per minute",
    "RATELIMIT_LOGIN": "10 per minute",
    "RATELIMIT_FOLLOWUP": "10 per hour",
    # Searches by one caseworker (intake.reports.casefile_views): by reference or personnummer.
    "RATELIMIT_STAFF_SEARCH": "30 per minute",
    "RATELIMIT_SIGNUP": "30 per hour",
    # Codes typed at the second factor (TOTP or backup code), per client address.
    "RATELIMIT_SECOND_FACTOR": "10 per minute",
    # A rate-limit storage outage (Redis away) degrades to per-process limits, logged once per
    # outage, instead of failing requests (intake.ratelimit.configure).
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    # How many reverse proxies in front of the service set X-Forwarded-For/-Proto (werkzeug
    # ProxyFix); 0 = none, and the headers are ignored (they could be forged).
    "TRUSTED_PROXIES": 0,
    "BASE_URL": "http://127.0.0.1:5000",
    "MAX_CONTENT_LENGTH": 512 * 1024,
    "MAX_FORM_MEMORY_SIZE": 256 * 1024,
    "WTF_CSRF_TIME_LIMIT": 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "intake_session",
    # The session cookie's signature dies this long after it was last written (resident drafts;
    # a signed-in staff member's cookie is re-signed as they work, intake.accounts.guard), so it
    # must outlast STAFF_IDLE_MINUTES: the staff timeouts are the server-side row's.
    "PERMANENT_SESSION_LIFETIME": 2 * 3600,
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ("sv", "en"),
    "DRAFT_LIFETIME_SECONDS": 2 * 3600,
    # Argon2id cost for keys derived from recovery codes and passwords.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 64 * 1024,
    "ARGON2_PARALLELISM": 1,
    # What the start page tells residents; each installation sets its own.
    "MUNICIPALITY": "Älvsbyns kommun",
    "SOCIALTJANST_PHONE": "0929-170 00",
    "SOCIALTJANST_HOURS": "måndag–fredag 08.00–16.30",
    "SOCIALJOUR_PHONE": "0920-29 30 00",
    "SOCIALJOUR_HOURS": "kvällar, nätter och helger",
    "DPO_CONTACT": "dataskyddsombud@alvsbyn.se",
    # The logo in the page header: an SVG file in the instance folder (intake.logo); empty
    # means the neutral logo we ship.
    "MUNICIPAL_LOGO": "",
    # The admin `flask --app intake setup` creates; `.invalid` until set (intake.bootstrap).
    "FIRST_ADMIN_EMAIL": "admin@alvsbyn.invalid",
    # A local trial only (`make run` turns it on): staff forms accept `.invalid` stand-ins such
    # as the README's, so users and inboxes can be tried out without real addresses.
    "ALLOW_STAND_IN_EMAILS": False,
    "OFFICE_OPENS": "08:00",
    "OFFICE_CLOSES": "16:30",
    "STAFF_IDLE_MINUTES": 30,
    "STAFF_ABSOLUTE_HOURS": 10,
    "OUTBOX_MAX_ATTEMPTS": 12,
    "OUTBOX_POLL_SECONDS": 2.0,
    # How often the worker runs its housekeeping (intake.jobs): reminders, clean-up, the daily
    # claims. Mail keeps its own, shorter poll.
    "JOBS_INTERVAL_SECONDS": 60,
    # A claimed outbox row whose worker died is sent again (same Message-ID) after this long.
    "OUTBOX_CLAIM_SECONDS": 300,
    # intake.health: a worker that has not beaten for this long is stale; a mail unsent this
    # long means mail is not flowing; mail given up within this many days is reported.
    "WORKER_STALE_SECONDS": 300,
    "MAIL_STALE_SECONDS": 1800,
    "FAILED_MAIL_DAYS": 7,
    # Where the worker appends anchors of the audit trail (intake.audit_anchors); empty:
    # `audit-anchors.jsonl` in the instance folder. An anchor is written after EVERY_ROWS new
    # rows, or when the trail moved and EVERY_SECONDS passed, and copied to each sink set:
    # a second file (another volume), syslog (`/dev/log` or `host:port`), mail (daily).
    "AUDIT_ANCHOR_FILE": "",
    "AUDIT_ANCHOR_EVERY_ROWS": 100,
    "AUDIT_ANCHOR_EVERY_SECONDS": 3600,
    "AUDIT_ANCHOR_COPY_FILE": "",
    "AUDIT_ANCHOR_SYSLOG": "",
    "AUDIT_ANCHOR_MAIL_TO": "",
    "TESTING": False,
    # None = follow BASE_URL (https: means Secure). Flask's own default is False, so a
    # setdefault after layering would never fire.
    "SESSION_COOKIE_SECURE": None,
    # Prometheus metrics (intake.metrics): off while empty; set (≥ 32 characters) to serve
    # /metrics to a scraper sending `Authorization: Bearer <token>`.
    "METRICS_TOKEN": "",
    # E-legitimation through the municipality's eID broker (OpenID Connect; intake.reports.eid).
    # An empty issuer turns it off: the service then says nothing about e-legitimation.
    "EID_ISSUER": "",
    "EID_CLIENT_ID": "",
    "EID_CLIENT_SECRET": "",
    # A PEM file: authenticate with private_key_jwt instead of the client secret.
    "EID_PRIVATE_KEY_FILE": "",
    # Claims and Scopes Specification for the Swedish OpenID Connect Profile 1.0 (oidc.se):
    # §3.2 the scope and §2.1.1 the claim of the personnummer. Brokers differ: settings.
    "EID_SCOPES": "openid profile https://id.oidc.se/scope/naturalPersonNumber",
    "EID_PERSONNUMMER_CLAIM": "https://id.oidc.se/claim/personalIdentityNumber",
    # given_name + family_name, or name alone.
    "EID_NAME_CLAIMS": "given_name family_name",
    # Swedish eID Framework, Registry for identifiers §3.1.1: Level of Assurance 3.
    "EID_ACR_VALUES": "http://id.elegnamnden.se/loa/1.0/loa3",
    "EID_TIMEOUT_SECONDS": 5.0,
    # "auto": a configured claim missing from the ID token is fetched from the broker's
    # userinfo endpoint (its `sub` must match, OIDC Core §5.3.2); "never": ID token only.
    "EID_USERINFO": "auto",
}

# INTAKE_<NAME> environment variables and the config key each sets.
ENVIRONMENT: dict[str, str] = {
    "MUNICIPAL_LOGO": "MUNICIPAL_LOGO",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_SENDER": "MAIL_DEFAULT_SENDER",
    "MAIL_USE_TLS": "MAIL_USE_TLS",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "RATELIMIT_SUBMIT": "RATELIMIT_SUBMIT",
    "RATELIMIT_SIGNUP": "RATELIMIT_SIGNUP",
    "RATELIMIT_STEP": "RATELIMIT_STEP",
    "BASE_URL": "BASE_URL",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "JOBS_INTERVAL_SECONDS": "JOBS_INTERVAL_SECONDS",
    "WORKER_STALE_SECONDS": "WORKER_STALE_SECONDS",
    "MAIL_STALE_SECONDS": "MAIL_STALE_SECONDS",
    "FIRST_ADMIN_EMAIL": "FIRST_ADMIN_EMAIL",
    "ALLOW_STAND_IN_EMAILS": "ALLOW_STAND_IN_EMAILS",
    "AUDIT_ANCHOR_FILE": "AUDIT_ANCHOR_FILE",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "METRICS_TOKEN": "METRICS_TOKEN",
    "EID_ISSUER": "EID_ISSUER",
    "EID_CLIENT_ID": "EID_CLIENT_ID",
    "EID_CLIENT_SECRET": "EID_CLIENT_SECRET",
    "EID_PRIVATE_KEY_FILE": "EID_PRIVATE_KEY_FILE",
    "EID_SCOPES": "EID_SCOPES",
    "EID_PERSONNUMMER_CLAIM": "EID_PERSONNUMMER_CLAIM",
    "EID_NAME_CLAIMS": "EID_NAME_CLAIMS",
    "EID_ACR_VALUES": "EID_ACR_VALUES",
    "EID_TIMEOUT_SECONDS": "EID_TIMEOUT_SECONDS",
    "EID_USERINFO": "EID_USERINFO",
    "AUDIT_ANCHOR_EVERY_ROWS": "AUDIT_ANCHOR_EVERY_ROWS",
    "AUDIT_ANCHOR_EVERY_SECONDS": "AUDIT_ANCHOR_EVERY_SECONDS",
    "AUDIT_ANCHOR_COPY_FILE": "AUDIT_ANCHOR_COPY_FILE",
    "AUDIT_ANCHOR_SYSLOG": "AUDIT_ANCHOR_SYSLOG",
    "AUDIT_ANCHOR_MAIL_TO": "AUDIT_ANCHOR_MAIL_TO",
}

_INTEGERS = {
    "MAIL_PORT",
    "JOBS_INTERVAL_SECONDS",
    "WORKER_STALE_SECONDS",
    "MAIL_STALE_SECONDS",
    "TRUSTED_PROXIES",
    "AUDIT_ANCHOR_EVERY_ROWS",
    "AUDIT_ANCHOR_EVERY_SECONDS",
}
_FLOATS = {"EID_TIMEOUT_SECONDS"}
_BOOLEANS = {"MAIL_USE_TLS", "SESSION_COOKIE_SECURE", "ALLOW_STAND_IN_EMAILS"}


def instance_path_from_environment() -> str | None:
    """The instance folder named by INTAKE_INSTANCE_PATH, if any."""
    value = os.environ.get("INTAKE_INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, key in ENVIRONMENT.items():
        raw = environ.get(f"INTAKE_{name}")
        if raw is None or raw == "":
            continue
        if key in _INTEGERS:
            values[key] = int(raw)
        elif key in _FLOATS:
            values[key] = float(raw)
        elif key in _BOOLEANS:
            values[key] = raw.strip().lower() in {"1", "true", "yes", "on"}
        else:
            values[key] = raw
    return values


def _check_staff_timeouts(config: Mapping[str, Any]) -> None:
    """Refuse an idle limit the session cookie would not outlive (it would sign staff out
    earlier than the idle limit says)."""
    lifetime = config["PERMANENT_SESSION_LIFETIME"]
    seconds = lifetime.total_seconds() if isinstance(lifetime, timedelta) else float(lifetime)
    if config["STAFF_IDLE_MINUTES"] * 60 > seconds:
        raise ConfigError(
            "STAFF_IDLE_MINUTES är längre än PERMANENT_SESSION_LIFETIME: "
            "kakan skulle logga ut personal innan tidsgränsen för inaktivitet."
        )


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill app.config from the four layers and check that the secrets are there."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(_from_environment(os.environ))
    if overrides:
        app.config.update(overrides)

    instance = Path(app.instance_path)
    embedded = not app.config["SQLALCHEMY_DATABASE_URI"]
    if embedded:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'intake.sqlite3'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A pooled connection the server dropped (restart, failover, pg_terminate_backend) is
        # noticed at checkout and replaced, instead of costing the next request a 500.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https:")
    _check_staff_timeouts(app.config)

    if app.config.get("SECRET_KEY") and app.config.get("APP_KEYS") and "AUDIT_KEYS" in app.config:
        return
    # A first run on the embedded default creates the instance secrets itself; a production
    # deployment (own database URL) must have run `flask --app intake setup` or been given
    # INTAKE_SECRET_KEY, and refuses to start otherwise.
    found = secrets.load(instance) if instance.exists() else None
    from_file = found is not None
    if found is None and embedded and not app.config["TESTING"]:
        found, from_file = secrets.create(instance), True
    if found is None:
        if not app.config["TESTING"]:
            raise ConfigError(
                f"Hemligheterna saknas i {instance}/{secrets.FILENAME}. "
                "Kör `python -m intake.secrets create`."
            )
        found = secrets.generate()
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = found.secret_key
    if not app.config.get("APP_KEYS"):
        app.config["APP_KEYS"] = found.app_keys
        # Keys read from the instance file follow rotations (intake.appkeys).
        app.config["APP_KEYS_FROM_FILE"] = from_file
    if "AUDIT_KEYS" not in app.config:
        # Kept out of the database: they are what a database writer lacks (intake.audit).
        app.config["AUDIT_KEYS"] = found.audit_keys
        app.config["AUDIT_LEGACY_UNTIL"] = found.audit_legacy_until
        app.config["AUDIT_KEYS_FROM_FILE"] = from_file
