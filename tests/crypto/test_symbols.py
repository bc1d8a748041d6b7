"""Random symbols for codes people read: only the alphabet, the asked length, no bias."""

from __future__ import annotations

from collections import Counter

import pytest

from intake.crypto import symbols
from intake.crypto.symbols import random_symbols

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols, as references and codes use


@pytest.mark.parametrize("count", [0, 1, 8, 24, 200])
def test_only_symbols_of_the_alphabet_in_the_asked_number(count: int) -> None:
    drawn = random_symbols(ALPHABET, count)
    assert len(drawn) == count
    assert set(drawn) <= set(ALPHABET)


def test_every_byte_below_the_limit_maps_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed every byte value once, each symbol comes out equally often: 248 = 8 × 31 bytes are
    used, the 8 bytes above the last whole multiple of 31 are thrown away."""
    monkeypatch.setattr(symbols.secrets, "token_bytes", lambda n: bytes(range(256))[:n])
    drawn = random_symbols(ALPHABET, 248)
    assert Counter(drawn) == dict.fromkeys(ALPHABET, 8)


def test_rejected_bytes_are_replaced_by_new_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = iter([bytes([255, 254, 253, 252]), bytes([0, 1])])
    monkeypatch.setattr(symbols.secrets, "token_bytes", lambda n: next(reads)[:n])
    assert random_symbols(ALPHABET, 2) == "23"


@pytest.mark.parametrize("alphabet", ["", "A", "AAB", "x" * 257])
def test_an_alphabet_without_two_distinct_symbols_is_refused(alphabet: str) -> None:
    with pytest.raises(ValueError, match="alphabet"):
        random_symbols(alphabet, 4)


def test_a_large_sample_is_spread_over_every_symbol() -> None:
    counts = Counter(random_symbols(ALPHABET, 31 * 400))
    assert set(counts) == set(ALPHABET)
    # Each symbol's expected count is 400 (sd ≈ 19.7); 300–500 is beyond five sd either way.
    assert all(300 <= n <= 500 for n in counts.values())
