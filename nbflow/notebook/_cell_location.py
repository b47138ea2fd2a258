"""Names notebook cells in messages: ``Cell In[5], line 1`` instead of a kernel's temp file.

The core names where a definition was redefined as ``file:line``
(:func:`nbflow.definitions.code_location.code_location`); code run in IPython is compiled
from files such as ``/tmp/ipykernel_4242/2950843541.py``. :class:`CellLocations` maps them
back to the execution count, as IPython's own tracebacks do, and finds the cell that last
bound a name (IPython's ``_ih``). It is registered on ``import nbflow.notebook`` and by
``%load_ext nbflow.notebook``; it never imports IPython (it looks for a running shell).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from nbflow.definitions.code_location import register_location_describer

if TYPE_CHECKING:
    from collections.abc import Mapping


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if callable(get_ipython) else None


class CellLocations:
    """A location describer for code and names of the running IPython shell's cells."""

    def describe_code(self, filename: str, line: int) -> str | None:
        shell = _shell()
        compiler = getattr(shell, "compile", None)
        format_name = getattr(compiler, "format_code_name", None)
        label = format_name(filename) if callable(format_name) else None
        if not label:
            return None
        kind, name = label
        return f"{kind} {name}, line {line}"

    def describe_binding(self, namespace: Mapping[str, Any], name: str) -> str | None:
        shell = _shell()
        if shell is None or getattr(shell, "user_ns", None) is not namespace:
            return None
        cells = namespace.get("_ih")
        if not isinstance(cells, list):
            return None
        from nbflow.notebook import _cell_sources as cs

        for number in range(len(cells) - 1, 0, -1):
            cell = cells[number]
            tree = cs.parse(cell) if isinstance(cell, str) and name in cell else None
            if tree is not None and any(name in cs.binds(s) for s in tree.body):
                return f"Cell In[{number}]"
        return None


_describer = CellLocations()


def register() -> None:
    """Make redefinition messages name cells (idempotent)."""
    register_location_describer(_describer)
