"""HPKE sealing to an inbox's hybrid key (ML-KEM-768 + X25519): the sealed data class."""

from __future__ import annotations

import pytest

from intake.crypto import CryptoError, sealing

CONTEXT = b"intake:report:v1:7f3c:inbox:1"
PLAINTEXT = '{"answers": {"what_happened": "Barnet är ofta hungrigt."}}'.encode()
# ML-KEM-768 ciphertext (1,088) followed by the X25519 ephemeral public key (32).
ENC_LEN = 1088 + 32
TAG_LEN = 16


@pytest.fixture(scope="module")
def pair() -> sealing.KeyPair:
    """One key pair for the module: generating is cheap, but there is no need."""
    return sealing.generate_keypair()


def test_round_trip(pair: sealing.KeyPair) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    assert sealing.open_sealed(sealed, pair.private, context=CONTEXT) == PLAINTEXT


def test_empty_plaintext_round_trips(pair: sealing.KeyPair) -> None:
    sealed = sealing.seal(b"", pair.public, context=CONTEXT)
    assert sealing.open_sealed(sealed, pair.private, context=CONTEXT) == b""


def test_ciphertext_layout(pair: sealing.KeyPair) -> None:
    # enc | AES-256-GCM ciphertext | tag: the plaintext length shows, nothing else does.
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    assert len(sealed) == ENC_LEN + len(PLAINTEXT) + TAG_LEN
    assert PLAINTEXT not in sealed


def test_two_seals_of_the_same_plaintext_differ(pair: sealing.KeyPair) -> None:
    first = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    second = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    assert first != second
    assert first[:ENC_LEN] != second[:ENC_LEN]  # a fresh encapsulation each time
    assert first[ENC_LEN:] != second[ENC_LEN:]


def test_key_sizes(pair: sealing.KeyPair) -> None:
    assert len(pair.private) == sealing.PRIVATE_LEN == 96
    assert len(pair.public) == sealing.PUBLIC_LEN == 1216


def test_public_from_private_matches(pair: sealing.KeyPair) -> None:
    assert sealing.public_from_private(pair.private) == pair.public


def test_key_pairs_are_fresh() -> None:
    pairs = [sealing.generate_keypair() for _ in range(3)]
    assert len({p.private for p in pairs}) == 3
    assert len({p.public for p in pairs}) == 3
    # Both halves differ: neither the ML-KEM seed nor the X25519 scalar is reused.
    assert len({p.private[: sealing.MLKEM_SEED] for p in pairs}) == 3
    assert len({p.private[sealing.MLKEM_SEED :] for p in pairs}) == 3


def test_wrong_private_key_fails(pair: sealing.KeyPair) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed, sealing.generate_keypair().private, context=CONTEXT)


@pytest.mark.parametrize(
    ("half", "start", "end"),
    [("ML-KEM seed", 0, sealing.MLKEM_SEED), ("X25519 scalar", sealing.MLKEM_SEED, None)],
)
def test_either_half_of_the_hybrid_key_is_needed(
    pair: sealing.KeyPair, half: str, start: int, end: int | None
) -> None:
    # Given the right key with one half swapped for another key's half
    other = sealing.generate_keypair().private
    mixed = bytearray(pair.private)
    mixed[start:end] = other[start:end]
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    # Then it cannot open: breaking one of the two algorithms is not enough
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed, bytes(mixed), context=CONTEXT)


@pytest.mark.parametrize("size", [0, 32, 64, 95, 97])
def test_private_key_of_the_wrong_size_fails(pair: sealing.KeyPair, size: int) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed, b"\x01" * size, context=CONTEXT)


@pytest.mark.parametrize("size", [0, 32, 1184, 1215, 1217])
def test_public_key_of_the_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(CryptoError):
        sealing.seal(PLAINTEXT, b"\x01" * size, context=CONTEXT)


@pytest.mark.parametrize(
    ("region", "index"),
    [
        ("enc: ML-KEM ciphertext, first byte", 0),
        ("enc: ML-KEM ciphertext, last byte", 1087),
        ("enc: X25519 ephemeral key, first byte", 1088),
        ("enc: X25519 ephemeral key, last byte", ENC_LEN - 1),
        ("ciphertext body, first byte", ENC_LEN),
        ("ciphertext body, middle", ENC_LEN + len(PLAINTEXT) // 2),
        ("ciphertext body, last byte", ENC_LEN + len(PLAINTEXT) - 1),
        ("tag, first byte", -TAG_LEN),
        ("tag, last byte", -1),
    ],
)
def test_a_flipped_bit_in_any_region_fails(pair: sealing.KeyPair, region: str, index: int) -> None:
    sealed = bytearray(sealing.seal(PLAINTEXT, pair.public, context=CONTEXT))
    sealed[index] ^= 0x01
    with pytest.raises(CryptoError):
        sealing.open_sealed(bytes(sealed), pair.private, context=CONTEXT)


@pytest.mark.parametrize(
    "cut", [0, 1, ENC_LEN - 1, ENC_LEN, ENC_LEN + TAG_LEN - 1, -1], ids=lambda cut: f"cut{cut}"
)
def test_truncated_ciphertext_fails(pair: sealing.KeyPair, cut: int) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed[:cut], pair.private, context=CONTEXT)


def test_appended_bytes_fail(pair: sealing.KeyPair) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed + b"\x00", pair.private, context=CONTEXT)


@pytest.mark.parametrize(
    "other",
    [
        b"",
        b"intake:report:v1:7f3c:inbox:2",  # moved to another inbox
        b"intake:report:v1:7f3d:inbox:1",  # copied into another report
        b"intake:report:v2:7f3c:inbox:1",  # another schema version
        CONTEXT + b" ",
    ],
)
def test_ciphertext_under_another_context_fails(pair: sealing.KeyPair, other: bytes) -> None:
    sealed = sealing.seal(PLAINTEXT, pair.public, context=CONTEXT)
    with pytest.raises(CryptoError):
        sealing.open_sealed(sealed, pair.private, context=other)
