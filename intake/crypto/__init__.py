"""The only package that imports `cryptography` and `argon2`.

- `sealing`: HPKE (RFC 9180), ML-KEM-768 + X25519, for sealed data (reports and more).
- `aead`: AES-256-GCM with bound associated data, for drafts and protected data.
- `keywrap`: Argon2id from a secret (recovery code, password) wrapping key material.
"""

from __future__ import annotations


class CryptoError(Exception):
    """A ciphertext could not be opened: wrong key, tampered, or bound elsewhere."""
