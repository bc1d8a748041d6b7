"""E-legitimation: an OpenID Connect relying party for the municipality's eID broker.

The broker (BankID, Freja eID+ behind one OpenID Provider) tells us who the reporter is. We run
the authorization code flow with PKCE (S256), `state` and `nonce` (OpenID Connect Core 1.0
§3.1), find the broker's endpoints by discovery from its issuer URL (OpenID Connect Discovery
1.0 §4), and accept an ID token only if its signature verifies against the broker's published
JWKS and its issuer, audience, expiry, nonce and `acr` are what we asked for (Core §3.1.3.7).

Why Authlib's lower-level parts and not its Flask client (`flask_client.OAuth`): the Flask
client keeps state, nonce and the PKCE verifier in the signed, readable Flask session cookie,
reads the wall clock itself and folds failures into a few generic errors. Here the round-trip
secrets live in the resident's encrypted draft (intake.reports.drafts), time comes from the
one clock seam (`now` is a parameter), and every failure is its own domain error so the
resident gets a page that says what happened. So: `requests_client.OAuth2Session` builds the
authorization URL with the S256 challenge and redeems the code (client_secret_basic, or
`rfc7523.PrivateKeyJWT` with a key file), and `joserfc` (Authlib's JOSE library) verifies the
signature and the time claims; the rest is checked here, in order, each with its own error.
Every HTTP call has a timeout (EID_TIMEOUT_SECONDS): a broker that is down or slow costs a
worker at most that long per call.

Some brokers put the personnummer and name only in the userinfo response, not in the ID token.
With EID_USERINFO = "auto" (the default), when a configured claim is missing from the verified
ID token and the broker publishes a userinfo_endpoint, the claims are fetched from it with the
access token (Core §5.3) and used only if the response's `sub` is the ID token's `sub` (Core
§5.3.2: otherwise the response must not be used). Only the configured claims that the ID
token lacks are taken from it; `acr`, `nonce` and the rest come from the ID token alone.
"never" keeps to the ID token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet

from intake import clock
from intake.config import ConfigError
from intake.reports.identity import IdentityNumberError, parse_identity_number

# Swedish eID Framework, "Registry for identifiers" §3.1.1 (docs.swedenconnect.se,
# technical-framework/latest/03_-_Registry_for_Identifiers): Level of Assurance 3.
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
# Claims and Scopes Specification for the Swedish OpenID Connect Profile 1.0 (oidc.se),
# §2.1.1 (the claim) and §3.2 (the scope that asks for it).
PERSONNUMMER_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
PERSONNUMMER_SCOPE = "https://id.oidc.se/scope/naturalPersonNumber"
SIGNING_ALGORITHMS = ("RS256", "PS256", "ES256")
CLOCK_SKEW_SECONDS = 60
METADATA_TTL_SECONDS = 3600


class EidError(Exception):
    """Signing in with e-legitimation failed; `kind` names the failure (never any claim)."""

    kind = "error"


class BrokerUnavailable(EidError):
    """The broker did not answer in time, refused the connection or answered nonsense."""

    kind = "unavailable"


class SignInCancelled(EidError):
    """The resident cancelled at the broker (error=access_denied)."""

    kind = "cancelled"


class BrokerRefused(EidError):
    """The broker answered with an error other than a cancel."""

    kind = "refused"


class StateMismatch(EidError):
    """The answer's `state` is not the one this draft is waiting for (or none is waited for)."""

    kind = "state"


class NonceMismatch(EidError):
    """The ID token's `nonce` is not the one sent with this draft's request."""

    kind = "nonce"


class CodeRejected(EidError):
    """The broker would not redeem the code: used before (replayed), expired or not ours."""

    kind = "code"


class BadSignature(EidError):
    """The ID token is not signed by a key the broker publishes, or is not a JWT at all."""

    kind = "signature"


class TokenExpired(EidError):
    """The ID token has expired (or was issued in the future)."""

    kind = "expired"


class WrongIssuer(EidError):
    """The ID token (or the answer) comes from another issuer than the configured broker."""

    kind = "issuer"


class WrongAudience(EidError):
    """The ID token was issued to another client."""

    kind = "audience"


class AcrMissing(EidError):
    """The ID token has no `acr`, or not one of the required levels of assurance."""

    kind = "acr"


class PersonnummerMissing(EidError):
    """The ID token carries no valid personnummer in the configured claim."""

    kind = "personnummer"


class NameMissing(EidError):
    """The ID token carries no name in the configured name claims."""

    kind = "name"


