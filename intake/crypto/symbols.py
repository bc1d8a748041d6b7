"""Random codes read by people: symbols drawn uniformly from an alphabet, one CSPRNG read.

`secrets.choice` reads the OS random source once per symbol; a follow-up code and a reference
need 40 symbols on every submit. Here the bytes come from one `secrets.token_bytes` call and
are mapped without bias by rejection: only bytes below the largest multiple of the alphabet's
size are used.
"""

from __future__ import annotations

import secrets


def random_symbols(alphabet: str, count: int) -> str:
    """`count` symbols, each uniformly and independently from `alphabet` (2–256 symbols)."""
    size = len(alphabet)
    if not 2 <= size <= 256 or len(set(alphabet)) != size:
        raise ValueError("the alphabet needs 2 to 256 distinct symbols")
    limit = 256 - 256 % size
    chosen: list[str] = []
    while len(chosen) < count:
        for byte in secrets.token_bytes(2 * (count - len(chosen))):
            if byte < limit:
                chosen.append(alphabet[byte % size])
                if len(chosen) == count:
                    break
    return "".join(chosen)
