"""Frozen values: an object kept as pickled bytes, so that every read is a new copy.

``freeze`` pickles with protocol 5. Large contiguous buffers (NumPy arrays, the blocks of a
DataFrame) travel out of band: pickle hands them over as views of the original's memory,
and ``freeze`` copies each one, so the frozen value shares nothing with the object it came
from. ``FrozenValue.thaw`` unpickles onto fresh, writable copies of those buffers, so no
two reads share memory either: whatever a reader does to its copy, the frozen value and
every other reader stay as they were.

Buffers of ``HUGE_PAGE_BYTES`` or more are copied into private anonymous memory maps that
ask for transparent huge pages where the platform offers them (Linux): a 100 MB copy then
takes about half the time of a ``bytearray`` copy, which spends most of its time in page
faults. Elsewhere every buffer is a ``bytearray``. See ``bench/isolation.py``.
"""

from __future__ import annotations

import mmap
import pickle
from dataclasses import dataclass
from typing import Any, Final

HUGE_PAGE_BYTES: Final = 2 * 1024 * 1024
"""Buffers at least this large are copied into huge-page memory maps where possible."""

_HUGE_PAGES: Final = all(hasattr(mmap, name) for name in ("MADV_HUGEPAGE", "MAP_PRIVATE"))

WritableBuffer = bytearray | mmap.mmap


def copy_buffer(view: memoryview) -> WritableBuffer:
    """A writable copy of the bytes of ``view``, sharing no memory with it."""
    size = view.nbytes
    if size < HUGE_PAGE_BYTES or not _HUGE_PAGES:
        return bytearray(view)
    # MAP_PRIVATE: a forked child that writes gets its own pages, never the parent's.
    mapped = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mapped.madvise(mmap.MADV_HUGEPAGE)
    memoryview(mapped)[:] = view.cast("B")
    return mapped


@dataclass(frozen=True, slots=True, eq=False)
class FrozenValue:
    """A pickled object and copies of its out-of-band buffers; ``thaw`` makes a new copy."""

    data: bytes
    buffers: tuple[WritableBuffer, ...]

    @property
    def nbytes(self) -> int:
        """Memory held: the pickle stream and every buffer."""
        return len(self.data) + sum(len(b) for b in self.buffers)

    def thaw(self) -> Any:
        """A new copy of the object, independent of this value and of every other copy.

        Raises:
            Exception: whatever unpickling raises (e.g. the object's class was deleted).
        """
        fresh = [copy_buffer(memoryview(b)) for b in self.buffers]
        return pickle.loads(self.data, buffers=fresh)


def freeze(obj: Any) -> FrozenValue:
    """``obj`` pickled (protocol 5), large buffers copied out of band.

    Raises:
        Exception: whatever pickling raises for an object pickle cannot store (a generator,
            a lock, an open connection, a lambda, ...).
    """
    views: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=views.append)
    try:
        raws = [view.raw() for view in views]
    except BufferError:  # a non-contiguous buffer: keep everything in band instead
        return FrozenValue(pickle.dumps(obj, protocol=5), ())
    return FrozenValue(data, tuple(copy_buffer(raw) for raw in raws))
