"""Rate limiting's two parts of our own: keys that never store an address, and the default
in-process storage.

Keys are a keyed hash of the client address that changes every day.

`ProcessMemoryStorage` (`intake-memory://`, the default) keeps fixed-window counters in this
process, as `memory://` does, but expires them as it goes: `memory://` starts a timer thread
whenever its last one has finished, which under load is a new thread every other request. With
more than one server process, give Flask-Limiter a shared storage (`redis://…`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits.storage import Storage

from intake import clock

F = TypeVar("F", bound=Callable[..., Any])

SCHEME = "intake-memory"
SWEEP_SECONDS = 60.0
# An unreachable Redis must cost a request at most this long, never hang it.
REDIS_TIMEOUT_SECONDS = 1.0
LIBRARY_LOGGER = "flask-limiter"


class _Shown(logging.StreamHandler):  # type: ignore[type-arg]
    """Flask-Limiter's warnings (such as the one switch to its in-memory fallback per outage)
    on stderr, where gunicorn's log has them; its own logger has only a NullHandler."""


def configure(app: Flask) -> None:
    """Before the limiter binds: a short Redis timeout, and its outage warnings shown.

    The fallback itself is Flask-Limiter's (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): while the
    storage is unreachable each process counts the same limits in its own memory, logs that
    once, and goes back to the storage when it answers again. RATELIMIT_SWALLOW_ERRORS lets a
    request through rather than fail it if even that goes wrong."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", REDIS_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", REDIS_TIMEOUT_SECONDS)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    library = logging.getLogger(LIBRARY_LOGGER)
    if not any(isinstance(handler, _Shown) for handler in library.handlers):
        shown = _Shown(sys.stderr)
        shown.setLevel(logging.WARNING)
        shown.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        library.addHandler(shown)


def check_in_views_only(app: Flask, limiter: Limiter) -> None:
    """Count each request once: drop Flask-Limiter's app-wide check, run before every view,
    while there is nothing app-wide to count.

    Flask-Limiter checks twice: app-wide in `before_request` (default, application, blueprint
    and meta limits, and the in-memory fallback's own limits) and again in each decorated
    view. Our limits are all on views (`@limiter.limit`), so the first check found nothing on
    every request. A setting that gives it something (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION,
    RATELIMIT_META, RATELIMIT_IN_MEMORY_FALLBACK) or a limit on a blueprint keeps it."""
    manager = limiter.limit_manager
    app_wide = (
        manager.default_limits
        or manager.application_limits
        or manager._blueprint_limits
        or limiter._meta_limits
        or limiter._in_memory_fallback
    )
    checks = app.before_request_funcs.get(None, [])
    if not app_wide and limiter._check_request_limit in checks:  # absent when disabled
        checks.remove(limiter._check_request_limit)


def on_posts(limit: Callable[[], str]) -> Callable[[F], F]:
    """`@limiter.limit(limit, methods=["POST"])` for a view that also answers GET, without the
    limiter's work on a GET: Flask-Limiter's decorator checks every request and only then
    finds the limit exempt for the method (about 0.1 ms on each page of the journey). The
    limit is the same one, on the same view name, counted the same way for each POST."""
    from intake.extensions import limiter

    def decorate(view: F) -> F:
        limited = limiter.limit(limit)(view)

        @wraps(view)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            chosen = limited if request.method == "POST" else view
            return chosen(*args, **kwargs)

        return dispatch  # type: ignore[return-value]

    return decorate


def client_key() -> str:
    """Today's keyed hash of the client address (nothing reversible is kept)."""
    day = clock.now().strftime("%Y-%m-%d").encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(secret + day, address, hashlib.sha256).hexdigest()[:24]


class ProcessMemoryStorage(Storage):
    """Fixed-window counters in this process's memory, expired without threads.

    A counter past its expiry counts as zero and is dropped when next touched; every
    SWEEP_SECONDS the next call also drops all expired counters, so memory stays bounded by
    the clients of the last window. Registered with `limits` under `intake-memory://`.
    """

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - the attribute limits registers schemes by

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._counts: dict[str, int] = {}
        self._expires: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What this storage may raise (nothing it does talks to a network)."""
        return ValueError

    def _forget_if_expired(self, key: str, now: float) -> None:
        if self._expires.get(key, 0.0) <= now:
            self._counts.pop(key, None)
            self._expires.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        for key in [key for key, at in self._expires.items() if at <= now]:
            self._counts.pop(key, None)
            self._expires.pop(key, None)
        self._next_sweep = now + SWEEP_SECONDS

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add to the counter, starting a new window of `expiry` seconds if it has none."""
        now = time.time()
        with self._lock:
            self._sweep(now)
            self._forget_if_expired(key, now)
            if key not in self._counts:
                self._expires[key] = now + expiry
            count = self._counts[key] = self._counts.get(key, 0) + amount
            return count

    def get(self, key: str) -> int:
        """The counter's value in its current window (0 when it has none)."""
        with self._lock:
            self._forget_if_expired(key, time.time())
            return self._counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        """When the counter's window ends (now, when it has none)."""
        with self._lock:
            return self._expires.get(key, time.time())

    def check(self) -> bool:
        """Always healthy: it is this process's memory."""
        return True

    def reset(self) -> int | None:
        """Forget every counter; return how many there were."""
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            self._expires.clear()
            return count

    def clear(self, key: str) -> None:
        """Forget one counter."""
        with self._lock:
            self._counts.pop(key, None)
            self._expires.pop(key, None)
