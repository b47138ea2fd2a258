"""Small checks on user callables and names, shared by the definition decorators."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from nbflow.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Callable


def positional_arity(fn: Callable[..., Any]) -> int:
    """Number of positional parameters ``fn`` accepts (``*args`` counts as many)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 10**6
    return sum(
        p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in params
    )


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a valid node/resource name, else raise a clear DefinitionError."""
    if not isinstance(name, str) or not name.isidentifier():
        raise DefinitionError(
            f"{kind} name {name!r} is invalid: expected a Python identifier (letters, digits, "
            f"underscores, not starting with a digit). Fix: name={_suggest(name)!r}."
        )
    return name


def _suggest(name: object) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name)) or "node"
    return f"_{text}" if text[0].isdigit() else text
