"""`make run` (bin/serve-local): Ctrl-C stops the mail catcher, the worker and gunicorn and
exits quietly — no "make: *** Error", no traceback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def test_ctrl_c_stops_make_run_quietly(tmp_path: Path) -> None:
    # Given `make run` on free ports with a fresh instance folder, using this test's venv
    port, mail_port = free_port(), free_port()
    env = {**os.environ, "INTAKE_INSTANCE_PATH": str(tmp_path), "INTAKE_MAIL_PORT": str(mail_port)}
    env.pop("INTAKE_DATABASE_URL", None)
    venv = Path(sys.executable).parent.parent
    command = ["make", "-o", "install", "-o", "translations", "run", f"VENV={venv}", f"PORT={port}"]
    # (its own process group: the terminal's Ctrl-C signals the whole foreground group)
    service = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            assert service.poll() is None, service.communicate()[0].decode()
            assert time.monotonic() < deadline, "the service never answered"
            time.sleep(1)
        # When Ctrl-C reaches the group
        os.killpg(service.pid, signal.SIGINT)
        output = service.communicate(timeout=90)[0].decode()
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.communicate()
    # Then make stops by the signal it was sent (silently), after its recipe exited cleanly
    assert service.returncode in (0, -signal.SIGINT), output
    assert "make: ***" not in output
    assert "Traceback" not in output and "Error" not in output
    assert "intake: stopped." in output
    # And nothing is left listening: the worker, the mail catcher and gunicorn are gone
    for used in (port, mail_port):
        with socket.socket() as probe:
            # (SO_REUSEADDR: closed connections in TIME_WAIT may remain; a listener may not)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", used))
            probe.listen()
