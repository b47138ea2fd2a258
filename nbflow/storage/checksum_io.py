"""File wrappers that checksum what passes through them, so stored values are hashed while
they stream to or from disk, never held whole in memory for it.

The checksum is xxh3-128: on the machines measured it hashes ~18 GB/s, so hashing a value as
it is written or read costs a few percent of the disk time (see ``bench/io.py``).
"""

from __future__ import annotations

from typing import IO, Any

# A bytes-like object (pickle also hands writers a ``PickleBuffer``).
Bytes = bytes | bytearray | memoryview

CHECKSUM = "xxh3_128"
"""Name of the checksum recorded with every stored value."""

_DRAIN_CHUNK = 1 << 20


def _new_hash() -> Any:
    import xxhash  # imported at first use: ``import nbflow`` stays light

    return xxhash.xxh3_128()


def checksum_of(data: Bytes) -> str:
    """The checksum of ``data`` in one call (for values already in memory or mapped)."""
    digest = _new_hash()
    digest.update(data)
    return str(digest.hexdigest())


class HashingWriter:
    """Writes to ``sink``, hashing and counting every byte."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink
        self._hash = _new_hash()
        self.size = 0

    def write(self, data: Bytes) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._sink.write(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def fileno(self) -> int:
        """The descriptor of the file written to (an error when the sink has none)."""
        return int(self._sink.fileno())

    def flush(self) -> None:
        """Nothing to do: the file is flushed once, when it is published."""

    @property
    def closed(self) -> bool:
        return False

    def hexdigest(self) -> str:
        """The checksum of everything written so far."""
        return str(self._hash.hexdigest())


class HashingReader:
    """Reads the first ``limit`` bytes of ``source``, hashing every byte handed out.

    Reads never go past ``limit``, so a value's reader cannot run into the record that
    follows it in the file. :meth:`finish` hashes what the reader left unread.
    """

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source = source
        self._left = limit
        self._hash = _new_hash()

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._source.read(wanted)
        self._left -= len(data)
        self._hash.update(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        view = memoryview(buffer).cast("B")
        if view.nbytes > self._left:
            view = view[: self._left]
        done = self._source.readinto(view)  # type: ignore[attr-defined]
        done = done or 0
        self._left -= done
        self._hash.update(view[:done])
        return int(done)

    def readline(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._source.readline(wanted)
        self._left -= len(data)
        self._hash.update(data)
        return data

    def read_exactly_into(self, buffer: bytearray | memoryview) -> int:
        """Fill ``buffer`` (fewer bytes only at the end of the value); return the count."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < view.nbytes:
            done = self.readinto(view[filled:])
            if done == 0:
                break
            filled += done
        return filled

    def finish(self) -> str:
        """Hash the rest of the value and return the checksum of all of it."""
        while self._left > 0 and self.read(_DRAIN_CHUNK):
            pass
        return str(self._hash.hexdigest())

    @property
    def left(self) -> int:
        """Bytes of the value not read yet."""
        return self._left
