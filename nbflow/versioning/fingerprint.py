"""Stable fingerprints of input values, config values and defaults, with a registry for user types.

How a value is fingerprinted, first match wins:

1. built-in canonical types (None, bool, int, float, str, bytes, list, tuple, dict, set,
   frozenset; exact types) by :func:`nbflow.versioning.hashing.canonical`, recursing into
   containers, so a registered type may sit inside a list or dict;
2. a function registered for the value's type (or a base class) with
   :func:`register_fingerprint`;
3. dataclass instances: class qualname and every field, in definition order;
4. numpy arrays and scalars, pandas DataFrames and Series, but only when ``numpy`` or
   ``pandas`` is already in ``sys.modules`` (a value of their types cannot exist otherwise;
   this module never imports them). The digest of an array that nothing can change (its
   memory belongs to a ``bytes`` object) is kept while the array lives and not computed
   again (:mod:`nbflow.versioning.immutable_arrays`);
5. Enum members and subclasses of the canonical types, canonically.

Anything else raises :class:`~nbflow.errors.UnversionableValueError`: nbflow never falls back to
``repr()`` (which may contain a memory address), ``hash()`` or ``id()``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.errors import UnversionableValueError, VersioningError
from nbflow.versioning.array_fingerprint import numpy_parts, pandas_parts
from nbflow.versioning.hashing import (
    CANONICAL_TYPES,
    UnsupportedValue,
    encode,
    encode_nested,
    hash_parts,
    type_name,
)
from nbflow.versioning.immutable_arrays import IMMUTABLE_DIGESTS

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

_DOMAIN = "nbflow.value.v1"
_LENGTH = 40

T = TypeVar("T")


@functools.singledispatch
def _registered(value: object) -> object:
    """Registry of user fingerprint functions; the default means "nothing registered"."""
    return _NOTHING_REGISTERED


_NOTHING_REGISTERED = object()
_DEFAULT_IMPL = _registered.dispatch(object)


def register_fingerprint(cls: type[T], fn: Callable[[T], object]) -> Callable[[T], object]:
    """Teach nbflow how to fingerprint values of ``cls`` (and its subclasses).

    ``fn`` returns a *token* that identifies the value's content: a str, or any value nbflow
    can fingerprint (e.g. a tuple of fields). The fingerprint is derived from the value's
    class qualname and the token, so two types returning the same token still differ.

    Args:
        cls: the type to register.
        fn: maps a value of ``cls`` to its token. Must be deterministic across processes.

    Returns:
        ``fn`` unchanged.

    Raises:
        VersioningError: ``cls`` is a built-in canonical type, whose encoding is fixed.

    Examples:
        >>> class Point:
        ...     def __init__(self, x: int, y: int) -> None:
        ...         self.x, self.y = x, y
        >>> _ = register_fingerprint(Point, lambda p: (p.x, p.y))
        >>> fingerprint(Point(1, 2)) == fingerprint(Point(1, 2))
        True
    """
    if not isinstance(cls, type):
        raise VersioningError(
            f"register_fingerprint() needs a class, got {cls!r}.\n"
            "Fix: pass the type first, e.g. register_fingerprint(MyType, my_fingerprint_fn)."
        )
    if cls in CANONICAL_TYPES or cls is object:
        raise VersioningError(
            f"Type {cls.__qualname__!r} has a built-in fingerprint that cannot be replaced.\n"
            "Fix: register a function for your own subclass instead."
        )
    _registered.register(cls, fn)
    return fn


def fingerprint(value: object) -> str:
    """Return a stable 40-hex-character digest of ``value``.

    Equal values of the same type give the same fingerprint in every process and on every
    machine; dict key order and set order never matter.

    Args:
        value: an input value, config value or default.

    Returns:
        40 lowercase hex characters.

    Raises:
        UnversionableValueError: ``value`` (or something inside it) has no stable fingerprint;
            the message names the type and the remedies.

    Examples:
        >>> fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
        True
    """
    return fingerprint_as(value, "value")


def fingerprint_as(value: object, label: str) -> str:
    """Like :func:`fingerprint`, naming the value ``label`` (e.g. ``"config['x']"``) in errors."""
    return _digest(encode(value, _hook, label, _fingerprint_error))


def _digest(*parts: str) -> str:
    return hash_parts(_DOMAIN, *parts)[:_LENGTH]


def _encoded(value: object) -> str:
    return encode_nested(value, _hook)


def _hook(value: object) -> str | None:
    impl = _registered.dispatch(type(value))
    if impl is not _DEFAULT_IMPL:
        token = impl(value)
        return _digest("registered", type(value).__qualname__, _encoded(token))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_digest(value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray | numpy.generic):
        return _numpy_digest(numpy, value)
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame | pandas.Series):
        return _pandas_digest(pandas, value)
    return None


def _dataclass_digest(value: Any) -> str:
    parts = ["dataclass", type(value).__qualname__]
    for field in dataclasses.fields(value):
        try:
            encoded = _encoded(getattr(value, field.name))
        except UnsupportedValue as exc:
            exc.path.insert(0, f".{field.name}")
            raise
        parts += (field.name, encoded)
    return _digest(*parts)


def _numpy_digest(numpy: ModuleType, value: Any) -> str:
    kept = IMMUTABLE_DIGESTS.get(value)
    if kept is not None:
        return kept
    digest = _digest(*numpy_parts(numpy, value, _encoded))
    IMMUTABLE_DIGESTS.keep(numpy, value, digest)
    return digest


def _pandas_digest(pandas: ModuleType, value: Any) -> str:
    return _digest("pandas", *pandas_parts(pandas, value, _encoded))


def _fingerprint_error(exc: UnsupportedValue, where: str) -> Exception:
    cls = type(exc.value)
    return UnversionableValueError(
        f"Cannot fingerprint {where}: nbflow has no stable fingerprint for values of type "
        f"{type_name(cls)!r} (it never uses repr(), hash() or id(), which change between "
        "runs).\nFix: register one with nbflow.versioning.register_fingerprint("
        f'{cls.__qualname__}, fn), give the op an explicit version= (e.g. @op(version="1")), '
        "or produce the value in an upstream op."
    )
