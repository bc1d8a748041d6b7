"""Key material wrapped under Argon2id from a secret a person holds; recovery codes."""

from __future__ import annotations

import re
import struct

import pytest

from intake.crypto import CryptoError, keywrap

FAST = keywrap.Cost(time=1, memory_kib=8, parallelism=1)
AAD = b"intake:inbox-recovery:v1:barn-och-unga"
MATERIAL = bytes(range(96))
SECRET = "ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567"
HEADER_LEN = 1 + 16 + 1 + 4 + 1


def test_round_trip() -> None:
    blob = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    assert keywrap.unwrap(blob, SECRET, aad=AAD) == MATERIAL


def test_two_wraps_differ_in_salt_and_ciphertext() -> None:
    first = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    second = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    assert first[1:17] != second[1:17]
    assert first[HEADER_LEN:] != second[HEADER_LEN:]
    assert MATERIAL not in first


@pytest.mark.parametrize(
    "cost",
    [keywrap.Cost(1, 8, 1), keywrap.Cost(2, 16, 1), keywrap.Cost(1, 32, 2), keywrap.Cost(4, 64, 4)],
    ids=str,
)
def test_cost_parameters_travel_in_the_blob(cost: keywrap.Cost) -> None:
    # Given a blob wrapped with some cost
    blob = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=cost)
    # Then its header carries that cost, and unwrap needs nothing but the secret
    version, _salt, time, memory, parallelism = struct.unpack(">B16sBIB", blob[:HEADER_LEN])
    assert (version, time, memory, parallelism) == (
        keywrap.VERSION,
        cost.time,
        cost.memory_kib,
        cost.parallelism,
    )
    assert keywrap.unwrap(blob, SECRET, aad=AAD) == MATERIAL


def test_default_cost_is_the_owasp_level() -> None:
    assert keywrap.Cost() == keywrap.Cost(time=3, memory_kib=64 * 1024, parallelism=1)


def test_argon2id_known_answer() -> None:
    # The reference implementation's Argon2id test vector (phc-winner-argon2, src/test.c):
    # v=19, t=2, m=2^16 KiB, p=1, "password", "somesalt".
    key = keywrap.derive("password", b"somesalt", keywrap.Cost(2, 65536, 1))
    assert key.hex() == "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"


@pytest.mark.parametrize(
    "wrong", ["", "abcde-fghjk-mnpqr-stvwx-yz012-34567", SECRET + "8", SECRET[:-1] + "8"]
)
def test_wrong_secret_fails(wrong: str) -> None:
    blob = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    with pytest.raises(CryptoError):
        keywrap.unwrap(blob, wrong, aad=AAD)


def test_other_aad_fails() -> None:
    # A recovery blob of one inbox cannot be moved to another inbox's row.
    blob = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    with pytest.raises(CryptoError):
        keywrap.unwrap(blob, SECRET, aad=b"intake:inbox-recovery:v1:vuxna")


@pytest.mark.parametrize(
    ("field", "index"),
    [
        ("version", 0),
        ("salt", 1),
        ("salt", 16),
        ("time cost", 17),
        ("memory KiB", 21),
        ("parallelism", 22),
        ("AEAD version", HEADER_LEN),
        ("AEAD nonce", HEADER_LEN + 1),
        ("AEAD ciphertext", HEADER_LEN + 13),
        ("AEAD tag", -1),
    ],
)
def test_a_flipped_bit_anywhere_fails(field: str, index: int) -> None:
    blob = bytearray(keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST))
    blob[index] ^= 0x01
    with pytest.raises(CryptoError):
        keywrap.unwrap(bytes(blob), SECRET, aad=AAD)


@pytest.mark.parametrize(
    ("time", "memory", "parallelism"),
    [(0, 8, 1), (1, 0, 1), (1, 8, 0), (1, 8, 2), (2, 16, 1)],
    ids=lambda v: str(v),
)
def test_a_rewritten_cost_fails_as_a_crypto_error(time: int, memory: int, parallelism: int) -> None:
    # Given a blob whose cost fields were rewritten, including values Argon2 itself refuses
    blob = bytearray(keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST))
    blob[17:23] = struct.pack(">BIB", time, memory, parallelism)
    # Then unwrapping fails like any other tampering, never with an Argon2 error
    with pytest.raises(CryptoError):
        keywrap.unwrap(bytes(blob), SECRET, aad=AAD)


@pytest.mark.parametrize("cut", [0, 1, HEADER_LEN, HEADER_LEN + 28, -1])
def test_truncated_blob_fails(cut: int) -> None:
    blob = keywrap.wrap(MATERIAL, SECRET, aad=AAD, cost=FAST)
    with pytest.raises(CryptoError):
        keywrap.unwrap(blob[:cut], SECRET, aad=AAD)


CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}")


def test_recovery_code_format() -> None:
    codes = {keywrap.new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert CODE.fullmatch(code), code
        assert not set(code) & set("ILOU")


def test_recovery_code_uses_the_whole_alphabet() -> None:
    # 50 codes x 30 symbols: every one of the 32 symbols shows up (a skewed choice would not).
    seen = set("".join(keywrap.new_recovery_code() for _ in range(50)).replace("-", ""))
    assert seen == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@pytest.mark.parametrize(("groups", "size"), [(4, 4), (8, 5)])
def test_recovery_code_shape_is_configurable(groups: int, size: int) -> None:
    code = keywrap.new_recovery_code(groups=groups, size=size)
    assert [len(part) for part in code.split("-")] == [size] * groups


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("ABCDE-FGHJK", "ABCDE-FGHJK"),
        ("abcde-fghjk", "ABCDE-FGHJK"),
        ("abcde fghjk", "ABCDE-FGHJK"),
        ("  ABCDEFGHJK  ", "ABCDE-FGHJK"),
        ("ab cd ef gh jk", "ABCDE-FGHJK"),
        ("ABCDE--FGHJK\n", "ABCDE-FGHJK"),
        ("OoOoO-00000", "00000-00000"),
        ("IiLlI-11111", "11111-11111"),
        ("7ol1i-k2m3n", "70111-K2M3N"),
        ("", ""),
    ],
)
def test_normalise_code(typed: str, canonical: str) -> None:
    assert keywrap.normalise_code(typed) == canonical


def test_a_fresh_code_is_already_canonical() -> None:
    code = keywrap.new_recovery_code()
    assert keywrap.normalise_code(code) == code


def test_a_sloppily_typed_code_unwraps() -> None:
    # Given a blob wrapped under a printed code (as bootstrap does)
    code = "7K0M1-ABCDE-FGHJK-MNPQR-STVWX-YZ234"
    blob = keywrap.wrap(MATERIAL, code, aad=AAD, cost=FAST)
    # When someone types it in lower case, with spaces, O for 0 and l for 1
    typed = "7kom l abcde fghjk mnpqr stvwx yz234"
    # Then the normalised code opens it
    assert keywrap.unwrap(blob, keywrap.normalise_code(typed), aad=AAD) == MATERIAL
