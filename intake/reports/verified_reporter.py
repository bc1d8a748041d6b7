"""The reporter verified with e-legitimation, and how their messages are found after sign-in.

Shared by återkoppling (intake.reports.feedback) and the caseworkers' questions in the
reporter's channel (intake.reports.channel). A message meant to be read after signing in with
e-legitimation, without the follow-up code, is kept

- protected under the application key (intake.crypto.protected), bound to the message and
  report ids (the AAD intake.appkeys re-encrypts with on key rotation), and
- findable by `reporter_tag`, an HMAC-SHA256 of the verified personnummer under the
  application key (one tag per key version; old versions stay loaded for reading).

Why not sealed to a key the reporter holds: the reporter brings nothing but the e-legitimation
sign-in, which gives the server a personnummer, and a personnummer is no secret (a birth date
and four digits: about ten thousand guesses). A key derived from it would only pretend to keep
the server out. So the running server can read these messages; a copy of the database without
the instance secrets cannot (AEAD ciphertext, keyed tags).
"""

from __future__ import annotations

import hashlib
import hmac

from intake import appkeys
from intake.crypto import CryptoError, protected
from intake.reports.models import ChannelMessage

EID_METHOD = "e-legitimation"


def verified_personnummer(verified: dict[str, str] | None) -> str | None:
    """The personnummer of an identity verified with e-legitimation, or None."""
    if not verified or verified.get("method") != EID_METHOD:
        return None
    return verified.get("personnummer") or None


def _tag(personnummer: str, version: int, key: bytes) -> str:
    # The label predates the channel's questions (it began with återkoppling); kept so that
    # tags already stored still match.
    digest = hmac.new(key, f"intake:feedback-tag:v1:{personnummer}".encode(), hashlib.sha256)
    return f"{version}:{digest.hexdigest()}"


def tags(personnummer: str) -> list[str]:
    """The tags of a personnummer under every loaded application key version."""
    return [_tag(personnummer, v, k) for v, k in sorted(appkeys.keys().items())]


def _aad(message: ChannelMessage) -> bytes:
    # The same binding as intake.appkeys.protected_columns() uses for this column.
    return f"intake:feedback:v1:{message.id}:{message.report_id}".encode()


def protect(message: ChannelMessage, content: bytes, personnummer: str) -> None:
    """Keep `content` for the verified reporter: protected, and tagged with their personnummer."""
    keys = appkeys.keys()
    version = max(keys)
    message.protected = protected.protect(content, keys, aad=_aad(message))
    message.reporter_tag = _tag(personnummer, version, keys[version])


def unprotect(message: ChannelMessage) -> bytes | None:
    """The content kept for the verified reporter, or None (none kept, or it does not open)."""
    if message.protected is None:
        return None
    try:
        return protected.unprotect(message.protected, appkeys.keys(), aad=_aad(message))
    except CryptoError:
        return None
