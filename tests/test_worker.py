"""The worker loop (intake.worker): timing, jobs each on their own, recovery, heartbeat."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from intake import clock, create_app, health, jobs, outbox, worker
from intake.extensions import db
from intake.health import WorkerHeartbeat

from .conftest import SMTPServer, base_config


@pytest.fixture(autouse=True)
def restore_signals() -> Iterator[None]:
    """`worker.work` installs SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


class WorkerTime:
    """The worker's monotonic clock and sleep: time passes only while it sleeps between polls.

    `at` runs a step once the clock reaches a second; at `stop_at` the worker is sent SIGTERM,
    as systemd would, and finishes its round."""

    def __init__(self, stop_at: float, at: dict[float, Callable[[], None]] | None = None) -> None:
        self.seconds = 0.0
        self.stop_at = stop_at
        self.at = dict(at or {})
        self.polls = 0

    def monotonic(self) -> float:
        """Seconds since the worker started."""
        return self.seconds

    def sleep(self, delay: float) -> None:
        """The pause between two polls."""
        self.polls += 1
        self.seconds += delay
        for moment in sorted(m for m in self.at if m <= self.seconds):
            self.at.pop(moment)()
        if self.seconds >= self.stop_at:
            signal.raise_signal(signal.SIGTERM)


def run_worker(
    app: Flask, worker_time: WorkerTime, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[float], list[float]]:
    """Run `worker.work` until SIGTERM; when (in worker seconds) it ran the jobs and sent mail."""
    jobs_at: list[float] = []
    sent_at: list[float] = []
    run_due, deliver_due = jobs.run_due, outbox.deliver_due

    def counted_jobs() -> None:
        jobs_at.append(worker_time.seconds)
        run_due()

    def counted_delivery(*, limit: int = 50) -> int:
        sent = deliver_due(limit=limit)
        sent_at.extend([worker_time.seconds] * sent)
        return sent

    monkeypatch.setattr(jobs, "run_due", counted_jobs)
    monkeypatch.setattr(outbox, "deliver_due", counted_delivery)
    with app.app_context():
        worker.work(monotonic=worker_time.monotonic, sleep=worker_time.sleep)
    return jobs_at, sent_at


def enqueue_at(app: Flask, address: str) -> Callable[[], None]:
    """A step that queues a notification to an address."""

    def step() -> None:
        with app.app_context():
            outbox.enqueue("new_report", address, {"inbox": "X", "acute": False})
            db.session.commit()

    return step


