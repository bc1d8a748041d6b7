"""A whole backup archive encrypted under a passphrase: Argon2id, then AES-256-GCM in chunks.

File layout: header | chunk*, where
    header = magic "INTAKEBK" (8) | version (1) | salt (16) | time cost (1) | memory KiB (4)
             | parallelism (1) | chunk size (4)
    chunk  = length (4) | aead blob (`intake.crypto.aead`); the first one is empty
Each chunk's associated data is the whole header, the chunk's number and whether it is the
last one, so chunks cannot be reordered, dropped, swapped between files or cut off at the end
without the open failing. The key comes from `keywrap.derive` with a fresh random salt.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from argon2.exceptions import HashingError

from intake.crypto import CryptoError, aead, keywrap

MAGIC = b"INTAKEBK"
VERSION = 1
CHUNK_SIZE = 1024 * 1024
# RFC 9106's second recommended option (t=3, 64 MiB): a backup is derived once a day and once
# per restore, so the cost is paid rarely; the passphrase's length does the rest.
COST = keywrap.Cost(time=3, memory_kib=64 * 1024, parallelism=1)
_HEADER = struct.Struct(">8sB16sBIBI")
_LENGTH = struct.Struct(">I")
_OVERHEAD = 1 + aead.NONCE_LEN + 16
MAX_CHUNK = 16 * 1024 * 1024


class WrongPassphrase(CryptoError):
    """The first chunk does not open: a wrong passphrase, or a changed header."""


class Damaged(CryptoError):
    """The passphrase is right but a later part of the file was changed, cut or reordered."""


def _chunk_aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, int(last))


class SealingWriter:
    """A write-only stream that encrypts what it is given into `out`; `close` seals the end."""

    def __init__(self, out: BinaryIO, passphrase: str, *, cost: keywrap.Cost = COST) -> None:
        salt = os.urandom(keywrap.SALT_LEN)
        self._header = _HEADER.pack(
            MAGIC, VERSION, salt, cost.time, cost.memory_kib, cost.parallelism, CHUNK_SIZE
        )
        self._key = keywrap.derive(passphrase, salt, cost)
        self._out = out
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(self._header)
        # An empty first chunk: a wrong passphrase fails here, so damage anywhere in the data
        # can be told apart from a wrong passphrase.
        self._emit(b"", last=False)

    def write(self, data: bytes) -> int:
        """Buffer data; full chunks are encrypted and written at once."""
        if self._closed:
            raise ValueError("write to a closed backup")
        self._buffer += data
        # Keep at least one byte back: the last chunk must be written by `close`, flagged last.
        while len(self._buffer) > CHUNK_SIZE:
            self._emit(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _emit(self, plaintext: bytes, *, last: bool) -> None:
        blob = aead.encrypt(self._key, plaintext, aad=_chunk_aad(self._header, self._index, last))
        self._out.write(_LENGTH.pack(len(blob)) + blob)
        self._index += 1

    def close(self) -> None:
        """Write the last chunk (possibly empty), flagged as the end."""
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def flush(self) -> None:
        """Nothing to flush before `close` (tarfile calls it)."""


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise Damaged("the file ends too early")
    return data


def open_into(source: BinaryIO, passphrase: str, out: BinaryIO) -> None:
    """Decrypt a whole backup into `out`; WrongPassphrase, Damaged or CryptoError if not ours.

    `out` holds every opened chunk before the next is checked: callers write to a private
    temporary file and use it only when this returns."""
    header = source.read(_HEADER.size)
    if len(header) != _HEADER.size or header[:8] != MAGIC:
        raise CryptoError("not an intake backup")
    _magic, version, salt, time_cost, memory, parallelism, chunk_size = _HEADER.unpack(header)
    if version != VERSION:
        raise CryptoError(f"unknown backup version {version}")
    if (
        time_cost > keywrap.MAX_TIME
        or memory > keywrap.MAX_MEMORY_KIB
        or parallelism > keywrap.MAX_PARALLELISM
        or chunk_size > MAX_CHUNK
    ):
        raise WrongPassphrase("the header asks for more work than we allow")
    try:
        key = keywrap.derive(passphrase, salt, keywrap.Cost(time_cost, memory, parallelism))
    except HashingError as error:
        raise WrongPassphrase("the header has impossible cost parameters") from error
    index = 0
    while True:
        (length,) = _LENGTH.unpack(_read_exactly(source, _LENGTH.size))
        if length > chunk_size + _OVERHEAD:
            raise (WrongPassphrase if index == 0 else Damaged)("a chunk is too long")
        blob = _read_exactly(source, length)
        last = _peek_end(source)
        try:
            out.write(aead.decrypt(key, blob, aad=_chunk_aad(header, index, last)))
        except CryptoError as error:
            raise (WrongPassphrase if index == 0 else Damaged)(f"chunk {index}") from error
        if last:
            return
        index += 1


def _peek_end(source: BinaryIO) -> bool:
    """Whether the stream is at its end (seekable files only, which a backup is)."""
    here = source.tell()
    at_end = source.read(1) == b""
    source.seek(here)
    return at_end
