"""Values that code reads (globals, closure cells, defaults): plain data, or not tracked.

Plain data is versioned by a stable fingerprint of its content and shown by a short repr in
reasons. It is: None, bool, int, float, complex, str, bytes; tuples, lists, dicts, sets and
frozensets of plain data; Enum members whose value is plain data (class, name and value
count); dataclass instances whose fields are plain data; a bare ``object()`` sentinel. A value
is plain only while it stays small: at most :data:`MAX_ITEMS` items and :data:`MAX_CHARS`
characters of text and bytes, nested at most :data:`MAX_DEPTH` deep.

Anything else (a connection, a model, a data frame, a large table) is *not tracked*: it counts
by its type's qualified name only, so a version never depends on a memory address.
"""

from __future__ import annotations

import dataclasses
import enum
import reprlib
import sys
from types import MappingProxyType

from nbflow.versioning.hashing import encode_nested, hash_parts

MAX_ITEMS = 100_000
MAX_CHARS = 10_000_000
MAX_DEPTH = 64

_DOMAIN = "nbflow.code.value.v1"
_LENGTH = 40
_SHOWN = 60

_SCALARS = (type(None), bool, int, float, str, bytes)
_CONTAINERS = (tuple, list, set, frozenset)

_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdict = 6
_repr.maxlevel = 3


class _TooBig(Exception):
    pass


class _NotPlain(Exception):
    pass


def plain_digest(value: object) -> str | None:
    """Return the fingerprint of ``value`` if it is plain data, else ``None``.

    Args:
        value: a global's, closure cell's or default's value.

    Returns:
        40 hex characters, or ``None`` when the value is not plain data or is too large.
    """
    kind = type(value)
    if kind in _SCALARS:
        if kind in (str, bytes) and len(value) > MAX_CHARS:  # type: ignore[arg-type]
            return None
        return _digest(encode_nested(value, None))
    try:
        _check(value, [MAX_ITEMS, MAX_CHARS], 0)
    except (_TooBig, _NotPlain, RecursionError):
        return None
    return _digest(encode_nested(value, _hook))


def shown(value: object) -> str:
    """Return a short, single-line repr of a plain-data value for reasons."""
    if type(value) is object:
        return "object()"
    try:
        text = _repr.repr(value)
    except Exception:
        return f"<{qualified_type(type(value))}>"
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def stdlib_value_digest(value: object) -> str | None:
    """Return the fingerprint of an immutable standard-library value, else ``None``.

    Compiled regular expressions (pattern and flags), paths, dates, times, decimals,
    fractions and UUIDs are versioned by their exact text (their reprs hold no address).
    """
    re_module = sys.modules.get("re")
    if re_module is not None and isinstance(value, re_module.Pattern):
        return _digest(f"re{_text(repr(value.pattern))}{value.flags}")
    for module, names in _STDLIB_VALUE_TYPES:
        found = sys.modules.get(module)
        if found is not None and isinstance(value, tuple(getattr(found, n) for n in names)):
            return _digest(f"{module}{_text(type(value).__qualname__)}{_text(repr(value))}")
    return None


_STDLIB_VALUE_TYPES = (
    ("pathlib", ("PurePath",)),
    ("datetime", ("date", "time", "timedelta", "timezone")),
    ("decimal", ("Decimal",)),
    ("fractions", ("Fraction",)),
    ("uuid", ("UUID",)),
)


def qualified_type(cls: type, relative_to: str | None = None) -> str:
    """Return ``module.qualname`` of ``cls``; the module is left out for builtins and for
    ``relative_to`` (the module of the op, so notebook and snapshot modules read alike)."""
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or module == "builtins" or module == relative_to:
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _digest(encoded: str) -> str:
    return hash_parts(_DOMAIN, encoded)[:_LENGTH]


def _check(value: object, budget: list[int], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _TooBig
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    kind = type(value)
    if kind in _SCALARS or kind is complex or kind is object:
        _count_text(value, budget)
        return
    if isinstance(value, enum.Enum):
        _check(value.value, budget, depth + 1)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _check(getattr(value, field.name), budget, depth + 1)
        return
    if isinstance(value, _SCALARS):  # subclasses, e.g. a str subclass
        _count_text(value, budget)
        return
    if isinstance(value, dict | MappingProxyType):
        for key, item in value.items():
            _check(key, budget, depth + 1)
            _check(item, budget, depth + 1)
        return
    if isinstance(value, _CONTAINERS):  # named tuples too
        for item in value:
            _check(item, budget, depth + 1)
        return
    raise _NotPlain


def _count_text(value: object, budget: list[int]) -> None:
    if isinstance(value, str | bytes):
        budget[1] -= len(value)
        if budget[1] < 0:
            raise _TooBig


def _hook(value: object) -> str | None:
    """Encode what :mod:`hashing` does not: enum values, dataclasses, complex, ``object()``."""
    if isinstance(value, enum.Enum):
        cls = type(value)
        return _digest(
            "enum" + _text(cls.__qualname__) + _text(value.name) + encode_nested(value.value, _hook)
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = ["dataclass", _text(type(value).__qualname__)]
        for field in dataclasses.fields(value):
            parts += (_text(field.name), encode_nested(getattr(value, field.name), _hook))
        return _digest("".join(parts))
    if type(value) is complex:
        return _digest(f"complex{value.real!r},{value.imag!r}")
    if type(value) is object:
        return _digest("object")
    return None


def _text(text: str) -> str:
    return f"s{len(text)}:{text}"
