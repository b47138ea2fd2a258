"""Fingerprints of step outputs, for early cutoff: taken only where they are cheap.

After a memoized step runs, each output value gets the same stable fingerprint input values
get (:func:`nbflow.versioning.fingerprint`), so a consumer whose upstream re-ran but returned
an equal value can stay memoized. Fingerprinting must never cost more than a small share of
storing the value, so a value is fingerprinted only when it is one of:

- numpy arrays and pandas objects of any size (their buffers are hashed at memory speed;
  object and string columns go through pandas' vectorised hashing);
- built-in containers, dataclasses and registered types holding at most
  :data:`MAX_ELEMENTS` elements in total, with at most :data:`MAX_TEXT_BYTES` of str/bytes.

Anything larger, or without a stable fingerprint, gets ``None``: its consumers are versioned by
the upstream's version instead (no early cutoff, never a wrong version). The figures behind
these limits are in ``bench/early_cutoff.py``.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Final

from nbflow.versioning.fingerprint import fingerprint

MAX_ELEMENTS: Final = 10_000
"""Most elements (container items, dataclass fields, scalars) a Python value may hold."""

MAX_TEXT_BYTES: Final = 64 * 2**20
"""Most str and bytes data, in total, a Python value may hold."""

_CONTAINERS = (list, tuple, set, frozenset)


def output_fingerprint(value: object) -> str | None:
    """The fingerprint of an output value, or ``None`` when it is too large or has none.

    Args:
        value: what a step produced.

    Returns:
        40 hex characters, or ``None``.

    Examples:
        >>> output_fingerprint([1, 2, 3]) == output_fingerprint([1, 2, 3])
        True
        >>> output_fingerprint(object()) is None
        True
    """
    if not _small_enough(value):
        return None
    try:
        return fingerprint(value)
    except Exception:  # no stable fingerprint (or a user's registered function failed)
        return None


def _small_enough(value: object) -> bool:
    elements, text = 0, 0
    pending = [value]
    while pending:
        item = pending.pop()
        elements += 1
        if elements > MAX_ELEMENTS:
            return False
        if isinstance(item, str | bytes | bytearray):
            text += len(item)
            if text > MAX_TEXT_BYTES:
                return False
        elif isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, _CONTAINERS):
            pending += item
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            pending += (getattr(item, f.name) for f in dataclasses.fields(item))
        elif _object_array_size(item) > MAX_ELEMENTS - elements:
            return False
    return True


def _object_array_size(item: object) -> int:
    """Elements of a numpy object array (hashed one by one); 0 for anything else."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(item, numpy.ndarray) and item.dtype.hasobject:
        return int(item.size)
    return 0
