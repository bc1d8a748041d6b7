"""The relying party against a real OpenID Provider: the happy path and every failure."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from joserfc.jwk import KeySet, RSAKey

from intake import clock
from intake.reports import eid

from . import provider as op

REDIRECT = "http://127.0.0.1:5000" + op.CALLBACK_PATH


def _broker(issuer: str, **extra: object) -> eid.Broker:
    settings = {
        "issuer": issuer,
        "client_id": op.CLIENT_ID,
        "client_secret": op.CLIENT_SECRET,
        "timeout": 2.0,
        **extra,
    }
    return eid.Broker(eid.Settings(**settings))  # type: ignore[arg-type]


def _answer(
    rp: eid.Broker, account: str = "anna", **kw: bool
) -> tuple[eid.Pending, dict[str, str]]:
    """Start a sign-in, log in at the OP as `account`; the pending sign-in and the OP's answer."""
    pending = eid.Pending.new()
    url = rp.authorization_url(pending, redirect_uri=REDIRECT, now=clock.now())
    return pending, op.query_of(op.sign_in_at(url, account, **kw))


def _finish(rp: eid.Broker, pending: eid.Pending, answer: dict[str, str]) -> eid.Identity:
    return rp.finish(answer, pending, redirect_uri=REDIRECT, now=clock.now())


def test_a_verified_sign_in_gives_name_personnummer_and_acr(broker: op.Provider) -> None:
    """Code flow with PKCE: the verified name, personnummer and level of assurance."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    identity = _finish(rp, pending, answer)
    assert identity.name == "Anna Lärare"
    assert identity.personnummer == "198112189876"
    assert identity.acr == eid.LOA3
    assert identity.issuer == broker.issuer


def test_the_request_carries_pkce_state_nonce_and_acr(broker: op.Provider) -> None:
    """The authorization request asks for S256 PKCE, state, nonce and LoA 3."""
    rp = _broker(broker.issuer)
    pending = eid.Pending.new()
    query = op.query_of(rp.authorization_url(pending, redirect_uri=REDIRECT, now=clock.now()))
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] and pending.verifier not in query.values()
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert query["acr_values"] == eid.LOA3


def test_private_key_jwt_client_authentication(broker: op.Provider, pkjwt_key: Path) -> None:
    """With a key file the RP authenticates with private_key_jwt instead of a secret."""
    rp = _broker(
        broker.issuer,
        client_id=op.PKJWT_CLIENT_ID,
        client_secret="",
        private_key_file=str(pkjwt_key),
    )
    pending, answer = _answer(rp, "bertil")
    assert _finish(rp, pending, answer).personnummer == "197903022346"


def test_name_from_the_name_claim_alone(broker: op.Provider) -> None:
    """Brokers differ: the name claims are a setting (here the OP has no `name`)."""
    rp = _broker(broker.issuer, name_claims=("name",))
    pending, answer = _answer(rp)
    with pytest.raises(eid.NameMissing):
        _finish(rp, pending, answer)


def test_user_cancels(broker: op.Provider) -> None:
    """The resident cancels at the OP: error=access_denied."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp, cancel=True)
    assert answer["error"] == "access_denied"
    with pytest.raises(eid.SignInCancelled):
        _finish(rp, pending, answer)


@pytest.mark.parametrize("state", ["", "not-the-state"])
def test_wrong_or_missing_state(broker: op.Provider, state: str) -> None:
    """An answer whose state is not this sign-in's is refused before the code is used."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    with pytest.raises(eid.StateMismatch):
        _finish(rp, pending, {**answer, "state": state})
    # The code was not spent: the real sign-in still completes.
    assert _finish(rp, pending, answer).name == "Anna Lärare"


def test_no_sign_in_waiting(broker: op.Provider) -> None:
    """An answer when no sign-in is waiting (none in the draft) is refused."""
    rp = _broker(broker.issuer)
    _pending, answer = _answer(rp)
    with pytest.raises(eid.StateMismatch):
        rp.finish(answer, None, redirect_uri=REDIRECT, now=clock.now())


def test_wrong_nonce(broker: op.Provider) -> None:
    """An ID token minted for another request (other nonce) is refused."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    other = eid.Pending(state=pending.state, nonce="another-nonce", verifier=pending.verifier)
    with pytest.raises(eid.NonceMismatch):
        _finish(rp, other, answer)


