"""Metrics for the operator: off by default, behind a token when on, counts and timings only."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from intake import metrics
from intake.config import ConfigError

from .accounts.back_office import fast_passwords, freeze, stockholm
from .dialogues.helpers import new_dialogue, sign_up
from .reports.journey_helpers import PROFESSIONAL_CHILD, walk
from .staff_helpers import Installation

TOKEN = "mätvärden-" + "x" * 40
CANARY = "KANARIEMETRIK-9931"
EMAIL = "kanarie.metrik@example.com"
CASEWORKER = "handlaggare.metrik@alvsbyn.invalid"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_passwords(monkeypatch)


def _installation(make_app: Any, **config: Any) -> Installation:
    from intake import bootstrap

    app: Flask = make_app(WTF_CSRF_ENABLED=False, **config)
    with app.app_context():
        codes = bootstrap.run_setup().recovery_codes
    return Installation(app=app, recovery_codes=codes)


def _scrape(app: Flask, token: str | None = TOKEN) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return app.test_client().get("/metrics", headers=headers)


def _value(text: str, line_start: str) -> float:
    found = [line for line in text.splitlines() if line.startswith(line_start + " ")]
    assert len(found) == 1, (line_start, text)
    return float(found[0].rsplit(" ", 1)[1])


def test_off_by_default(app: Flask) -> None:
    assert _scrape(app).status_code == 404
    assert _scrape(app, None).status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}",
     TOKEN, f"bearer  {TOKEN}"],
)  # fmt: skip
def test_without_the_right_token_the_endpoint_refuses(make_app: Any, header: str | None) -> None:
    app = _installation(make_app, METRICS_TOKEN=TOKEN).app
    headers = {} if header is None else {"Authorization": header}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "intake_" not in response.get_data(as_text=True)


def test_a_short_token_is_refused_at_start(make_app: Any) -> None:
    with pytest.raises(ConfigError):
        make_app(METRICS_TOKEN="kort")


def test_counts_and_timings_without_anything_personal(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = freeze(monkeypatch, stockholm(2026, 3, 10, 9, 0))
    site = _installation(make_app, METRICS_TOKEN=TOKEN)
    app = site.app
    # Given a professional's report about a child (the statutory deadlines apply to barn och
    # unga only, intake.law) with a canary in every field we can, through the journey
    client = app.test_client()
    steps = {**PROFESSIONAL_CHILD}
    steps["oro"] = {**steps["oro"], "what_happened": f"{CANARY} oro"}
    steps["dina-uppgifter"] = {
        **steps["dina-uppgifter"], "reporter_name": CANARY, "reporter_email": EMAIL,
    }  # fmt: skip
    response = walk(client, steps)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    # And a dialogue sign-up with the canary as name and needs
    dialogue_id = new_dialogue(app)
    answer = sign_up(client, dialogue_id, EMAIL, name=CANARY, needs=f"{CANARY} hörslinga")
    assert answer.status_code == 303
    client.get(f"/dialoger/{dialogue_id}")
    # And a caseworker signed in
    site.add_user(CASEWORKER, "caseworker", inboxes=("Barn och unga",))
    site.login(app.test_client(), CASEWORKER)
    # When the operator scrapes
    response = _scrape(app)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    # Then the counts are there
    assert _value(text, 'intake_reports_received_today{inbox="Barn och unga"}') == 1
    assert _value(text, 'intake_reports_received_today{inbox="Vuxna"}') == 0
    assert _value(text, "intake_outbox_queued") >= 2  # the inbox's notice and the confirmation
    assert _value(text, "intake_outbox_failed") == 0
    assert _value(text, 'intake_deadlines_overdue{inbox="Barn och unga",step="forhand"}') == 0
    # And the latency is grouped by blueprint, never by path
    for group in ("report", "dialogue", "staff"):
        assert f'intake_http_request_duration_seconds_count{{group="{group}"}}' in text
    assert f"/dialoger/{dialogue_id}" not in text and "/orosanmalan" not in text
    # And nothing personal: no content, names, e-mail or IP addresses
    for secret in (CANARY, EMAIL, "example.com", CASEWORKER, "127.0.0.1", "Lärare", "Bo"):
        assert secret not in text
    # When two weeks and more pass without a decision, the deadlines show as overdue
    frozen.advance(days=20)
    later = _scrape(app).get_data(as_text=True)
    assert _value(later, 'intake_deadlines_overdue{inbox="Barn och unga",step="forhand"}') == 1
    assert _value(later, 'intake_deadlines_overdue{inbox="Barn och unga",step="skydd"}') == 1
    assert _value(later, 'intake_reports_received_today{inbox="Barn och unga"}') == 0
    assert _value(later, "intake_outbox_oldest_age_seconds") >= timedelta(days=20).total_seconds()


def test_the_separate_address_serves_the_same_without_a_token(app: Flask) -> None:
    # Given metrics off on the web app (no token), the metrics process serves them on its own
    response = Client(metrics.wsgi(app)).get("/metrics")  # type: ignore[arg-type]
    assert response.status_code == 200
    assert b"intake_outbox_queued" in response.data


def test_several_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    """Two processes time a request each into the shared folder; a third sums them."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "PYTHONPATH": os.getcwd()}
    observe = (
        "from intake import metrics; "
        "metrics._latency().labels('report').observe(0.01); "
        "metrics._responses().labels('report', '2xx').inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", observe], env=env, check=True, timeout=120)
    collect = (
        "from prometheus_client import CollectorRegistry, generate_latest, multiprocess; "
        "r = CollectorRegistry(); multiprocess.MultiProcessCollector(r); "
        "print(generate_latest(r).decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", collect], env=env, check=True, timeout=120, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    assert 'intake_http_request_duration_seconds_count{group="report"} 2.0' in out
    assert 'intake_http_responses_total{group="report",status="2xx"} 2.0' in out


@pytest.mark.parametrize(
    ("blueprint", "endpoint", "group"),
    [
        ("reports", "reports.step", "report"),
        ("followup", "followup.start", "report_followup"),
        ("dialogues", "dialogues.show", "dialogue"),
        ("promise", "promise.index", "promise"),
        ("admin", "admin.users", "staff"),
        ("organiser", "organiser.index", "staff"),
        (None, "static", "health_static"),
        (None, None, "unmatched"),
        ("something_new", "something_new.x", "other"),
    ],
)
def test_groups(blueprint: str | None, endpoint: str | None, group: str) -> None:
    assert metrics.group_of(blueprint, endpoint) == group
