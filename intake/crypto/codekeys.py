"""A reporter's channel key pair, derived from the follow-up code (HKDF-SHA256).

The follow-up code carries 120 random bits (intake.reports.followup); HKDF of the whole typed
code with a fixed info string gives the 64-byte ML-KEM-768 seed and the 32-byte X25519 scalar
of an inbox-style hybrid key pair (intake.crypto.sealing). At submit the server derives the pair,
keeps only the public key and forgets the rest; later the private key is derived again from
the code the reporter types, for that request only. Nothing stored opens what is sealed to it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from intake.crypto import sealing

_INFO = b"intake:reporter-channel:v1:mlkem768-x25519"
_SALT = b"intake:reporter-channel:salt:v1"


def private_from_code(code: str) -> bytes:
    """The 96-byte private key (ML-KEM seed + X25519 scalar) for a normalised follow-up code."""
    if not code:
        raise ValueError("empty code")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=sealing.PRIVATE_LEN, salt=_SALT, info=_INFO)
    return hkdf.derive(code.encode())


def keypair_from_code(code: str) -> sealing.KeyPair:
    """The key pair for a normalised follow-up code."""
    private = private_from_code(code)
    return sealing.KeyPair(private=private, public=sealing.public_from_private(private))