class UserinfoMismatch(EidError):
    """The userinfo response is about another subject than the ID token (Core §5.3.2)."""

    kind = "userinfo"


USERINFO_MODES = ("auto", "never")


@dataclass(frozen=True)
class Settings:
    """How to reach the broker and what to ask of it (EID_* settings)."""

    issuer: str
    client_id: str
    client_secret: str = ""
    private_key_file: str = ""
    scopes: tuple[str, ...] = ("openid", "profile", PERSONNUMMER_SCOPE)
    personnummer_claim: str = PERSONNUMMER_CLAIM
    name_claims: tuple[str, ...] = ("given_name", "family_name")
    acr_values: tuple[str, ...] = (LOA3,)
    timeout: float = 5.0
    userinfo: str = "auto"  # USERINFO_MODES

    def __post_init__(self) -> None:
        if self.userinfo not in USERINFO_MODES:
            raise ConfigError(f"EID_USERINFO must be one of: {', '.join(USERINFO_MODES)}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings | None:
        """The settings, or None when no broker is configured (e-legitimation is off)."""
        issuer = str(config.get("EID_ISSUER") or "").rstrip("/")
        if not issuer:
            return None
        return cls(
            issuer=issuer,
            client_id=str(config["EID_CLIENT_ID"]),
            client_secret=str(config.get("EID_CLIENT_SECRET") or ""),
            private_key_file=str(config.get("EID_PRIVATE_KEY_FILE") or ""),
            scopes=_words(config["EID_SCOPES"]),
            personnummer_claim=str(config["EID_PERSONNUMMER_CLAIM"]),
            name_claims=_words(config["EID_NAME_CLAIMS"]),
            acr_values=_words(config["EID_ACR_VALUES"]),
            timeout=float(config["EID_TIMEOUT_SECONDS"]),
            userinfo=str(config.get("EID_USERINFO") or "auto").strip().lower(),
        )


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    return tuple(str(item) for item in value)


@dataclass(frozen=True)
class Pending:
    """One sign-in in flight, kept in the encrypted draft until the resident comes back."""

    state: str
    nonce: str
    verifier: str
    back_to: str = ""

    @classmethod
    def new(cls, *, back_to: str = "") -> Pending:
        """Fresh random state, nonce and PKCE verifier (RFC 7636 §4.1: 43+ characters)."""
        return cls(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            back_to=back_to,
        )

    def to_dict(self) -> dict[str, str]:
        """A JSON-safe form for the draft."""
        return {"s": self.state, "n": self.nonce, "v": self.verifier, "b": self.back_to}

    @classmethod
    def from_dict(cls, value: Any) -> Pending | None:
        """Parse the draft's value; None if there is none."""
        try:
            return cls(state=value["s"], nonce=value["n"], verifier=value["v"], back_to=value["b"])
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Identity:
    """Who the broker says the reporter is."""

    name: str
    personnummer: str  # 12 digits, YYYYMMDDNNNC
    acr: str
    issuer: str
    verified_at: str  # ISO 8601

    def to_dict(self) -> dict[str, str]:
        """A JSON-safe form for the draft and the sealed report."""
        return {
            "method": "e-legitimation",
            "name": self.name,
            "personnummer": self.personnummer,
            "acr": self.acr,
            "issuer": self.issuer,
            "verified_at": self.verified_at,
        }


@dataclass(frozen=True)
class Metadata:
    """The broker's endpoints, from its discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""


class Broker:
    """The relying party for one configured broker; caches its metadata and keys."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: tuple[float, Metadata] | None = None
        self.keys: KeySet | None = None

    def origins(self) -> list[str]:
        """Where the sign-in redirect may lead: the issuer's and the login page's origins."""
        found = {_origin(self.settings.issuer)}
        with self._lock:
            if self._metadata is not None:
                found.add(_origin(self._metadata[1].authorization_endpoint))
        return sorted(found)

    # -- HTTP, each call with the timeout ------------------------------------------------
    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=self.settings.timeout)
            response.raise_for_status()
            value = response.json()
        except (requests.RequestException, ValueError) as error:
            raise BrokerUnavailable() from error
        if not isinstance(value, dict):
            raise BrokerUnavailable()
        return value

    def metadata(self, *, now: datetime) -> Metadata:
        """The broker's endpoints, fetched by discovery and kept for an hour."""
        with self._lock:
            cached = self._metadata
        if cached is not None and now.timestamp() - cached[0] < METADATA_TTL_SECONDS:
            return cached[1]
        document = self._get_json(f"{self.settings.issuer}/.well-known/openid-configuration")
        # Discovery §4.3: the document's issuer must be exactly the one we asked.
        if document.get("issuer") != self.settings.issuer:
            raise WrongIssuer()
        try:
            found = Metadata(
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
            )
        except KeyError as error:
            raise BrokerUnavailable() from error
        with self._lock:
            self._metadata = (now.timestamp(), found)
        return found

    def _key_set(self, jwks_uri: str, *, refresh: bool) -> KeySet:
        if self.keys is None or refresh:
            try:
                self.keys = KeySet.import_key_set(self._get_json(jwks_uri))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as error:
                raise BrokerUnavailable() from error
        return self.keys

    def _session(self, redirect_uri: str, token_endpoint: str) -> OAuth2Session:
        settings = self.settings
        if settings.private_key_file:
            key = Path(settings.private_key_file).read_text()
            session = OAuth2Session(
                settings.client_id,
                key,
                token_endpoint_auth_method="private_key_jwt",  # noqa: S106 - a method name
                redirect_uri=redirect_uri,
                scope=" ".join(settings.scopes),
                code_challenge_method="S256",
                default_timeout=settings.timeout,
            )
            session.register_client_auth_method(PrivateKeyJWT(token_endpoint))
            return session
        return OAuth2Session(
            settings.client_id,
            settings.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            redirect_uri=redirect_uri,
            scope=" ".join(settings.scopes),
            code_challenge_method="S256",
            default_timeout=settings.timeout,
        )

    # -- the flow -------------------------------------------------------------------------
    def authorization_url(self, pending: Pending, *, redirect_uri: str, now: datetime) -> str:
        """Where to send the resident: the broker's login, with PKCE, state, nonce and acr."""
        metadata = self.metadata(now=now)
        extra = (
            {"acr_values": " ".join(self.settings.acr_values)} if self.settings.acr_values else {}
        )
        url, _state = self._session(redirect_uri, metadata.token_endpoint).create_authorization_url(
            metadata.authorization_endpoint,
            state=pending.state,
            code_verifier=pending.verifier,
            nonce=pending.nonce,
            **extra,
        )
        return str(url)

    def finish(
        self,
        params: Mapping[str, str],
        pending: Pending | None,
        *,
        redirect_uri: str,
        now: datetime,
    ) -> Identity:
        """Check the broker's answer, redeem the code and verify the ID token: who signed in."""
        if pending is None or not hmac.compare_digest(
            str(params.get("state", "")).encode(), pending.state.encode()
        ):
            raise StateMismatch()
        if "error" in params:
            if params["error"] == "access_denied":
                raise SignInCancelled()
            raise BrokerRefused()
        # RFC 9207: an `iss` in the answer must be our broker (mix-up attacks).
        if "iss" in params and params["iss"] != self.settings.issuer:
            raise WrongIssuer()
        code = params.get("code")
        if not code:
            raise BrokerRefused()
        id_token, access_token = self.redeem_tokens(
            code, pending, redirect_uri=redirect_uri, now=now
        )
        return self.verify(id_token, pending, now=now, access_token=access_token)

    def redeem(self, code: str, pending: Pending, *, redirect_uri: str, now: datetime) -> str:
        """Exchange the code (with the PKCE verifier) for the broker's ID token."""
        return self.redeem_tokens(code, pending, redirect_uri=redirect_uri, now=now)[0]

    def redeem_tokens(
        self, code: str, pending: Pending, *, redirect_uri: str, now: datetime
    ) -> tuple[str, str | None]:
        """Exchange the code for the ID token and the access token (None if none came)."""
        metadata = self.metadata(now=now)
        session = self._session(redirect_uri, metadata.token_endpoint)
        try:
            token = session.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.verifier,
            )
        except OAuthError as error:
            if getattr(error, "error", "") == "invalid_grant":
                raise CodeRejected() from error
            raise BrokerRefused() from error
        except (requests.RequestException, ValueError) as error:
            raise BrokerUnavailable() from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise BrokerRefused()
        access_token = token.get("access_token")
        return id_token, access_token if isinstance(access_token, str) else None

    def verify(
        self, id_token: str, pending: Pending, *, now: datetime, access_token: str | None = None
    ) -> Identity:
        """The identity in a verified ID token (Core §3.1.3.7), with the configured claims it
        lacks from userinfo when allowed (Core §5.3); a named error otherwise."""
        claims = self._signed_claims(id_token, now=now)
        settings = self.settings
        if claims.get("iss") != settings.issuer:
            raise WrongIssuer()
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or settings.client_id not in audiences:
            raise WrongAudience()
        if len(audiences) > 1 and claims.get("azp") != settings.client_id:
            raise WrongAudience()
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=CLOCK_SKEW_SECONDS,
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise TokenExpired() from error
        except InvalidClaimError as error:
            # Not yet valid or issued in the future: as useless as expired.
            if error.claim in {"iat", "nbf"}:
                raise TokenExpired() from error
            raise BadSignature() from error
        except JoseError as error:
            raise BadSignature() from error
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), pending.nonce.encode()
        ):
            raise NonceMismatch()
        acr = claims.get("acr")
        if settings.acr_values and acr not in settings.acr_values:
            raise AcrMissing()
        if access_token and settings.userinfo == "auto" and self._lacking(claims):
            claims = self._with_userinfo(claims, access_token, now=now)
        return Identity(
            name=self._name(claims),
            personnummer=self._personnummer(claims, now=now),
            acr=str(acr or ""),
            issuer=settings.issuer,
            verified_at=now.isoformat(),
        )

    def _signed_claims(self, id_token: str, *, now: datetime) -> dict[str, Any]:
        jwks_uri = self.metadata(now=now).jwks_uri
        try:
            token = jwt.decode(
                id_token, self._key_set(jwks_uri, refresh=False), algorithms=SIGNING_ALGORITHMS
            )
        except JoseError as error:
            if "kid" not in str(error).lower():
                raise BadSignature() from error
            # A key we have not seen: the broker may have rotated its keys. Fetch once more.
            try:
                token = jwt.decode(
                    id_token, self._key_set(jwks_uri, refresh=True), algorithms=SIGNING_ALGORITHMS
                )
            except JoseError as again:
                raise BadSignature() from again
        except (ValueError, TypeError) as error:
            raise BadSignature() from error
        return dict(token.claims)

    def _lacking(self, claims: Mapping[str, Any]) -> list[str]:
        """The configured claims the ID token does not carry as text."""
        wanted = (self.settings.personnummer_claim, *self.settings.name_claims)
        return [name for name in wanted if not _text(claims.get(name))]

    def _with_userinfo(
        self, claims: dict[str, Any], access_token: str, *, now: datetime
    ) -> dict[str, Any]:
        """The ID token's claims with what it lacks taken from the userinfo response."""
        endpoint = self.metadata(now=now).userinfo_endpoint
        if not endpoint:
            return claims  # nothing to ask: the checks below say what is missing
        info = self.userinfo(endpoint, access_token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not hmac.compare_digest(
            str(info.get("sub", "")).encode(), subject.encode()
        ):
            raise UserinfoMismatch()
        merged = dict(claims)
        for name in self._lacking(claims):
            if _text(info.get(name)):
                merged[name] = info[name]
        return merged

    def userinfo(self, endpoint: str, access_token: str) -> dict[str, Any]:
        """The userinfo response (JSON), fetched with the access token and the timeout."""
        try:
            response = requests.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self.settings.timeout,
            )
        except requests.RequestException as error:
            raise BrokerUnavailable() from error
        if response.status_code in (400, 401, 403):
            raise BrokerRefused()  # the access token was not accepted
        if not response.ok:
            raise BrokerUnavailable()
        # A signed (application/jwt) response is not supported: refused, not guessed at.
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            raise BrokerRefused()
        try:
            value = response.json()
        except ValueError as error:
            raise BrokerRefused() from error
        if not isinstance(value, dict):
            raise BrokerRefused()
        return value

    def _name(self, claims: Mapping[str, Any]) -> str:
        parts = [claims.get(name) for name in self.settings.name_claims]
        words = [str(part).strip() for part in parts if isinstance(part, str) and part.strip()]
        if len(words) != len(parts) or not words:
            raise NameMissing()
        return " ".join(words)

    def _personnummer(self, claims: Mapping[str, Any], *, now: datetime) -> str:
        value = claims.get(self.settings.personnummer_claim)
        if not isinstance(value, str):
            raise PersonnummerMissing()
        try:
            return parse_identity_number(value, today=clock.local_date(now)).canonical()
        except IdentityNumberError as error:
            raise PersonnummerMissing() from error


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_EXTENSION = "intake.eid"


def init_app(app: Any) -> None:
    """Set up the broker for this app if one is configured (EID_ISSUER); else nothing."""
    settings = Settings.from_config(app.config)
    app.extensions[_EXTENSION] = Broker(settings) if settings else None


def broker_of(app: Any) -> Broker | None:
    """This app's broker, or None when e-legitimation is off."""
    found: Broker | None = app.extensions.get(_EXTENSION)
    return found
