"""Prometheus metrics for the operator: counts and timings, never anything personal.

Off by default. Two ways to turn it on (README "Metrics"):
- `METRICS_TOKEN` (≥ 32 characters): the app serves `/metrics` to a scraper that sends
  `Authorization: Bearer <token>` (compared in constant time); 404 while unset.
- `flask --app intake metrics serve --bind 127.0.0.1:9100`: a separate process on its own
  (loopback or internal) address, no token.

What is exposed: request latency per endpoint *group* (by blueprint, never a path, so no ids),
responses per group and status class, and at scrape time from the database: reports received
today per inbox name, the outbox queue (size, age of the oldest unsent mail, mails retrying and
given up) and overdue statutory deadlines per inbox and step. No content, addresses, names or
e-mail addresses: labels are only group names, status classes, inbox names and step names.

Several processes (gunicorn workers): with `PROMETHEUS_MULTIPROC_DIR` set in the environment
of every process (web workers and the metrics process), each process writes its request
metrics to files there and a scrape sums them all (prometheus_client's multiprocess mode);
empty the folder when the service starts. Without it, request metrics are per process: fine
for one worker, misleading behind several.
"""

from __future__ import annotations

import functools
import hmac
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as clock_time

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from intake import clock, law
from intake.config import ConfigError
from intake.extensions import db

MIN_TOKEN = 32
# Endpoint groups by blueprint: what an operator watches, never a path with an id in it.
GROUPS = {
    "reports": "report",
    "followup": "report_followup",
    "dialogues": "dialogue",
    "promise": "promise",
    "site": "site",
    "staff_auth": "staff",
    "staff": "staff",
    "organiser": "staff",
    "followup_staff": "staff",
    "admin": "staff",
    "health": "health_static",
    "metrics": "health_static",
}
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

bp = Blueprint("metrics", __name__)


@functools.cache
def _latency() -> Histogram:
    return Histogram(
        "intake_http_request_duration_seconds",
        "Time from the start of a request to its response, by endpoint group.",
        ["group"],
        buckets=BUCKETS,
        registry=None,
    )


@functools.cache
def _responses() -> Counter:
    return Counter(
        "intake_http_responses",
        "Responses by endpoint group and status class (2xx, 3xx, 4xx, 5xx).",
        ["group", "status"],
        registry=None,
    )


def multiprocess_dir() -> str | None:
    """The shared folder of prometheus_client's multiprocess mode, if configured."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def enabled(app: Flask) -> bool:
    """Whether anyone can scrape: a token for /metrics, or a metrics process reading files."""
    return bool(app.config.get("METRICS_TOKEN")) or multiprocess_dir() is not None


def group_of(blueprint: str | None, endpoint: str | None) -> str:
    """The endpoint group a request is counted under."""
    if endpoint is None:
        return "unmatched"
    if endpoint == "static":
        return "health_static"
    return GROUPS.get(blueprint or "", "other")


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        group = group_of(request.blueprint, request.endpoint)
        _latency().labels(group).observe(time.perf_counter() - started)
        _responses().labels(group, f"{response.status_code // 100}xx").inc()
    return response


@bp.get("/metrics")
def expose() -> Response:
    """The metrics, for a scraper holding the token."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "Behörighet saknas.\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(registry(current_app)), mimetype=CONTENT_TYPE_LATEST)


def register(app: Flask) -> None:
    """Time requests and serve /metrics when metrics are on; nothing when off."""
    token = str(app.config.get("METRICS_TOKEN") or "")
    if token and len(token) < MIN_TOKEN:
        raise ConfigError(f"METRICS_TOKEN måste ha minst {MIN_TOKEN} tecken.")
    if not enabled(app):
        return
    app.before_request(_start)
    app.after_request(_observe)
    if token:
        app.register_blueprint(bp)


def registry(app: Flask) -> CollectorRegistry:
    """A registry for one scrape: request metrics (of all processes if shared) and counts."""
    found = CollectorRegistry()
    if multiprocess_dir() is not None:
        multiprocess.MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:
        found.register(_latency())
        found.register(_responses())
    found.register(DatabaseCollector(app))
    return found


def wsgi(app: Flask) -> object:
    """The metrics on their own, as a WSGI app (`flask --app intake metrics serve`)."""
    from prometheus_client import make_wsgi_app

    return make_wsgi_app(registry(app))


