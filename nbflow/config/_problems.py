"""Wording of config problems: paths, short value reprs and the standard problem strings.

Every problem string nbflow reports about a config value is built here, so tests can pin the
wording and callers get the same shape everywhere: ``<path>: <what is wrong>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.errors import did_you_mean

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MAX_SHOWN = 60
"""Longest repr or type name shown in a problem string; longer ones are cut with an ellipsis."""

MAX_LISTED = 20
"""Most names listed in an "expected one of" clause."""


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


def describe(value: object) -> str:
    """Return a short description of a config value: its clipped repr and its type name."""
    if value is None:
        return "None"
    return f"{clip(repr(value))} ({type(value).__name__})"


def quote_names(names: Iterable[object]) -> str:
    """Return ``'a', 'b'`` for ``names``, listing at most ``MAX_LISTED`` of them."""
    shown = list(names)
    text = ", ".join(clip(repr(name)) for name in shown[:MAX_LISTED])
    if len(shown) > MAX_LISTED:
        text += f", … ({len(shown) - MAX_LISTED} more)"
    return text


def wrong_type(path: Sequence[str], expected: str, value: object) -> str:
    """``root:x: expected String, got 3 (int)``."""
    return f"{format_path(path)}: expected {clip(expected)}, got {describe(value)}"


def missing_field(path: Sequence[str], name: str, type_name: str) -> str:
    """``root:config: missing required field 'dog_breed' (String)``."""
    return f"{format_path(path)}: missing required field {name!r} ({clip(type_name)})"


def unknown_field(path: Sequence[str], key: object, allowed: Sequence[str]) -> str:
    """``root:config: unknown field 'dog_bread'. Did you mean 'dog_breed'?``.

    When nothing is close, the allowed names are listed instead (or it says none are allowed).
    """
    head = f"{format_path(path)}: unknown field {clip(repr(key))}."
    hint = did_you_mean(key, allowed) if isinstance(key, str) else ""
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
        hint = did_you_mean(value, allowed)
        got = clip(repr(value)) + (f".{hint}" if hint else "")
    else:
        got = describe(value)
    expected = f"expected one of {quote_names(allowed)} (Enum {enum_name})"
    return f"{format_path(path)}: {expected}, got {got}"
