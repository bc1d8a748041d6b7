"""Key custody: who can unlock what, and how keys travel between people.

    password --Argon2id--> user key-encryption key --AEAD--> user private key
    user private key --HPKE--> inbox secret (inbox private key + linking key) --HPKE--> report
    recovery code --Argon2id--> wraps the inbox secret as well

At login the user's private key is re-wrapped under a fresh random session key: the key lives
only in the user's cookie, the wrapped private key only in a server-side session row. Neither
alone can read anything; logout and expiry delete the row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from intake.crypto import CryptoError, aead, keywrap, sealing

LINK_KEY_LEN = 32


@dataclass(frozen=True)
class InboxSecret:
    """What a member of an inbox holds: its private key and the shared linking key."""

    private: bytes
    link_key: bytes

    def to_bytes(self) -> bytes:
        """Serialised for sealing or wrapping."""
        return self.private + self.link_key

    @classmethod
    def from_bytes(cls, raw: bytes) -> InboxSecret:
        """Parse the serialised form."""
        if len(raw) != sealing.PRIVATE_LEN + LINK_KEY_LEN:
            raise CryptoError("inbox secret has the wrong length")
        return cls(private=raw[: sealing.PRIVATE_LEN], link_key=raw[sealing.PRIVATE_LEN :])


def new_link_key() -> bytes:
    """A new random linking key (shared by the inboxes of one installation)."""
    return os.urandom(LINK_KEY_LEN)


def user_key_aad(user_id: int) -> bytes:
    """What a user's password-wrapped private key is bound to."""
    return f"intake:user-key:v2:{user_id}".encode()


def wrap_user_key(private: bytes, password: str, *, user_id: int, cost: keywrap.Cost) -> bytes:
    """A user's private key wrapped under their password."""
    return keywrap.wrap(private, password, aad=user_key_aad(user_id), cost=cost)


def unwrap_user_key(blob: bytes, password: str, *, user_id: int) -> bytes:
    """A user's private key from their password; CryptoError if wrong."""
    return keywrap.unwrap(blob, password, aad=user_key_aad(user_id))


def session_aad(session_id: int, user_id: int) -> bytes:
    """What a session's wrapped key is bound to."""
    return f"intake:staff-session:v1:{session_id}:{user_id}".encode()


def wrap_for_session(private: bytes, session_key: bytes, *, session_id: int, user_id: int) -> bytes:
    """The user's private key under the session key held only in the cookie."""
    return aead.encrypt(session_key, private, aad=session_aad(session_id, user_id))


def unwrap_from_session(blob: bytes, session_key: bytes, *, session_id: int, user_id: int) -> bytes:
    """The user's private key for this request; CryptoError without the right cookie."""
    return aead.decrypt(session_key, blob, aad=session_aad(session_id, user_id))


def membership_context(inbox_id: int, user_id: int) -> bytes:
    """What an inbox secret sealed to a member is bound to."""
    return f"intake:membership:v1:{inbox_id}:{user_id}".encode()


def seal_to_member(
    secret: InboxSecret, user_public: bytes, *, inbox_id: int, user_id: int
) -> bytes:
    """Grant: the inbox secret sealed to a member's public key."""
    return sealing.seal(
        secret.to_bytes(), user_public, context=membership_context(inbox_id, user_id)
    )


def open_membership(
    sealed: bytes, user_private: bytes, *, inbox_id: int, user_id: int
) -> InboxSecret:
    """A member's copy of the inbox secret."""
    raw = sealing.open_sealed(sealed, user_private, context=membership_context(inbox_id, user_id))
    return InboxSecret.from_bytes(raw)


def recovery_aad(slug: str) -> bytes:
    """What an inbox's recovery-wrapped secret is bound to."""
    return f"intake:inbox-recovery:v2:{slug}".encode()


def wrap_with_recovery_code(
    secret: InboxSecret, code: str, *, slug: str, cost: keywrap.Cost
) -> bytes:
    """The inbox secret wrapped under its printed recovery code."""
    return keywrap.wrap(
        secret.to_bytes(), keywrap.normalise_code(code), aad=recovery_aad(slug), cost=cost
    )


def unwrap_with_recovery_code(blob: bytes, code: str, *, slug: str) -> InboxSecret:
    """The inbox secret from its recovery code; CryptoError if the code is wrong."""
    raw = keywrap.unwrap(blob, keywrap.normalise_code(code), aad=recovery_aad(slug))
    return InboxSecret.from_bytes(raw)
