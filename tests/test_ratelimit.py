"""The default rate-limit storage: fixed windows in this process's memory, no threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from intake import ratelimit
from intake.extensions import limiter
from intake.ratelimit import ProcessMemoryStorage


class Clock:
    """time.time as the storage sees it, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(ratelimit.time, "time", moved)
    return moved


def test_a_window_counts_then_starts_again_when_it_ends(clock: Clock) -> None:
    storage = ProcessMemoryStorage()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3
    assert storage.get_expiry("k") == clock.now + 60
    clock.now += 59.9
    assert storage.incr("k", 60) == 4  # still the same window
    clock.now += 0.1
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == clock.now + 60


def test_counters_are_per_key_and_by_amount(clock: Clock) -> None:
    storage = ProcessMemoryStorage()
    assert storage.incr("a", 60, amount=5) == 5
    assert storage.incr("b", 60) == 1
    assert (storage.get("a"), storage.get("b"), storage.get("unknown")) == (5, 1, 0)
    assert storage.get_expiry("unknown") == clock.now


def test_clear_and_reset_forget(clock: Clock) -> None:
    storage = ProcessMemoryStorage()
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 1
    assert storage.get("b") == 0
    assert storage.check() is True


def test_expired_counters_are_swept_so_memory_stays_bounded(clock: Clock) -> None:
    storage = ProcessMemoryStorage()
    for n in range(1000):
        storage.incr(f"client-{n}", 60)
    clock.now += ratelimit.SWEEP_SECONDS + 61
    storage.incr("one-more", 60)
    assert storage.reset() == 1


def test_no_thread_is_started_to_expire_counters(clock: Clock) -> None:
    storage = ProcessMemoryStorage()
    before = threading.active_count()
    for n in range(200):
        storage.incr(f"k{n % 7}", 1)
        clock.now += 0.02
    assert threading.active_count() == before


def test_simultaneous_hits_are_all_counted() -> None:
    storage = ProcessMemoryStorage()

    def hit() -> None:
        for _ in range(500):
            storage.incr("shared", 3600)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("shared") == 4000


def test_it_is_the_default_and_the_limit_lifts_when_the_window_ends(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    app = make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == "intake-memory://"
    with app.app_context():
        assert isinstance(limiter.storage, ProcessMemoryStorage)
    client = app.test_client()
    statuses = [client.post("/orosanmalan/granska", data={}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    clock.now += 61
    assert client.post("/orosanmalan/granska", data={}).status_code == 302


def _checks_per_request(app: Flask, monkeypatch: pytest.MonkeyPatch, method: str, path: str) -> int:
    calls: list[bool] = []
    checked = limiter._check_request_limit

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(True)
        checked(*args, **kwargs)  # type: ignore[arg-type]

    # The view's decorator calls the limiter's method; the app-wide hook holds the bound one.
    monkeypatch.setattr(limiter, "_check_request_limit", counted)
    hooks = app.before_request_funcs[None]
    hooks[:] = [counted if hook == checked else hook for hook in hooks]
    app.test_client().open(path, method=method)
    return len(calls)


@pytest.mark.parametrize(
    ("method", "path", "checks"),
    [
        ("GET", "/", 0),
        ("GET", "/orosanmalan/om-dig", 0),  # the step's limit is on POSTs only
        ("POST", "/orosanmalan/om-dig", 1),
        ("GET", "/orosanmalan/granska", 0),
        ("POST", "/orosanmalan/granska", 1),
    ],
)
def test_a_request_is_checked_at_most_once_when_every_limit_is_on_a_view(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    checks: int,
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=False)
    assert _checks_per_request(app, monkeypatch, method, path) == checks


def test_a_step_limit_counts_posts_only(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = make_app(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=False, RATELIMIT_STEP="2 per minute")
    client = app.test_client()
    assert [client.get("/orosanmalan/om-dig").status_code for _ in range(3)] == [200] * 3
    statuses = [client.post("/orosanmalan/om-dig", data={}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/orosanmalan/om-dig").status_code == 200


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_an_app_wide_limit_still_counts_every_request(
    make_app: Callable[..., Flask], clock: Clock, setting: str
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, **{setting: "2 per minute"})
    client = app.test_client()
    statuses = [client.get("/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    clock.now += 61
    assert client.get("/").status_code == 200
