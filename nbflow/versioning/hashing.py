"""Domain-tagged sha256 over length-prefixed parts, and the canonical text of config-like values.

Everything here is deterministic across processes, interpreter runs and machines: it never
calls ``hash()`` or ``id()`` and never depends on the iteration order of a dict or set.

Canonical encoding (each form is self-delimiting, so concatenations are unambiguous)::

    None -> N          True -> T          False -> F
    int -> i<hex>;     float -> f<repr>;  str -> s<len>:<text>     bytes -> y<len>:<hex>
    list -> l<n>[...]  tuple -> t<n>(...)  dict -> d<n>{k v ...}
    set -> e<n>{...}   frozenset -> z<n>{...}
    Enum member -> E s<len>:<class qualname> s<len>:<member name>
    (fingerprint only) any other value -> x s<len>:<digest>

Dict entries are sorted by the encoding of their key (then value), set elements by their
encoding, so insertion order never matters. ``1``, ``1.0``, ``True`` and ``"1"`` all differ.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from nbflow.errors import UnversionableValueError

#: A hook consulted for values whose exact type is not a built-in canonical type. It returns
#: a digest that stands for the value, or ``None`` to fall back to the canonical rules.
EncodeHook = Callable[[object], "str | None"]


def hash_parts(domain: str, *parts: str) -> str:
    """Return the sha256 hex digest of ``parts`` under ``domain``; unambiguous for any strings.

    Each chunk (the domain first, then every part) is written as its 8-byte big-endian UTF-8
    length followed by its UTF-8 bytes, so ``("ab", "c")`` never equals ``("a", "bc")`` and
    different domains never collide.

    Args:
        domain: a tag naming the kind of hash, e.g. ``"nbflow.output.v1"``.
        *parts: the strings to hash, in order.

    Returns:
        64 lowercase hex characters.

    Examples:
        >>> hash_parts("demo", "ab", "c") != hash_parts("demo", "a", "bc")
        True
    """
    chunks: list[bytes] = []
    for chunk in (domain, *parts):
        raw = chunk.encode("utf-8")
        size = len(raw)
        chunks.append(_PREFIXES[size] if size < _PREFIXED else size.to_bytes(8, "big"))
        chunks.append(raw)
    from hashlib import sha256  # OpenSSL loads on the first version, not at import

    return sha256(b"".join(chunks)).hexdigest()


# Length prefixes of short parts, precomputed: versions of whole jobs hash thousands of parts.
_PREFIXED = 256
_PREFIXES = tuple(size.to_bytes(8, "big") for size in range(_PREFIXED))


def canonical(value: object) -> str:
    """Return the canonical, type-tagged text encoding of a config-like value.

    Args:
        value: None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset or an
            ``enum.Enum`` member, nested arbitrarily.

    Returns:
        The encoding: equal for equal values of the same type, different when the value or
        its type differs. Subclasses of the types above encode as their base type; Enum
        members by class qualname and member name.

    Raises:
        UnversionableValueError: ``value`` contains something of another type, or contains
            itself.

    Examples:
        >>> canonical({"b": 1, "a": [True, None]})
        'd2{s1:al2[TN]s1:bi1;}'
    """
    return encode(value, None, "value", _canonical_error)


class UnsupportedValue(Exception):
    """Internal: raised by :func:`encode` at the first value it cannot encode."""

    def __init__(self, value: object) -> None:
        super().__init__()
        self.value = value
        self.path: list[str] = []


def encode(
    value: object,
    hook: EncodeHook | None,
    label: str,
    on_error: Callable[[UnsupportedValue, str], Exception],
) -> str:
    """Encode ``value`` canonically, asking ``hook`` about non-canonical types.

    Shared by :func:`canonical` (no hook) and :func:`nbflow.versioning.fingerprint` (whose hook
    knows dataclasses, registered types, numpy and pandas).

    Args:
        value: the value to encode.
        hook: called for values whose exact type is not a built-in canonical type.
        label: how the value is named in error messages, e.g. ``"config['x']"``.
        on_error: builds the exception raised for an unsupported value, given the internal
            error and the full path of the offending value.

    Returns:
        The canonical encoding.
    """
    try:
        return _encode(value, hook)
    except UnsupportedValue as exc:
        raise on_error(exc, label + "".join(exc.path)) from None
    except RecursionError:
        raise UnversionableValueError(
            f"Cannot version {label}: it is nested too deeply or contains itself.\n"
            "Fix: pass a value without reference cycles."
        ) from None


def encode_nested(value: object, hook: EncodeHook | None) -> str:
    """Encode ``value`` like :func:`encode` but let :class:`UnsupportedValue` propagate.

    For hooks that encode the parts of a value they handle: the outermost :func:`encode`
    then reports the full path of whatever could not be encoded.
    """
    return _encode(value, hook)


def type_name(cls: type) -> str:
    """Return ``module.qualname`` of ``cls`` for messages (``qualname`` alone for builtins)."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _canonical_error(exc: UnsupportedValue, where: str) -> Exception:
    return UnversionableValueError(
        f"Cannot version {where}: values of type {type_name(type(exc.value))!r} have no "
        "canonical encoding.\nExpected None, bool, int, float, str, bytes, list, tuple, dict, "
        "set, frozenset or an Enum member.\nFix: convert the value to one of these types."
    )


