"""AES-256-GCM with a version byte and bound associated data (drafts, protected data)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from intake.crypto import CryptoError, aead

AAD = b"intake:draft:v1:abc"
PLAINTEXT = "Barnet är ofta hungrigt.".encode()

# A vector pinned once from AESGCM directly: key 00..1f, nonce cafebabefacedbaddecaf888,
# associated data b"\x01" + b"intake:test:v1". It fixes our blob layout (version | nonce |
# ciphertext and tag) and that the version byte is authenticated with the caller's aad, so
# stored drafts and protected rows stay readable across releases.
KNOWN_KEY = bytes(range(32))
KNOWN_NONCE = bytes.fromhex("cafebabefacedbaddecaf888")
KNOWN_AAD = b"intake:test:v1"
KNOWN_BLOB = bytes.fromhex(
    "01cafebabefacedbaddecaf888c8c2d248cf0e6fd8e2797db21d69e81f6555ae36ad70"
    "0d0060aaff91a7babf6f6b7395c571c3065bc8"
)


def test_round_trip() -> None:
    key = aead.new_key()
    assert aead.decrypt(key, aead.encrypt(key, PLAINTEXT, aad=AAD), aad=AAD) == PLAINTEXT


def test_empty_plaintext_round_trips() -> None:
    key = aead.new_key()
    assert aead.decrypt(key, aead.encrypt(key, b"", aad=AAD), aad=AAD) == b""


def test_new_keys_are_256_bits_and_fresh() -> None:
    keys = {aead.new_key() for _ in range(8)}
    assert len(keys) == 8
    assert all(len(key) == aead.KEY_LEN == 32 for key in keys)


def test_blob_layout() -> None:
    blob = aead.encrypt(aead.new_key(), PLAINTEXT, aad=AAD)
    assert blob[:1] == aead.VERSION
    assert len(blob) == 1 + aead.NONCE_LEN + len(PLAINTEXT) + 16


def test_two_encryptions_of_the_same_plaintext_differ() -> None:
    key = aead.new_key()
    first = aead.encrypt(key, PLAINTEXT, aad=AAD)
    second = aead.encrypt(key, PLAINTEXT, aad=AAD)
    assert first != second
    assert first[1 : 1 + aead.NONCE_LEN] != second[1 : 1 + aead.NONCE_LEN]


def test_known_vector_opens() -> None:
    assert aead.decrypt(KNOWN_KEY, KNOWN_BLOB, aad=KNOWN_AAD) == PLAINTEXT


def test_known_vector_is_what_encrypt_writes_with_that_nonce(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The nonce is the only randomness: fix it and the output is the pinned vector.
    monkeypatch.setattr(aead, "os", SimpleNamespace(urandom=lambda n: KNOWN_NONCE[:n]))
    assert aead.encrypt(KNOWN_KEY, PLAINTEXT, aad=KNOWN_AAD) == KNOWN_BLOB


def test_wrong_key_fails() -> None:
    blob = aead.encrypt(aead.new_key(), PLAINTEXT, aad=AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(aead.new_key(), blob, aad=AAD)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_of_the_wrong_size_fails(size: int) -> None:
    blob = aead.encrypt(aead.new_key(), PLAINTEXT, aad=AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(b"k" * size, blob, aad=AAD)


@pytest.mark.parametrize(
    ("region", "index"),
    [
        ("version", 0),
        ("nonce", 1),
        ("nonce", aead.NONCE_LEN),
        ("ciphertext body", 1 + aead.NONCE_LEN),
        ("ciphertext body", 1 + aead.NONCE_LEN + len(PLAINTEXT) - 1),
        ("tag", -16),
        ("tag", -1),
    ],
)
def test_a_flipped_bit_anywhere_fails(region: str, index: int) -> None:
    key = aead.new_key()
    blob = bytearray(aead.encrypt(key, PLAINTEXT, aad=AAD))
    blob[index] ^= 0x01
    with pytest.raises(CryptoError):
        aead.decrypt(key, bytes(blob), aad=AAD)


@pytest.mark.parametrize("cut", [0, 1, 1 + aead.NONCE_LEN, 1 + aead.NONCE_LEN + 15])
def test_truncated_blob_fails(cut: int) -> None:
    key = aead.new_key()
    blob = aead.encrypt(key, b"", aad=AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(key, blob[:cut], aad=AAD)


@pytest.mark.parametrize(
    "other",
    [b"", b"intake:draft:v1:abd", b"intake:draft:v2:abc", AAD + b"\x00", b"\x01" + AAD],
)
def test_other_associated_data_fails(other: bytes) -> None:
    key = aead.new_key()
    blob = aead.encrypt(key, PLAINTEXT, aad=AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(key, blob, aad=other)
