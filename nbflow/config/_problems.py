"""Wording of config problems: paths, short value reprs and the standard problem strings.

Every problem string nbflow reports about a config value is built here, so tests can pin the
wording and callers get the same shape everywhere: ``<path>: <what is wrong>``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nbflow.errors import did_you_mean

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MAX_SHOWN = 60
"""Longest repr or type name shown in a problem string; longer ones are cut with an ellipsis."""

MAX_LISTED = 20
"""Most names listed in an "expected one of" clause."""

MAX_INT_BITS = 128
"""Ints longer than this (about 39 digits) are described by their number of digits."""

_MAX_ITEMS = 4
"""Most items of a list or dict shown in a value's description."""

_MAX_LEVELS = 3
"""Most levels of nested lists and dicts shown in a value's description."""


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """Return ``text`` cut to ``limit`` characters, ending in an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_path(path: Sequence[str]) -> str:
    """Join path parts with ``:``; list indexes such as ``[2]`` attach to the part before them.

    Examples:
        >>> format_path(("root", "ops", "emit", "config", "names", "[2]"))
        'root:ops:emit:config:names[2]'
    """
    text = ""
    for part in path:
        if text and not part.startswith("["):
            text += ":"
        text += part
    return text


def int_digits(value: int) -> int:
    """Return how many decimal digits ``abs(value)`` has, without converting it to text.

    Python refuses ``str()`` of an int over 4,300 digits; this never does.
    """
    bits = abs(value).bit_length()
    if bits <= MAX_INT_BITS:
        return len(str(abs(value)))
    estimate = int(bits * math.log10(2))  # the true count is this or one more
    return estimate + 1 if abs(value) >= 10**estimate else estimate


def _bounded(value: object, levels: int) -> str:
    """A repr of ``value`` that stays short for any size and depth; may raise for odd objects."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            return f"<an int of {int_digits(value):,} digits>"
        return repr(value)
    if isinstance(value, str):
        return repr(value[: MAX_SHOWN + 1])  # a prefix: a huge str is never copied whole
    if isinstance(value, dict):
        if levels <= 0:
            return "{…}" if value else "{}"
        pairs = list(value.items())[:_MAX_ITEMS]
        shown = [f"{_bounded(k, levels - 1)}: {_bounded(v, levels - 1)}" for k, v in pairs]
        return "{" + ", ".join(shown) + (", …" if len(value) > _MAX_ITEMS else "") + "}"
    if isinstance(value, (list, tuple)):
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        if levels <= 0:
            return f"{opening}…{closing}" if value else opening + closing
        shown = [_bounded(item, levels - 1) for item in value[:_MAX_ITEMS]]
        more = ", …" if len(value) > _MAX_ITEMS else ""
        return opening + ", ".join(shown) + more + closing
    return repr(value)


def safe_repr(value: object, limit: int = MAX_SHOWN) -> str:
    """Return a repr of ``value`` of at most ``limit`` characters; never raises.

    Huge ints are described by their number of digits (``<an int of 5,000 digits>``), long
    strings are cut, nested lists and dicts are shown a few items and levels deep, and an
    object whose ``repr`` fails is named by its type.

    Examples:
        >>> safe_repr(10**5000)
        '<an int of 5,001 digits>'
    """
    try:
        text = _bounded(value, _MAX_LEVELS)
    except Exception:  # a user object whose __repr__ raises, or recurses without end
        text = f"<{type(value).__name__} object>"
    return clip(text, limit)


def describe(value: object) -> str:
    """Return a short description of a config value: its clipped repr and its type name."""
    if value is None:
        return "None"
    return f"{safe_repr(value)} ({type(value).__name__})"


def quote_names(names: Iterable[object]) -> str:
    """Return ``'a', 'b'`` for ``names``, listing at most ``MAX_LISTED`` of them."""
    shown = list(names)
    text = ", ".join(safe_repr(name) for name in shown[:MAX_LISTED])
    if len(shown) > MAX_LISTED:
        text += f", … ({len(shown) - MAX_LISTED} more)"
    return text


def wrong_type(path: Sequence[str], expected: str, value: object) -> str:
    """``root:x: expected String, got 3 (int)``."""
    return f"{format_path(path)}: expected {clip(expected)}, got {describe(value)}"


def too_large_for_float(path: Sequence[str], value: int) -> str:
    """``root:x: expected Float, got an int of 401 digits, too large for a float``."""
    return (
        f"{format_path(path)}: expected Float, got an int of {int_digits(value):,} digits, "
        "too large for a float (at most about 1.8e308)"
    )


def missing_field(path: Sequence[str], name: str, type_name: str) -> str:
    """``root:config: missing required field 'dog_breed' (String)``."""
    return f"{format_path(path)}: missing required field {name!r} ({clip(type_name)})"


def unknown_field(path: Sequence[str], key: object, allowed: Sequence[str]) -> str:
    """``root:config: unknown field 'dog_bread'. Did you mean 'dog_breed'?``.

    When nothing is close, the allowed names are listed instead (or it says none are allowed).
    """
    head = f"{format_path(path)}: unknown field {safe_repr(key)}."
    hint = did_you_mean(key, allowed) if isinstance(key, str) and len(key) <= MAX_SHOWN else ""
    if hint:
        return head + hint
    if allowed:
        return f"{head} Expected one of: {quote_names(allowed)}."
    return f"{head} No fields are allowed here."


def selector_count(path: Sequence[str], given: Sequence[object], allowed: Sequence[str]) -> str:
    """``root:execution: expected exactly one of 'a', 'b', got 2: 'a', 'b'`` (or ``got none``)."""
    got = f"{len(given)}: {quote_names(given)}" if given else "none"
    return f"{format_path(path)}: expected exactly one of {quote_names(allowed)}, got {got}"


def bad_enum_value(
    path: Sequence[str], enum_name: str, allowed: Sequence[str], value: object
) -> str:
    """``root:color: expected one of 'RED', 'BLUE' (Enum Color), got 'GREEN'``."""
    if isinstance(value, str):
        hint = did_you_mean(value, allowed) if len(value) <= MAX_SHOWN else ""
        got = safe_repr(value) + (f".{hint}" if hint else "")
    else:
        got = describe(value)
    expected = f"expected one of {quote_names(allowed)} (Enum {enum_name})"
    return f"{format_path(path)}: {expected}, got {got}"
