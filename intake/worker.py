"""The worker (`flask --app intake outbox work`): mail every poll, scheduled jobs every
JOBS_INTERVAL_SECONDS, a heartbeat each round. Nothing but SIGTERM or SIGINT ends it.

It sits above the outbox and the jobs, so that neither imports the other. One mail that cannot
be sent is that row's problem (intake.outbox), one job that fails is that job's (intake.jobs);
an error in the round itself — above all a database that went away — is rolled back, the
connections are thrown away and the round is tried again after a bounded, growing pause.
Logs name what happened and the error's class, never its text: a database error's text can
carry a row's values.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
import traceback
from collections.abc import Callable
from types import FrameType

import sqlalchemy as sa
from flask import current_app

from intake import clock, health, jobs, outbox
from intake.extensions import db

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 60.0


class _Stop:
    requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        log.info("worker: signal %s, stopping after this round", signum)


def name() -> str:
    """This worker's name in the heartbeat table: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"[-120:]


def retry_delay(failures: int) -> float:
    """Pause after `failures` failed rounds in a row: 1, 2, 4 … seconds, at most a minute."""
    return float(min(RETRY_BASE_SECONDS * 2 ** max(failures - 1, 0), RETRY_CAP_SECONDS))


def drain() -> int:
    """Deliver until nothing is due; how many were sent."""
    total = 0
    while (sent := outbox.deliver_due()) > 0:
        total += sent
    return total


def _where(error: BaseException) -> str:
    """The innermost frame of an error, as `file:line` (no values)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno}"


def recover(error: Exception) -> None:
    """After a failed round: roll back and, for a database error, drop every connection."""
    # If the connection is gone the rollback fails too; removing the session discards it.
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    db.session.remove()
    if isinstance(error, sa.exc.SQLAlchemyError):
        db.engine.dispose()


def work(
    *,
    once: bool = False,
    poll_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the worker until SIGTERM/SIGINT; `once` runs the jobs, drains the mail and returns.
    Returns how many mails were sent."""
    delay = poll_seconds or float(current_app.config["OUTBOX_POLL_SECONDS"])
    interval = float(current_app.config["JOBS_INTERVAL_SECONDS"])
    me, started_at = name(), clock.now()
    if once:
        jobs.run_due()
        total = drain()
        health.beat(me, started_at=started_at, now=clock.now())
        return total
    stop = _Stop()
    previous = (signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop))
    log.info("worker %s started", me)
    # The interval runs on the monotonic clock: a wall-clock jump (NTP, summer time) must
    # neither stall the housekeeping nor run it in a burst.
    jobs_ran_at: float | None = None
    failures = total = 0
    try:
        while not stop.requested:
            try:
                if jobs_ran_at is None or monotonic() - jobs_ran_at >= interval:
                    jobs_ran_at = monotonic()
                    jobs.run_due()
                total += drain()
                health.beat(me, started_at=started_at, now=clock.now())
            except Exception as error:  # only a signal may end the worker
                failures += 1
                recover(error)
                pause = retry_delay(failures)
                log.warning(
                    "worker round failed (%s at %s); trying again in %.0f s",
                    type(error).__name__,
                    _where(error),
                    pause,
                )
                _pause(pause, delay, stop, sleep)
                continue
            if failures:
                log.info("worker recovered after %s failed rounds", failures)
                failures = 0
            sleep(delay)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        log.info("worker %s stopped", me)
    return total


def _pause(seconds: float, step: float, stop: _Stop, sleep: Callable[[float], None]) -> None:
    """Sleep in steps of at most `step`, so that a signal is heeded within one poll."""
    left = seconds
    while left > 0 and not stop.requested:
        chunk = min(step, left)
        sleep(chunk)
        left -= chunk
