"""HPKE sealing to an inbox's hybrid post-quantum key (ML-KEM-768 + X25519).

A private key is stored as 96 bytes: the 64-byte ML-KEM seed followed by the 32-byte X25519
scalar. A public key is 1,216 bytes: the ML-KEM-768 encapsulation key (1,184) and the X25519
public key (32). Every ciphertext is bound through HPKE `info` to what it belongs to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from intake.crypto import CryptoError

SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
MLKEM_SEED = 64
MLKEM_PUBLIC = 1184
X25519_LEN = 32
PRIVATE_LEN = MLKEM_SEED + X25519_LEN
PUBLIC_LEN = MLKEM_PUBLIC + X25519_LEN
_RAW = serialization.Encoding.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw


@dataclass(frozen=True)
class KeyPair:
    """A hybrid key pair as bytes."""

    private: bytes
    public: bytes


def generate_keypair() -> KeyPair:
    """A fresh hybrid key pair."""
    kem = mlkem.MLKEM768PrivateKey.generate()
    dh = x25519.X25519PrivateKey.generate()
    private = kem.private_bytes_raw() + dh.private_bytes_raw()
    return KeyPair(private=private, public=public_from_private(private))


def _private_key(private: bytes) -> hpke.MLKEM768X25519PrivateKey:
    if len(private) != PRIVATE_LEN:
        raise CryptoError("private key has the wrong length")
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:MLKEM_SEED])
    dh = x25519.X25519PrivateKey.from_private_bytes(private[MLKEM_SEED:])
    return hpke.MLKEM768X25519PrivateKey(kem, dh)


@functools.lru_cache(maxsize=32)
def _public_key(public: bytes) -> hpke.MLKEM768X25519PublicKey:
    # Cached by the key's own bytes (an inbox has one public key; parsing the ML-KEM key
    # costs a tenth of a millisecond on every submit). Key objects are immutable.
    if len(public) != PUBLIC_LEN:
        raise CryptoError("public key has the wrong length")
    kem = mlkem.MLKEM768PublicKey.from_public_bytes(public[:MLKEM_PUBLIC])
    dh = x25519.X25519PublicKey.from_public_bytes(public[MLKEM_PUBLIC:])
    return hpke.MLKEM768X25519PublicKey(kem, dh)


def public_from_private(private: bytes) -> bytes:
    """The public half of a stored private key."""
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:MLKEM_SEED])
    dh = x25519.X25519PrivateKey.from_private_bytes(private[MLKEM_SEED:])
    return kem.public_key().public_bytes(_RAW, _RAW_PUBLIC) + dh.public_key().public_bytes(
        _RAW, _RAW_PUBLIC
    )


def seal(plaintext: bytes, public: bytes, *, context: bytes) -> bytes:
    """Seal plaintext to a public key, bound to context."""
    return SUITE.encrypt(plaintext, _public_key(public), info=context)


def open_sealed(ciphertext: bytes, private: bytes, *, context: bytes) -> bytes:
    """Open a sealed ciphertext; CryptoError on a wrong key, tampering or another context."""
    try:
        return SUITE.decrypt(ciphertext, _private_key(private), info=context)
    except (InvalidTag, ValueError) as error:
        raise CryptoError("sealed data could not be opened") from error