def _text(text: str) -> str:
    return f"s{len(text)}:{text}"


def _encode(value: object, hook: EncodeHook | None) -> str:
    encoder = _EXACT.get(type(value))
    if encoder is not None:
        return encoder(value, hook)
    if hook is not None:
        digest = hook(value)
        if digest is not None:
            return "x" + _text(digest)
    if isinstance(value, enum.Enum):
        cls = type(value)
        return "E" + _text(cls.__qualname__) + _text(value.name)
    for base, base_encoder in _SUBCLASSABLE:
        if isinstance(value, base):
            return base_encoder(value, hook)
    raise UnsupportedValue(value)


def _none(value: Any, hook: EncodeHook | None) -> str:
    return "N"


def _bool(value: Any, hook: EncodeHook | None) -> str:
    return "T" if value else "F"


def _int(value: Any, hook: EncodeHook | None) -> str:
    # Hex, not decimal: int -> decimal str is capped at 4300 digits by default.
    return "i" + format(int.__index__(value), "x") + ";"


def _float(value: Any, hook: EncodeHook | None) -> str:
    return "f" + float.__repr__(value) + ";"


def _str(value: Any, hook: EncodeHook | None) -> str:
    return _text(str.__str__(value))


def _bytes(value: Any, hook: EncodeHook | None) -> str:
    raw = bytes(value)
    return f"y{len(raw)}:{raw.hex()}"


def _items(values: list[object] | tuple[object, ...], hook: EncodeHook | None) -> str:
    parts: list[str] = []
    for index, item in enumerate(values):
        try:
            parts.append(_encode(item, hook))
        except UnsupportedValue as exc:
            exc.path.insert(0, f"[{index}]")
            raise
    return "".join(parts)


def _list(value: Any, hook: EncodeHook | None) -> str:
    items = list(value)
    return f"l{len(items)}[{_items(items, hook)}]"


def _tuple(value: Any, hook: EncodeHook | None) -> str:
    items = tuple(value)
    return f"t{len(items)}({_items(items, hook)})"


def _mapping(value: Any, hook: EncodeHook | None) -> str:
    entries: list[tuple[str, str]] = []
    for key, item in value.items():
        try:
            encoded_key = _encode(key, hook)
        except UnsupportedValue as exc:
            exc.path.insert(0, " (a dict key)")
            raise
        try:
            entries.append((encoded_key, _encode(item, hook)))
        except UnsupportedValue as exc:
            exc.path.insert(0, f"[{key!r}]")
            raise
    entries.sort()
    return f"d{len(entries)}{{{''.join(k + v for k, v in entries)}}}"


def _elements(value: Any, hook: EncodeHook | None) -> list[str]:
    encoded: list[str] = []
    for item in value:
        try:
            encoded.append(_encode(item, hook))
        except UnsupportedValue as exc:
            exc.path.insert(0, " (a set element)")
            raise
    encoded.sort()
    return encoded


def _set(value: Any, hook: EncodeHook | None) -> str:
    encoded = _elements(value, hook)
    return f"e{len(encoded)}{{{''.join(encoded)}}}"


def _frozenset(value: Any, hook: EncodeHook | None) -> str:
    encoded = _elements(value, hook)
    return f"z{len(encoded)}{{{''.join(encoded)}}}"


_Encoder = Callable[[Any, "EncodeHook | None"], str]

# Exact types take the fast path; subclasses (other than Enum members, which are checked
# first) are encoded as their canonical base after the hook has had its say.
_EXACT: dict[type, _Encoder] = {
    type(None): _none,
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    bytes: _bytes,
    list: _list,
    tuple: _tuple,
    dict: _mapping,
    MappingProxyType: _mapping,
    set: _set,
    frozenset: _frozenset,
}

_SUBCLASSABLE: tuple[tuple[type, _Encoder], ...] = (
    (int, _int),
    (float, _float),
    (str, _str),
    (bytes, _bytes),
    (list, _list),
    (tuple, _tuple),
    (dict, _mapping),
    (set, _set),
    (frozenset, _frozenset),
)

#: The exact types with a built-in canonical encoding (their fingerprint cannot be overridden).
CANONICAL_TYPES: frozenset[type] = frozenset(_EXACT)
