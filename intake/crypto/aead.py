"""AES-256-GCM with a version byte, a random nonce and bound associated data."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.crypto import CryptoError

VERSION = b"\x01"
NONCE_LEN = 12
KEY_LEN = 32


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def encrypt(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate, bound to aad."""
    nonce = os.urandom(NONCE_LEN)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, VERSION + aad)


def decrypt(key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Decrypt; CryptoError on a wrong key, tampering or other aad."""
    if len(blob) < 1 + NONCE_LEN + 16 or blob[:1] != VERSION or len(key) != KEY_LEN:
        raise CryptoError("not a ciphertext of ours")
    nonce = blob[1 : 1 + NONCE_LEN]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_LEN :], VERSION + aad)
    except InvalidTag as error:
        raise CryptoError("ciphertext could not be opened") from error