def test_the_worker_runs_the_jobs_once_per_interval_and_delivers_every_poll(
    make_app: Callable[..., Flask],
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a worker that polls for mail every 2 s and runs its housekeeping every 60 s
    app = make_app(
        MAIL_PORT=smtp.port,
        MAIL_SUPPRESS_SEND=False,
        OUTBOX_POLL_SECONDS=2.0,
        JOBS_INTERVAL_SECONDS=60,
    )
    # And mail queued 31 s and 95 s after it started
    worker_time = WorkerTime(
        stop_at=150,
        at={31: enqueue_at(app, "a@alvsbyn.invalid"), 95: enqueue_at(app, "b@alvsbyn.invalid")},
    )
    # When it runs for 150 seconds, then is told to stop
    jobs_at, sent_at = run_worker(app, worker_time, monkeypatch)
    # Then it polled for mail every 2 s, ran the jobs at start and then once a minute
    assert worker_time.polls == 75
    assert jobs_at == [0, 60, 120]
    # And each mail went at the next poll, not at the next round of jobs
    assert sent_at == [32, 96]
    assert [m["To"] for m in smtp.mailbox.wait_for(2)] == ["a@alvsbyn.invalid", "b@alvsbyn.invalid"]


def test_the_jobs_interval_comes_from_the_environment(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given INTAKE_JOBS_INTERVAL_SECONDS=15 and the default 2 s poll
    monkeypatch.setenv("INTAKE_JOBS_INTERVAL_SECONDS", "15")
    app = make_app()
    assert app.config["JOBS_INTERVAL_SECONDS"] == 15
    # When the worker runs for a minute
    jobs_at, _sent_at = run_worker(app, WorkerTime(stop_at=60), monkeypatch)
    # Then the jobs ran at the first poll at least 15 s after the previous run
    assert jobs_at == [0, 16, 32, 48]


@pytest.mark.parametrize(
    ("failures", "seconds"), [(0, 1), (1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (100, 60)]
)
def test_retry_delay_grows_and_is_bounded(failures: int, seconds: float) -> None:
    assert worker.retry_delay(failures) == seconds


def test_one_failing_job_does_not_stop_the_others(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given three jobs, the middle ones failing: one in Python, one in the database
    app = make_app()
    ran: list[str] = []

    def first(now: object) -> None:
        ran.append("first")

    def broken(now: object) -> None:
        raise KeyError("secret-value")

    def bad_sql(now: object) -> None:
        db.session.execute(sa.text("SELECT secret_column FROM no_such_table"))

    def last(now: object) -> None:
        db.session.add(
            WorkerHeartbeat(worker="marker", started_at=clock.now(), beat_at=clock.now())
        )
        db.session.commit()
        ran.append("last")

    monkeypatch.setattr(
        jobs,
        "JOBS",
        (("first", first), ("broken", broken), ("bad_sql", bad_sql), ("last", last)),
    )
    # When the jobs run
    with app.app_context():
        failed = jobs.run_due()
        # Then the others ran, and the last one's work was committed
        assert failed == ["broken", "bad_sql"]
        assert ran == ["first", "last"]
        assert db.session.get(WorkerHeartbeat, "marker") is not None
    # And the log names the job and the error class, never the error's text
    assert "job broken failed: KeyError" in caplog.text
    assert "secret" not in caplog.text


def test_the_worker_survives_failing_rounds_backs_off_and_beats(
    make_app: Callable[..., Flask],
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="intake.worker")
    # Given a queued mail and a database that fails the first three rounds
    app = make_app(MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False, OUTBOX_POLL_SECONDS=2.0)
    with app.app_context():
        outbox.enqueue("new_report", "a@alvsbyn.invalid", {"inbox": "X", "acute": False})
        db.session.commit()
    real = outbox.deliver_due
    calls: list[int] = []

    def flaky(*, limit: int = 50) -> int:
        calls.append(1)
        if len(calls) <= 3:
            raise sa.exc.OperationalError("SELECT secret", {"p": "secret"}, Exception("gone"))
        return real(limit=limit)

    monkeypatch.setattr(outbox, "deliver_due", flaky)
    monkeypatch.setattr(jobs, "run_due", lambda: [])
    sleeps: list[float] = []
    worker_time = WorkerTime(stop_at=30)
    plain_sleep = worker_time.sleep

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        plain_sleep(seconds)

    # When the worker runs until SIGTERM
    with app.app_context():
        sent = worker.work(monotonic=worker_time.monotonic, sleep=sleep)
        # Then it kept going: the mail went out after the database came back
        assert sent == 1
        # And it beat: one heartbeat row for this process, fresh
        [beat] = db.session.scalars(sa.select(WorkerHeartbeat)).all()
        assert beat.worker == worker.name()
        assert health.check(now=clock.now()).worker_fresh
    assert [m["To"] for m in smtp.mailbox.wait_for(1)] == ["a@alvsbyn.invalid"]
    # And it waited 1, 2 and 4 s (in steps no longer than a poll) before the next tries
    assert sleeps[:4] == [1.0, 2.0, 2.0, 2.0]
    assert "worker round failed (OperationalError" in caplog.text
    assert "recovered after 3 failed rounds" in caplog.text
    assert "secret" not in caplog.text


def test_a_round_that_raises_anything_does_not_end_the_worker(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a delivery that always raises a plain Python error
    app = make_app()

    def broken(*, limit: int = 50) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(outbox, "deliver_due", broken)
    monkeypatch.setattr(jobs, "run_due", lambda: [])
    worker_time = WorkerTime(stop_at=200)
    # When the worker runs, only the signal ends it (work returns instead of raising)
    with app.app_context():
        assert worker.work(monotonic=worker_time.monotonic, sleep=worker_time.sleep) == 0
    assert worker_time.seconds >= 200


@pytest.mark.parametrize(
    ("url", "options", "pre_ping"),
    [
        ("postgresql://intake@db.invalid/intake", {}, True),
        ("postgresql+psycopg://intake@db.invalid/intake", {"pool_size": 3}, True),
        ("postgresql://intake@db.invalid/intake", {"pool_pre_ping": False}, False),
        ("sqlite:///:memory:", {}, None),
    ],
)
def test_postgresql_pools_check_a_connection_before_use(
    instance_path: object, url: str, options: dict[str, object], pre_ping: bool | None
) -> None:
    app = create_app(base_config(url, SQLALCHEMY_ENGINE_OPTIONS=options))
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping") == pre_ping
    with app.app_context():
        assert db.engine.pool._pre_ping is bool(pre_ping)  # type: ignore[attr-defined]
        db.engine.dispose()