class DatabaseCollector(Collector):
    """Counts read from the database at scrape time."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        """One consistent read per scrape, in its own app context and session."""
        with self._app.app_context():
            try:
                yield from _database_metrics(clock.now())
            finally:
                db.session.rollback()


def _database_metrics(now: datetime) -> Iterator[Metric]:
    from intake.outbox import OutboxMessage
    from intake.reports.models import Inbox, Report

    names = dict(db.session.execute(sa.select(Inbox.id, Inbox.name)).all())
    midnight = datetime.combine(clock.local_date(now), clock_time(), tzinfo=clock.STOCKHOLM)
    today = dict.fromkeys(names.values(), 0)
    for inbox_id, count in db.session.execute(
        sa.select(Report.inbox_id, sa.func.count())
        .where(Report.received_at >= midnight)
        .group_by(Report.inbox_id)
    ):
        today[names[inbox_id]] = count
    received = GaugeMetricFamily(
        "intake_reports_received_today",
        "Reports received since midnight (Stockholm) per inbox.",
        labels=["inbox"],
    )
    for name, count in sorted(today.items()):
        received.add_metric([name], count)
    yield received

    unsent = sa.and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    queued, oldest, retrying = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(OutboxMessage.created_at),
            sa.func.count().filter(OutboxMessage.attempts > 0),
        ).where(unsent)
    ).one()
    failed = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.failed_at.is_not(None))
    )
    yield GaugeMetricFamily("intake_outbox_queued", "Mails not yet sent.", value=queued)
    yield GaugeMetricFamily(
        "intake_outbox_oldest_age_seconds",
        "Age of the oldest mail not yet sent (0 when the queue is empty).",
        value=_age(now, oldest),
    )
    yield GaugeMetricFamily(
        "intake_outbox_retrying", "Unsent mails with at least one failed attempt.", value=retrying
    )
    yield GaugeMetricFamily(
        "intake_outbox_failed", "Mails given up after the last attempt.", value=failed or 0
    )
    yield _overdue(now, names)
    from intake.health import WorkerHeartbeat

    latest = db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.beat_at)))
    yield GaugeMetricFamily(
        "intake_worker_heartbeat_age_seconds",
        "Seconds since the freshest worker heartbeat (-1 when no worker has ever run).",
        value=-1.0 if latest is None else _age(now, latest),
    )


def _age(now: datetime, moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive UTC through aggregate functions
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def _overdue(now: datetime, names: dict[int, str]) -> GaugeMetricFamily:
    """Open reports past a statutory deadline, per inbox and step (intake.clock's rules)."""
    from intake.reports.models import Report

    cfg = current_app.config
    opens = clock_time.fromisoformat(cfg["OFFICE_OPENS"])
    closes = clock_time.fromisoformat(cfg["OFFICE_CLOSES"])
    today = clock.local_date(now)
    counts = {(name, step): 0 for name in names.values() for step in ("skydd", "forhand")}
    # Only open reports, and only plain columns: never a sealed one.
    # The statutory deadlines apply to reports about barn och unga only (intake.law).
    rows = db.session.execute(
        sa.select(Report.inbox_id, Report.received_at, Report.assessed_at).where(
            Report.purged_at.is_(None),
            Report.decision.is_(None),
            sa.or_(
                Report.subject_type.is_(None),
                Report.subject_type.in_(sorted(law.CHILD_RULES_SUBJECTS)),
            ),
        )
    )
    for inbox_id, received_at, assessed_at in rows:
        name = names[inbox_id]
        skydd = clock.skyddsbedomning_due(received_at, opens=opens, closes=closes)
        if assessed_at is None and clock.deadline_state(skydd, today=today) == "overdue":
            counts[(name, "skydd")] += 1
        forhand = clock.forhandsbedomning_due(received_at)
        counts[(name, "forhand")] += clock.deadline_state(forhand, today=today) == "overdue"
    family = GaugeMetricFamily(
        "intake_deadlines_overdue",
        "Open reports past the deadline of the omedelbar skyddsbedömning (step=skydd) or the "
        "förhandsbedömning (step=forhand), per inbox.",
        labels=["inbox", "step"],
    )
    for (name, step), count in sorted(counts.items()):
        family.add_metric([name, step], count)
    return family


def serve(app: Flask, bind: str) -> None:
    """Serve the metrics on their own address until interrupted."""
    from werkzeug.serving import make_server

    host, _, port = bind.rpartition(":")
    server = make_server(host.strip("[]") or "127.0.0.1", int(port), wsgi(app))  # type: ignore[arg-type]
    server.serve_forever()
