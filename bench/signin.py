"""Cost of a staff sign-in's password step and of granting an inbox, at the production Argon2id
cost (issue 14 §1: "derive once per sign-in").

    .venv/bin/python bench/signin.py [--runs 15]

An SQLite database in a temp folder with the schema from the migrations and what setup creates
(inboxes with their recovery codes), the configured Argon2id cost left at its defaults (64 MiB,
3 passes, 1 lane), a caseworker made by `bootstrap.create_user`. Timed in-process, p50 and max
of wall and CPU (time.process_time) per call:

- `accounts.service.authenticate` with the right password (the password step of sign-in:
  checking the password and unwrapping the private key);
- the same with a wrong password (and an unknown address): what a guess costs the server;
- granting the caseworker an inbox with its recovery code (`bootstrap.recover_inbox_secret`
  + `accounts.service.grant`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from intake import bootstrap, create_app
from intake.accounts import guard
from intake.accounts import service as accounts
from intake.accounts.models import Membership, SignInThrottle, User
from intake.extensions import db
from intake.reports.models import Inbox

EMAIL, PASSWORD = "vera.lindqvist@alvsbyn.invalid", "en lång och ovanlig mening om hjortron"


def build(folder: Path) -> tuple[Flask, dict[str, str]]:
    """The app on a fresh SQLite file, migrated and set up (production Argon2id cost)."""
    os.environ["INTAKE_INSTANCE_PATH"] = str(folder)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "APP_KEYS": {1: b"b" * 32},
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "MAIL_PORT": 1,
        }
    )
    with app.app_context():
        upgrade()
        result = bootstrap.run_setup()
        user = bootstrap.create_user(EMAIL, "Vera Lindqvist", "caseworker", PASSWORD)
        user.must_change_password = False
        db.session.commit()
    return app, result.recovery_codes


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(wall p50 ms, wall max ms, CPU p50 ms) over `runs` calls after one warm-up."""
    call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="intake-bench-signin-") as folder:
        app, codes = build(Path(folder))
        with app.app_context():
            key = guard.throttle_key()

            def right() -> None:
                accounts.authenticate(EMAIL, PASSWORD, throttle_key=key)
                db.session.commit()

            def wrong(email: str) -> Callable[[], None]:
                def attempt() -> None:
                    with contextlib.suppress(accounts.LoginError):
                        accounts.authenticate(email, "fel lösenord", throttle_key=key)
                    db.session.execute(sa.delete(SignInThrottle))
                    db.session.commit()

                return attempt

            def grant() -> None:
                member = db.session.scalar(sa.select(User).where(User.email == EMAIL))
                inbox = db.session.scalar(sa.select(Inbox).where(Inbox.name == "Vuxna"))
                assert member is not None and inbox is not None
                secret = bootstrap.recover_inbox_secret(inbox, codes["Vuxna"])
                accounts.grant(member, inbox.id, secret, by=member)
                db.session.commit()
                db.session.execute(sa.delete(Membership))
                db.session.commit()

            rows = [
                ("sign-in, right password", timed(right, args.runs)),
                ("sign-in, wrong password", timed(wrong(EMAIL), args.runs)),
                ("sign-in, unknown address", timed(wrong("ingen@alvsbyn.invalid"), args.runs)),
                ("grant an inbox (recovery code)", timed(grant, args.runs)),
            ]
    load = os.getloadavg()[0]
    print(f"Sign-in at the production Argon2id cost, {args.runs} runs each, load {load:.1f}")
    print(f"{'':32}{'wall p50':>10}{'wall max':>10}{'CPU p50':>10}")
    for name, (p50, worst, cpu) in rows:
        print(f"{name:32}{p50:>8.0f}ms{worst:>8.0f}ms{cpu:>8.0f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