def test_replayed_code(broker: op.Provider) -> None:
    """A code redeemed once is refused by the OP the second time."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    _finish(rp, pending, answer)
    with pytest.raises(eid.CodeRejected):
        _finish(rp, pending, answer)


def test_wrong_pkce_verifier(broker: op.Provider) -> None:
    """A stolen code is useless without the verifier kept in the resident's draft."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    thief = eid.Pending(state=pending.state, nonce=pending.nonce, verifier="x" * 64)
    with pytest.raises(eid.CodeRejected):
        _finish(rp, thief, answer)


def test_expired_token(broker: op.Provider) -> None:
    """An ID token past its expiry (the OP's TTL is 10 minutes) is refused."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    id_token = rp.redeem(answer["code"], pending, redirect_uri=REDIRECT, now=clock.now())
    with pytest.raises(eid.TokenExpired):
        rp.verify(id_token, pending, now=clock.now() + timedelta(hours=1))
    with pytest.raises(eid.TokenExpired):
        rp.verify(id_token, pending, now=clock.now() - timedelta(hours=1))  # issued "later"
    assert rp.verify(id_token, pending, now=clock.now()).name == "Anna Lärare"


def test_token_signed_with_another_key(broker: op.Provider) -> None:
    """A token that does not verify under the published key (same kid, other key) is refused."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    id_token = rp.redeem(answer["code"], pending, redirect_uri=REDIRECT, now=clock.now())
    kid = rp.keys.keys[0].kid if rp.keys else None
    if kid is None:
        published = op.requests.get(f"{broker.issuer}/jwks", timeout=5).json()
        kid = published["keys"][0]["kid"]
    rp.keys = KeySet([RSAKey.generate_key(2048, parameters={"kid": kid})])
    with pytest.raises(eid.BadSignature):
        rp.verify(id_token, pending, now=clock.now())


