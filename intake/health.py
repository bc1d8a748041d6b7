"""Is the service working unattended? One check used by /healthz, /readyz, the admin overview
and `flask --app intake doctor`.

The worker writes a heartbeat row each round; `check` reads it together with the database,
the migration head and the outbox. The facts are few and carry no personal data: a monitor
may read them without signing in.

- `/healthz`: the web process answers (200 "ok"). For a load balancer.
- `/readyz`: 200 when everything below holds, 503 when not, as JSON. For a monitor.
  database reachable · migrations at head · a worker's heartbeat younger than
  WORKER_STALE_SECONDS · the oldest unsent mail younger than MAIL_STALE_SECONDS · no mail
  given up (`failed`) in the last FAILED_MAIL_DAYS days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from intake import clock
from intake.extensions import csrf, db, limiter
from intake.models_base import UTCDateTime
from intake.outbox import OutboxMessage

bp = Blueprint("health", __name__)
# Old heartbeats (workers that stopped long ago) are removed when a worker starts.
FORGET_AFTER = timedelta(days=1)
FAILED_LIST_LIMIT = 50


class WorkerHeartbeat(db.Model):  # type: ignore[name-defined]
    """The last round of one worker process (host name and pid)."""

    __tablename__ = "worker_heartbeat"

    worker: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class FailedMail:
    """A mail the outbox gave up on: which kind, when, why (never to whom)."""

    template: str
    created_at: datetime
    failed_at: datetime
    error: str
    id: int = 0
    # Whether the address is still there (a resend is possible); usually wiped on giving up.
    resendable: bool = False


@dataclass(frozen=True)
class Health:
    """What `check` found; None where it could not look (the database is unreachable)."""

    database: bool
    migrations: bool | None
    worker_heartbeat_age_seconds: int | None
    worker_stale_after_seconds: int
    oldest_unsent_mail_age_seconds: int | None
    mail_stale_after_seconds: int
    failed_mails: int | None
    failed: list[FailedMail] = field(default_factory=list)

    @property
    def worker_fresh(self) -> bool:
        """A worker beat recently."""
        age = self.worker_heartbeat_age_seconds
        return age is not None and age <= self.worker_stale_after_seconds

    @property
    def mail_flowing(self) -> bool:
        """No mail has waited too long."""
        age = self.oldest_unsent_mail_age_seconds
        return self.database and (age is None or age <= self.mail_stale_after_seconds)

    @property
    def ok(self) -> bool:
        """Everything holds."""
        return bool(
            self.database
            and self.migrations
            and self.worker_fresh
            and self.mail_flowing
            and self.failed_mails == 0
        )

    def facts(self) -> dict[str, object]:
        """The JSON /readyz answers: these facts and nothing else."""
        found = asdict(self)
        del found["failed"]
        return {"ready": self.ok, **found, "worker_fresh": self.worker_fresh}


def beat(worker: str, *, started_at: datetime, now: datetime) -> None:
    """Record that this worker finished a round now (commits)."""
    updated = db.session.execute(
        sa.update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(beat_at=now)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        db.session.execute(
            sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER)
        )
        db.session.add(WorkerHeartbeat(worker=worker, started_at=started_at, beat_at=now))
    db.session.commit()


def migration_heads() -> set[str]:
    """The head revisions of the migration scripts shipped with this code."""
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def _seconds(delta: timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


def failed_since(since: datetime) -> list[FailedMail]:
    """Mail given up since a moment, newest first (at most FAILED_LIST_LIMIT)."""
    rows = db.session.execute(
        sa.select(
            OutboxMessage.template,
            OutboxMessage.created_at,
            OutboxMessage.failed_at,
            OutboxMessage.last_error,
            OutboxMessage.id,
            OutboxMessage.recipient_protected.is_not(None),
        )
        .where(OutboxMessage.failed_at >= since)
        .order_by(OutboxMessage.failed_at.desc())
        .limit(FAILED_LIST_LIMIT)
    ).all()
    return [
        FailedMail(row[0], row[1], row[2] or row[1], row[3] or "", row[4], bool(row[5]))
        for row in rows
    ]


def check(*, now: datetime) -> Health:
    """Look at the database, the migrations, the worker and the outbox."""
    cfg = current_app.config
    worker_limit = int(cfg["WORKER_STALE_SECONDS"])
    mail_limit = int(cfg["MAIL_STALE_SECONDS"])
    unknown = Health(False, None, None, worker_limit, None, mail_limit, None)
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return unknown
    try:
        versions = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
        migrations = versions == migration_heads()
        last_beat = db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.beat_at)))
        oldest = db.session.scalar(
            sa.select(sa.func.min(OutboxMessage.created_at)).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
            )
        )
        since = now - timedelta(days=int(cfg["FAILED_MAIL_DAYS"]))
        failed_count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.failed_at >= since)
        )
        failed = failed_since(since)
    except sa.exc.SQLAlchemyError:
        # Reachable but not as this code expects it (e.g. not migrated yet).
        db.session.rollback()
        return Health(True, False, None, worker_limit, None, mail_limit, None)
    return Health(
        database=True,
        migrations=migrations,
        worker_heartbeat_age_seconds=None if last_beat is None else _seconds(now - last_beat),
        worker_stale_after_seconds=worker_limit,
        oldest_unsent_mail_age_seconds=None if oldest is None else _seconds(now - oldest),
        mail_stale_after_seconds=mail_limit,
        failed_mails=int(failed_count or 0),
        failed=failed,
    )


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The facts of `check` as JSON: 200 when everything holds, 503 when not."""
    health = check(now=clock.now())
    return jsonify(health.facts()), 200 if health.ok else 503


def admin_banner() -> Health | None:
    """For the admin overview: the health when something needs an admin, else None."""
    if not current_user.is_authenticated or current_user.role != "admin":
        return None
    health = check(now=clock.now())
    return None if health.ok else health


def register(app: Flask) -> None:
    """The probes (no session, CSRF or rate limit) and the overview's banner helper."""
    limiter.exempt(bp)
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.jinja_env.globals["service_health"] = admin_banner
