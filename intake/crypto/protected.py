"""Protected data: AEAD under the application key, versioned so keys can be rotated.

Blob: version (2 bytes, big-endian) | aead blob. The service can read protected data itself
(it must, to send reminders or check a TOTP code unattended); a copy of the database without
the instance secrets cannot.
"""

from __future__ import annotations

from collections.abc import Mapping

from intake.crypto import CryptoError, aead


def protect(plaintext: bytes, keys: Mapping[int, bytes], *, aad: bytes) -> bytes:
    """Encrypt under the newest application key."""
    version = max(keys)
    return version.to_bytes(2, "big") + aead.encrypt(keys[version], plaintext, aad=aad)


def unprotect(blob: bytes, keys: Mapping[int, bytes], *, aad: bytes) -> bytes:
    """Decrypt with the key version the blob names."""
    if len(blob) < 3:
        raise CryptoError("not a protected blob")
    version = int.from_bytes(blob[:2], "big")
    if version not in keys:
        raise CryptoError(f"application key version {version} is not loaded")
    return aead.decrypt(keys[version], blob[2:], aad=aad)


def key_version(blob: bytes) -> int:
    """The application key version a blob was written under."""
    return int.from_bytes(blob[:2], "big")
