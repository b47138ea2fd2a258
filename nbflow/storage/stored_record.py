"""The record at the end of every stored value file: its format, size and checksum.

A stored file is the value's bytes, then this record as JSON, then 16 bytes: the JSON's
length and a magic word. The record travels with the value in the same atomic write, so a
value is never published without it, any process can check a file on its own, and reading
the last few hundred bytes is enough to know whether a file is whole. Readers of the value's
format stop at its end (pickle at its STOP opcode, ``.npy`` after its elements), so a stored
pickle or ``.npy`` file also loads with plain ``pickle.load`` or ``numpy.load``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import IO, Any

from nbflow.storage.checksum_io import CHECKSUM

_MAGIC = b"nbflow\x00\x01"
_TAIL = struct.Struct("<Q8s")
_MAX_RECORD = 1 << 16
_TAIL_READ = 1024


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What is known of a stored value: how to read it, and how to tell it is intact.

    Attributes:
        format: ``"pickle"``, ``"npy"`` or ``"parquet"``.
        size: bytes of the value (the file holds these, then the record).
        checksum: xxh3-128 hex digest of those bytes.
        reason: why a value of a type with its own format was pickled instead, if it was.
    """

    format: str
    size: int
    checksum: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as it appears in files and manifests."""
        record: dict[str, Any] = {"format": self.format, "size": self.size, CHECKSUM: self.checksum}
        if self.reason is not None:
            record["reason"] = self.reason
        return record

    def encode(self) -> bytes:
        """The bytes that follow the value in its file."""
        body = json.dumps(self.to_json(), sort_keys=True).encode()
        return body + _TAIL.pack(len(body), _MAGIC)


def read_record(handle: IO[bytes], file_size: int) -> StoredRecord | str:
    """The record at the end of the open file ``handle`` of ``file_size`` bytes.

    Returns:
        The record, or what is wrong with the file when it has no whole record or the
        record does not match the file's size.
    """
    if file_size == 0:
        return "the file is empty"
    if file_size < _TAIL.size:
        return f"the file is only {file_size} bytes, too short to be a stored value"
    start = max(0, file_size - _TAIL_READ)
    handle.seek(start)
    tail = handle.read(file_size - start)
    length, magic = _TAIL.unpack(tail[-_TAIL.size :])
    if magic != _MAGIC or length > _MAX_RECORD or length + _TAIL.size > file_size:
        return (
            "it does not end with nbflow's integrity record (truncated, or not written by nbflow)"
        )
    end = len(tail) - _TAIL.size
    body = tail[end - length : end] if length <= end else _read_at(handle, file_size, length)
    try:
        found = json.loads(body)
        record = StoredRecord(
            format=str(found["format"]),
            size=int(found["size"]),
            checksum=str(found[CHECKSUM]),
            reason=found.get("reason"),
        )
    except (ValueError, KeyError, TypeError):
        return "its integrity record is damaged"
    expected = record.size + length + _TAIL.size
    if expected != file_size:
        return f"its record says {expected} bytes, but the file holds {file_size}"
    return record


def is_whole_plain_pickle(handle: IO[bytes], file_size: int) -> bool:
    """Whether a file without a record looks like a whole pickle another program wrote (it
    opens with a protocol 2+ header and closes with STOP). Such a file is loaded unchecked,
    and anything wrong with it found while loading is a damaged file."""
    if file_size < 3:
        return False
    handle.seek(0)
    head = handle.read(2)
    handle.seek(file_size - 1)
    return head[:1] == b"\x80" and 2 <= head[1] <= 5 and handle.read(1) == b"."


def _read_at(handle: IO[bytes], file_size: int, length: int) -> bytes:
    handle.seek(file_size - _TAIL.size - length)
    return handle.read(length)
