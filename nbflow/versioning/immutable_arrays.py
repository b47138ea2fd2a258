"""Digests of numpy arrays that nothing can change, kept for as long as each array lives.

An array whose memory belongs to a ``bytes`` object (``numpy.frombuffer(data, ...)``, and
slices, views and reshapes of it) can never change: ``bytes`` is immutable, and numpy refuses
to make such an array writable. Its digest is kept here and handed back without hashing the
buffer again, so a large immutable input value is hashed once per process, not once per run.

Kept, by design, are only arrays that are immutable all the way down:

- an array that merely has ``flags.writeable = False`` is not: if it owns its memory, the flag
  can be set back to True and the array changed; if it is a view, its base may be writable;
- a memory map opened read-only is not: the file under it can be rewritten;
- the shape, strides and dtype of an array can be reassigned in place, so a kept digest is
  only handed back while they are the ones it was taken with.

Entries are keyed by ``id()`` and hold a weak reference: the entry goes when the array goes,
and an object that later reuses the address never matches (the reference must be to it).
There is no lock: each change is one dict operation, and the weak reference's callback may
run inside any allocation (a garbage collection), where taking a lock held by the same
thread would deadlock.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

Layout = tuple[tuple[int, ...], tuple[int, ...], str, str]
"""What the digest of an array depends on besides its bytes: shape, strides, dtype."""


def is_immutable(numpy: ModuleType, array: Any) -> bool:
    """Whether ``array`` is a numpy array whose memory belongs to a ``bytes`` object.

    Follows ``.base`` through views and ``memoryview.obj`` through memory views down to the
    object that owns the memory; only an exact ``bytes`` owner counts.
    """
    if not isinstance(array, numpy.ndarray) or array.flags.writeable or array.dtype.hasobject:
        return False
    owner: Any = array
    while isinstance(owner, numpy.ndarray):
        owner = owner.base
    while isinstance(owner, memoryview):
        owner = owner.obj
    return type(owner) is bytes


def _layout(array: Any) -> Layout:
    return (array.shape, array.strides, array.dtype.str, str(array.dtype))


class ImmutableDigests:
    """Digests of immutable arrays (see :func:`is_immutable`), each kept while its array lives."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[weakref.ref[Any], Layout, str]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, array: Any) -> str | None:
        """The digest kept for this very array with its current layout, else ``None``."""
        kept = self._kept.get(id(array))
        if kept is None or kept[0]() is not array or kept[1] != _layout(array):
            return None
        return kept[2]

    def keep(self, numpy: ModuleType, array: Any, digest: str) -> None:
        """Keep ``digest`` for ``array`` if the array is immutable; otherwise do nothing."""
        if not is_immutable(numpy, array):
            return
        key = id(array)
        entry = (weakref.ref(array, lambda dead: self._forget(key, dead)), _layout(array), digest)
        self._kept[key] = entry

    def _forget(self, key: int, dead: weakref.ref[Any]) -> None:
        # Runs while the array is freed, before its address can be reused: the entry under
        # ``key`` is this array's unless it was already replaced or cleared.
        kept = self._kept.get(key)
        if kept is not None and kept[0] is dead:
            self._kept.pop(key, None)

    def clear(self) -> None:
        """Forget every kept digest."""
        self._kept.clear()


IMMUTABLE_DIGESTS = ImmutableDigests()
"""The digests of immutable arrays fingerprinted in this process."""
