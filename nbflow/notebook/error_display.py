"""nbflow's errors in a notebook: the message and the fix, under the user's own frames.

An :class:`~nbflow.errors.NbflowError` raised by a cell (a run config that does not fit, an
op's failure with ``raise_on_error=True``, a job that cannot be built) is shown as the
frames of the user's code — their cell and line, named ``Cell In[5], line 3`` as IPython
names them — then the error's message, which says what happened and how to fix it.
nbflow's own frames are left out and counted in a last line.

An op's own error (a ``KeyError`` in the user's op, raised by ``execute_in_process`` or
``nbn.run``) is shown the same way: the cell that ran the job, then the op's cell and line,
with the engine's frames between them left out. Errors that never went through nbflow keep
IPython's usual traceback.

It is IPython's custom exception handler (``set_custom_exc``), installed on
``import nbflow.notebook`` inside IPython (a Jupyter kernel, the IPython terminal) and by
``%load_ext nbflow.notebook``. It is not installed over another custom handler.

The full traceback is one flag away: ``nbn.show_tracebacks(True)`` shows IPython's own
traceback for every later error (``%xmode Verbose`` does too), and ``%tb`` shows the last
error's in full.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from typing import TYPE_CHECKING, Any

import nbflow
from nbflow.errors import NbflowError
from nbflow.execution.views.user_traceback import user_traceback
from nbflow.notebook._cell_location import CellLocations

if TYPE_CHECKING:
    from types import TracebackType

HOW_TO_SEE_ALL = "nbn.show_tracebacks(True) or %tb shows them"
"""How the note on left-out frames says to see them."""

HANDLED = (Exception,)
"""The errors the handler sees: nbflow's own, and a user's raised through a run."""

_NBFLOW_DIR = os.path.dirname(nbflow.__file__) + os.sep
_FULL = {"on": False}
_FILE_LINE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_cells = CellLocations()


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if callable(get_ipython) else None


def show_tracebacks(full: bool = True) -> None:
    """Show nbflow errors with their full traceback (``True``) or short (``False``, the default).

    Short: the user's frames (cell and line) and the message with its fix; nbflow's own frames
    are counted, not shown. ``%tb`` shows the last error in full either way.
    """
    _FULL["on"] = bool(full)


def name_cells(text: str) -> str:
    """``text`` with a kernel's cell files (``File "/tmp/ipykernel_1/29.py", line 3``) named as
    IPython names them (``Cell In[5], line 3``); other files are left as they are."""

    def named(match: re.Match[str]) -> str:
        found = _cells.describe_code(match["path"], int(match["line"]))
        return found if found is not None else match[0]

    return _FILE_LINE.sub(named, text)


def _first_user_frame(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without IPython's leading frames (those marked ``__tracebackhide__``)."""
    while tb is not None and tb.tb_frame.f_locals.get("__tracebackhide__"):
        tb = tb.tb_next
    return tb


def short_traceback(value: BaseException, tb: TracebackType | None) -> str:
    """The text shown for ``value``: the user's frames, cells named, then the message.

    Args:
        value: the error.
        tb: its traceback as IPython caught it (IPython's own frames first).

    Returns:
        The traceback without nbflow's frames (chained exceptions included), ending with a
        line saying how many were left out and how to see them.
    """
    lines = traceback.format_exception(type(value), value, _first_user_frame(tb))
    return name_cells(user_traceback("".join(lines), HOW_TO_SEE_ALL))


def went_through_nbflow(tb: TracebackType | None) -> bool:
    """Whether any frame of ``tb`` is nbflow's own code (an op's error raised by a run)."""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_NBFLOW_DIR):
            return True
        tb = tb.tb_next
    return False


def _wants_full(shell: Any, value: BaseException, tb: TracebackType | None) -> bool:
    if not isinstance(value, NbflowError) and not went_through_nbflow(tb):
        return True  # not nbflow's business: IPython's usual traceback
    mode = getattr(getattr(shell, "InteractiveTB", None), "mode", "")
    return _FULL["on"] or mode == "Verbose"


def handle(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """IPython's custom exception handler (see the module's notes).

    Shows the error (as an ``error`` output in a kernel) and returns its structured
    traceback. Keeps the error as the last one, so ``%tb`` shows it in full.
    """
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):  # pragma: no cover - depends on the interpreter
        sys.last_exc = value
    if _wants_full(shell, value, tb):
        stb: list[str] = shell.InteractiveTB.structured_traceback(
            etype, value, tb, tb_offset=tb_offset
        )
    else:
        stb = short_traceback(value, tb).splitlines()
    shell._showtraceback(etype, value, stb)
    return stb


def register(shell: Any = None) -> bool:
    """Install :func:`handle` in ``shell`` (the running IPython shell when ``None``);
    idempotent. Returns whether it is installed (not when there is no shell, or
    another custom handler is).
    """
    shell = shell if shell is not None else _shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if current == HANDLED:
        return True
    if current:
        return False  # someone else's handler stays
    shell.set_custom_exc(HANDLED, handle)
    return True


def unregister(shell: Any) -> None:
    """Remove the handler :func:`register` installed (another one is left alone)."""
    if tuple(getattr(shell, "custom_exceptions", ()) or ()) == HANDLED:
        shell.set_custom_exc((), None)


__all__ = [
    "HANDLED",
    "HOW_TO_SEE_ALL",
    "handle",
    "name_cells",
    "register",
    "short_traceback",
    "show_tracebacks",
    "went_through_nbflow",
]
