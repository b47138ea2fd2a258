"""Fingerprints of numpy arrays and pandas objects at memory speed.

Fixed-width data (numbers, booleans, datetimes, timedeltas) is hashed straight from its
buffer with xxh3-128 (the ``xxhash`` wheel, imported on first use): no copy for contiguous
arrays, several GB/s. Collision resistance against an adversary is not needed here, only a
stable identity of content. Everything that is not a plain buffer (object and string columns,
nullable and categorical extension arrays, timezone-aware datetimes) goes through pandas'
own ``hash_pandas_object``, which is deterministic across processes and machines.

The digest always includes the dtype and the shape (for frames: column names, index, dtypes),
so equal bytes of different types never collide.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from nbflow.versioning.hashing import UnsupportedValue

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

_CHUNK = 1 << 22
"""Buffers are hashed in chunks of 4 MiB; a buffer's digest is the hash of its chunks'."""

_PARALLEL_FROM = 1 << 24
"""From 16 MiB in total, chunks are hashed by several threads (xxhash releases the GIL)."""

_MAX_THREADS = 4

_LISTED_LABELS = 256
"""Indexes up to this length (column labels, mostly) are encoded label by label."""


def buffer_digests(buffers: Sequence[Any]) -> list[str]:
    """The xxh3-128 digest of each buffer (anything with the buffer protocol, C-contiguous).

    The result depends only on the bytes (never on how many threads hashed them).
    """
    import xxhash

    views = [memoryview(raw).cast("B") for raw in buffers]
    chunks = [
        view[start : start + _CHUNK] for view in views for start in range(0, len(view) or 1, _CHUNK)
    ]
    digests: list[bytes] = [b""] * len(chunks)
    total = sum(len(view) for view in views)
    workers = min(os.cpu_count() or 1, _MAX_THREADS, len(chunks)) if total >= _PARALLEL_FROM else 1

    def work(first: int) -> None:
        for index in range(first, len(chunks), workers):
            digests[index] = xxhash.xxh3_128_digest(chunks[index])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, workers)]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join()
    result: list[str] = []
    taken = 0
    for view in views:
        count = max(1, -(-len(view) // _CHUNK))
        joined = b"".join(digests[taken : taken + count]) + len(view).to_bytes(8, "big")
        result.append(xxhash.xxh3_128_hexdigest(joined))
        taken += count
    return result


def buffer_digest(raw: Any) -> str:
    """The xxh3-128 digest of one buffer (see :func:`buffer_digests`)."""
    return buffer_digests([raw])[0]


def numpy_parts(numpy: ModuleType, value: Any, encode: Callable[[object], str]) -> list[str]:
    """The parts identifying a numpy array or scalar: kind, dtype, shape and content."""
    array = numpy.asarray(value)
    if array.dtype.hasobject:
        # Object arrays hold pointers; fingerprint the Python objects they point to.
        content = encode(array.tolist())
    else:
        content = buffer_digest(numpy.ascontiguousarray(array).reshape(-1).view(numpy.uint8))
    kind = "numpy.ndarray" if isinstance(value, numpy.ndarray) else "numpy.generic"
    return [kind, array.dtype.str, str(array.dtype), repr(array.shape), content]


def pandas_parts(pandas: ModuleType, value: Any, encode: Callable[[object], str]) -> list[str]:
    """The parts identifying a DataFrame or Series: values, index, names and dtypes."""
    parts = [type(value).__qualname__, _index_digest(pandas, value.index, encode)]
    if isinstance(value, pandas.DataFrame):
        parts.append(_index_digest(pandas, value.columns, encode))
        columns = [column for _, column in value.items()]
    else:
        parts.append(encode(value.name))
        columns = [value]
    for column, digest in zip(columns, _values_digests(pandas, columns), strict=True):
        parts += (str(column.dtype), digest)
    return parts


def _values_digests(pandas: ModuleType, columns: list[Any]) -> list[str]:
    """A digest of each column's values: fixed-width data by its buffer (all columns'
    buffers hashed together, in parallel when large), the rest by pandas' hashing."""
    import numpy

    buffers: list[Any] = []
    kinds: list[str] = []
    for column in columns:
        dtype = column.dtype
        if getattr(dtype, "kind", "O") in "biufcmM" and not _is_extension(pandas, dtype):
            values = numpy.ascontiguousarray(column.to_numpy(copy=False))
            buffers.append(values.reshape(-1).view(numpy.uint8))
            kinds.append("b")
        else:
            buffers.append(pandas.util.hash_pandas_object(column, index=False).to_numpy())
            kinds.append("h")
    return [kind + digest for kind, digest in zip(kinds, buffer_digests(buffers), strict=True)]


def _is_extension(pandas: ModuleType, dtype: Any) -> bool:
    return bool(pandas.api.types.is_extension_array_dtype(dtype))


def _index_digest(pandas: ModuleType, index: Any, encode: Callable[[object], str]) -> str:
    head = f"{type(index).__name__}:{index.dtype}:{encode(list(index.names))}:"
    if isinstance(index, pandas.RangeIndex):
        return head + f"{index.start}:{index.stop}:{index.step}"
    if isinstance(index, pandas.MultiIndex):
        return head + "h" + buffer_digest(pandas.util.hash_pandas_object(index).to_numpy())
    if len(index) <= _LISTED_LABELS:
        try:  # column labels, mostly: a few strings, cheaper to encode than to hash
            return head + "l" + encode(index.tolist())
        except UnsupportedValue:
            pass
    return head + _values_digests(pandas, [pandas.Series(index, copy=False)])[0]
