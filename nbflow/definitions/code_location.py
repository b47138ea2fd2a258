"""Where user code was defined, named for messages: ``file.py:12``, or a notebook cell.

The core names a function's place as ``file:line``. Code run in IPython is compiled from
files such as ``/tmp/ipykernel_4242/2950843541.py``; the notebook layer registers a
:class:`LocationDescriber` that names them as IPython's tracebacks do (``Cell In[5], line 1``)
and finds the cell that last bound a name. The core never imports IPython.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import types
    from collections.abc import Mapping


class LocationDescriber(Protocol):
    """Names places in user code for messages; the notebook layer registers one for cells."""

    def describe_code(self, filename: str, line: int) -> str | None:
        """``"Cell In[5], line 1"`` for code compiled from ``filename``, or ``None``."""

    def describe_binding(self, namespace: Mapping[str, Any], name: str) -> str | None:
        """Where ``name`` was last bound in ``namespace`` (e.g. ``"Cell In[6]"``), or ``None``."""


_describers: list[LocationDescriber] = []


def register_location_describer(describer: LocationDescriber) -> None:
    """Let ``describer`` name code locations in redefinition messages (newest asked first)."""
    if all(d is not describer for d in _describers):
        _describers.insert(0, describer)


def unregister_location_describer(describer: LocationDescriber) -> None:
    """Stop asking ``describer``."""
    _describers[:] = [d for d in _describers if d is not describer]


def code_location(fn: types.FunctionType) -> str:
    """Where ``fn`` was defined: a registered describer's name for it, else ``file:line``."""
    return located(fn)[0]


def located(fn: types.FunctionType) -> tuple[str, bool]:
    """(where ``fn`` was defined, whether a describer named it, e.g. as a notebook cell)."""
    code = fn.__code__
    for describer in list(_describers):
        try:
            text = describer.describe_code(code.co_filename, code.co_firstlineno)
        except Exception:  # a describer never stops a run
            text = None
        if text:
            return text, True
    return f"{code.co_filename}:{code.co_firstlineno}", False


def binding_location(namespace: Mapping[str, Any], name: str) -> str | None:
    for describer in list(_describers):
        try:
            text = describer.describe_binding(namespace, name)
        except Exception:
            text = None
        if text:
            return text
    return None
