"""Fixtures for e-legitimation: real OpenID Providers (see provider.py) and a silent broker."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import provider as op


@pytest.fixture(scope="session")
def pkjwt_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private key (PEM) for the client that authenticates with private_key_jwt."""
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": "intake-test-client"})
    path = tmp_path_factory.mktemp("eid") / "client.pem"
    path.write_bytes(key.as_pem(private=True))
    return path


@pytest.fixture(scope="session")
def broker(pkjwt_key: Path) -> Iterator[op.Provider]:
    """The eID broker: a real OpenID Provider on loopback, for the whole session."""
    running = op.start(OP_PKJWT_JWKS=op.public_jwks(pkjwt_key))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def userinfo_broker() -> Iterator[op.Provider]:
    """An OP that serves name and personnummer only from its userinfo endpoint."""
    running = op.start(OP_CLAIMS_IN_USERINFO="1")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def other_broker() -> Iterator[op.Provider]:
    """A second, unrelated OpenID Provider: another issuer with other keys."""
    running = op.start()
    yield running
    running.stop()


def eid_settings(issuer: str, **extra: Any) -> dict[str, Any]:
    """App settings for e-legitimation against `issuer`."""
    return {
        "EID_ISSUER": issuer,
        "EID_CLIENT_ID": op.CLIENT_ID,
        "EID_CLIENT_SECRET": op.CLIENT_SECRET,
        "EID_TIMEOUT_SECONDS": 2.0,
        **extra,
    }


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A loopback server that accepts connections and never answers; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()
