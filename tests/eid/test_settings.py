"""E-legitimation settings: off by default, from INTAKE_EID_* environment, brokers differ."""

from __future__ import annotations

from typing import Any

import pytest

from intake.config import ConfigError
from intake.reports import eid


def test_off_without_an_issuer(make_app: Any) -> None:
    """No EID_ISSUER: no broker."""
    app = make_app()
    assert eid.broker_of(app) is None


def test_from_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """INTAKE_EID_* set every setting; lists are space- or comma-separated."""
    for name, value in {
        "ISSUER": "https://eid.alvsbyn.example/",
        "CLIENT_ID": "intake",
        "CLIENT_SECRET": "s3cret",
        "SCOPES": "openid,profile",
        "PERSONNUMMER_CLAIM": "urn:oid:1.2.752.29.4.13",
        "NAME_CLAIMS": "name",
        "ACR_VALUES": f"{eid.LOA3} http://id.elegnamnden.se/loa/1.0/loa4",
        "TIMEOUT_SECONDS": "2.5",
    }.items():
        monkeypatch.setenv(f"INTAKE_EID_{name}", value)
    broker = eid.broker_of(make_app())
    assert broker is not None
    assert broker.settings == eid.Settings(
        issuer="https://eid.alvsbyn.example",
        client_id="intake",
        client_secret="s3cret",
        scopes=("openid", "profile"),
        personnummer_claim="urn:oid:1.2.752.29.4.13",
        name_claims=("name",),
        acr_values=(eid.LOA3, "http://id.elegnamnden.se/loa/1.0/loa4"),
        timeout=2.5,
    )


def test_defaults_follow_the_swedish_profile(make_app: Any) -> None:
    """Defaults: the oidc.se personnummer claim and scope, given + family name, LoA 3, 5 s."""
    broker = eid.broker_of(make_app(EID_ISSUER="https://eid.example", EID_CLIENT_ID="x"))
    assert broker is not None
    settings = broker.settings
    assert settings.personnummer_claim == "https://id.oidc.se/claim/personalIdentityNumber"
    assert "https://id.oidc.se/scope/naturalPersonNumber" in settings.scopes
    assert settings.name_claims == ("given_name", "family_name")
    assert settings.acr_values == ("http://id.elegnamnden.se/loa/1.0/loa3",)
    assert settings.timeout == 5.0


def test_userinfo_is_a_setting(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """EID_USERINFO: auto by default, never from the environment, nothing else accepted."""
    base = {"EID_ISSUER": "https://eid.example", "EID_CLIENT_ID": "x"}
    broker = eid.broker_of(make_app(**base))
    assert broker is not None and broker.settings.userinfo == "auto"
    monkeypatch.setenv("INTAKE_EID_USERINFO", "never")
    broker = eid.broker_of(make_app(**base))
    assert broker is not None and broker.settings.userinfo == "never"
    with pytest.raises(ConfigError, match="EID_USERINFO"):
        eid.Settings(issuer="https://eid.example", client_id="x", userinfo="sometimes")