@pytest.mark.parametrize("mangle", ["garbage", "header..", "payload", "alg-none"])
def test_tampered_or_malformed_token(broker: op.Provider, mangle: str) -> None:
    """A token whose payload was changed, or that is not a signed JWT, is refused."""
    import base64
    import json

    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    token = rp.redeem(answer["code"], pending, redirect_uri=REDIRECT, now=clock.now())
    header, payload, signature = token.split(".")

    def b64(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = {
        "garbage": "not-a-jwt",
        "header..": f"{header}..",
        "payload": f"{header}.{b64({**claims, 'given_name': 'Mallory'})}.{signature}",
        "alg-none": f"{b64({'alg': 'none'})}.{payload}.",
    }[mangle]
    with pytest.raises(eid.BadSignature):
        rp.verify(forged, pending, now=clock.now())


def test_token_from_another_issuer(broker: op.Provider, other_broker: op.Provider) -> None:
    """A token from another OP: its keys are not the broker's, and its issuer is wrong."""
    stranger = _broker(other_broker.issuer)
    pending, answer = _answer(stranger)
    id_token = stranger.redeem(answer["code"], pending, redirect_uri=REDIRECT, now=clock.now())
    rp = _broker(broker.issuer)
    with pytest.raises(eid.BadSignature):
        rp.verify(id_token, pending, now=clock.now())
    # Even when the other OP's keys were trusted (a JWKS mix-up), the issuer gives it away.
    rp.keys = KeySet.import_key_set(
        op.requests.get(f"{other_broker.issuer}/jwks", timeout=5).json()
    )
    with pytest.raises(eid.WrongIssuer):
        rp.verify(id_token, pending, now=clock.now())


def test_answer_naming_another_issuer(broker: op.Provider) -> None:
    """RFC 9207: an answer whose `iss` is not the broker is refused (mix-up)."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp)
    with pytest.raises(eid.WrongIssuer):
        _finish(rp, pending, {**answer, "iss": "http://127.0.0.1:1"})


def test_token_for_another_client(broker: op.Provider, pkjwt_key: Path) -> None:
    """A token the OP issued to another client (audience) is refused."""
    other_client = _broker(
        broker.issuer, client_id=op.PKJWT_CLIENT_ID, private_key_file=str(pkjwt_key)
    )
    pending, answer = _answer(other_client)
    id_token = other_client.redeem(answer["code"], pending, redirect_uri=REDIRECT, now=clock.now())
    with pytest.raises(eid.WrongAudience):
        _broker(broker.issuer).verify(id_token, pending, now=clock.now())


def test_missing_acr(broker: op.Provider) -> None:
    """A login without a level of assurance (no `acr`) is refused."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp, "utan-acr")
    with pytest.raises(eid.AcrMissing):
        _finish(rp, pending, answer)


def test_a_level_we_do_not_accept(broker: op.Provider) -> None:
    """LoA 3 from the OP is not enough when the setting asks for LoA 4."""
    rp = _broker(broker.issuer, acr_values=("http://id.elegnamnden.se/loa/1.0/loa4",))
    pending = eid.Pending.new()
    url = rp.authorization_url(pending, redirect_uri=REDIRECT, now=clock.now())
    # The OP only knows LoA 3; ask it for that, then check against our stricter setting.
    url = url.replace("loa4", "loa3")
    answer = op.query_of(op.sign_in_at(url, "anna"))
    with pytest.raises(eid.AcrMissing):
        _finish(rp, pending, answer)


def test_missing_personnummer(broker: op.Provider) -> None:
    """An account without a personnummer claim is refused."""
    rp = _broker(broker.issuer)
    pending, answer = _answer(rp, "utan-pnr")
    with pytest.raises(eid.PersonnummerMissing):
        _finish(rp, pending, answer)


def test_personnummer_in_another_claim(broker: op.Provider) -> None:
    """The claim that holds the personnummer is a setting: a claim the OP does not send."""
    rp = _broker(broker.issuer, personnummer_claim="urn:oid:1.2.752.29.4.13")
    pending, answer = _answer(rp)
    with pytest.raises(eid.PersonnummerMissing):
        _finish(rp, pending, answer)


def test_broker_stopped() -> None:
    """A broker that is not running: connection refused, reported as unavailable."""
    stopped = op.start()
    issuer = stopped.issuer
    stopped.stop()
    with pytest.raises(eid.BrokerUnavailable):
        _broker(issuer).authorization_url(eid.Pending.new(), redirect_uri=REDIRECT, now=clock.now())


def test_broker_stops_after_discovery() -> None:
    """The broker goes away between the redirect and the answer: the token call fails cleanly."""
    running = op.start()
    try:
        rp = _broker(running.issuer)
        pending, answer = _answer(rp)
    finally:
        running.stop()
    with pytest.raises(eid.BrokerUnavailable):
        _finish(rp, pending, answer)


def test_broker_silent(silent_broker: str) -> None:
    """A broker that accepts the connection and never answers costs at most the timeout."""
    rp = _broker(silent_broker, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(eid.BrokerUnavailable):
        rp.authorization_url(eid.Pending.new(), redirect_uri=REDIRECT, now=clock.now())
    assert time.monotonic() - started < 3


# -- claims from the userinfo endpoint (Core §5.3) ------------------------------------------


def _tokens(rp: eid.Broker, account: str = "anna") -> tuple[eid.Pending, str, str | None]:
    pending, answer = _answer(rp, account)
    id_token, access_token = rp.redeem_tokens(
        answer["code"], pending, redirect_uri=REDIRECT, now=clock.now()
    )
    return pending, id_token, access_token


def test_claims_only_in_userinfo_are_fetched(userinfo_broker: op.Provider) -> None:
    """The ID token lacks name and personnummer; userinfo (same `sub`) supplies them."""
    rp = _broker(userinfo_broker.issuer)
    pending, id_token, access_token = _tokens(rp)
    with pytest.raises(eid.NameMissing):  # the ID token alone does not name anyone
        rp.verify(id_token, pending, now=clock.now())
    identity = rp.verify(id_token, pending, now=clock.now(), access_token=access_token)
    assert identity.name == "Anna Lärare" and identity.personnummer == "198112189876"
    assert identity.acr == eid.LOA3  # from the ID token, never from userinfo


def test_the_whole_sign_in_uses_userinfo(userinfo_broker: op.Provider) -> None:
    rp = _broker(userinfo_broker.issuer)
    pending, answer = _answer(rp, "bertil")
    assert _finish(rp, pending, answer).personnummer == "197903022346"


def test_userinfo_never(userinfo_broker: op.Provider) -> None:
    """EID_USERINFO = never: only the ID token counts, so the claims are missing."""
    rp = _broker(userinfo_broker.issuer, userinfo="never")
    pending, answer = _answer(rp)
    with pytest.raises(eid.NameMissing):
        _finish(rp, pending, answer)


def test_userinfo_not_asked_when_the_id_token_has_everything(broker: op.Provider) -> None:
    """The usual Swedish broker: everything is in the ID token; userinfo is not called."""
    rp = _broker(broker.issuer)
    pending, id_token, _access = _tokens(rp)
    identity = rp.verify(id_token, pending, now=clock.now(), access_token="not-a-real-token")
    assert identity.personnummer == "198112189876"


def test_userinfo_about_another_subject_is_refused(userinfo_broker: op.Provider) -> None:
    """Core §5.3.2: a userinfo `sub` other than the ID token's is not used."""
    rp = _broker(userinfo_broker.issuer)
    pending, answer = _answer(rp, "byter-sub")
    with pytest.raises(eid.UserinfoMismatch):
        _finish(rp, pending, answer)


def test_userinfo_with_a_token_it_does_not_accept(userinfo_broker: op.Provider) -> None:
    rp = _broker(userinfo_broker.issuer)
    pending, id_token, _access = _tokens(rp)
    with pytest.raises(eid.BrokerRefused):
        rp.verify(id_token, pending, now=clock.now(), access_token="forged-access-token")


def test_userinfo_endpoint_gone() -> None:
    """The broker stops after the token call: the userinfo call fails as unavailable."""
    running = op.start(OP_CLAIMS_IN_USERINFO="1")
    try:
        rp = _broker(running.issuer)
        pending, id_token, access_token = _tokens(rp)
        rp.verify(id_token, pending, now=clock.now(), access_token=access_token)  # keys cached
    finally:
        running.stop()
    with pytest.raises(eid.BrokerUnavailable):
        rp.verify(id_token, pending, now=clock.now(), access_token=access_token)


def test_userinfo_silent(userinfo_broker: op.Provider, silent_broker: str) -> None:
    """A userinfo endpoint that never answers costs at most the timeout."""
    rp = _broker(userinfo_broker.issuer, timeout=0.5)
    pending, id_token, access_token = _tokens(rp)
    metadata = rp.metadata(now=clock.now())
    rp._metadata = (
        clock.now().timestamp(),
        eid.Metadata(
            metadata.authorization_endpoint,
            metadata.token_endpoint,
            metadata.jwks_uri,
            userinfo_endpoint=f"{silent_broker}/me",
        ),
    )
    started = time.monotonic()
    with pytest.raises(eid.BrokerUnavailable):
        rp.verify(id_token, pending, now=clock.now(), access_token=access_token)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("info", "error"),
    [
        ({"sub": "someone-else", "given_name": "M", "family_name": "X"}, eid.UserinfoMismatch),
        ({"given_name": "M", "family_name": "X"}, eid.UserinfoMismatch),
        ({"sub": 42}, eid.UserinfoMismatch),
    ],
)
def test_the_subject_check(
    broker: op.Provider,
    monkeypatch: pytest.MonkeyPatch,
    info: dict[str, object],
    error: type[eid.EidError],
) -> None:
    """The sub check itself, for answers no real OP gives (no sub, a number)."""
    rp = _broker(broker.issuer)
    monkeypatch.setattr(rp, "userinfo", lambda endpoint, token: info)
    monkeypatch.setattr(rp, "_lacking", lambda claims: ["given_name"])
    pending, id_token, access_token = _tokens(rp)
    assert access_token is not None
    with pytest.raises(error):
        rp.verify(id_token, pending, now=clock.now(), access_token=access_token)
