"""Pickling by value that keeps where the code came from.

Jobs defined in scripts and notebook cells reach step processes and Dask workers pickled by
value with cloudpickle. Since cloudpickle 3.1, code sent that way is renamed ``<dynamic-code>``
on arrival, so a traceback from another process loses the user's file, line and source text.

:func:`dumps` pickles with cloudpickle but sends each code object whole (``marshal``, which
keeps its file name and line table; the receiving process runs the same Python, as cloudpickle
already requires) together with the source lines of its file as the sending process sees them.
On arrival the lines are put in :mod:`linecache`, so a traceback in the receiving process shows
the user's source even where the file does not exist (a notebook cell, another machine).
Unpickling needs nothing but :func:`pickle.loads`.
"""

from __future__ import annotations

import io
import linecache
import marshal
import pickle
import types
from collections import ChainMap
from typing import Any


def _code_from(data: bytes, lines: list[str] | None) -> types.CodeType:
    code = marshal.loads(data)
    assert isinstance(code, types.CodeType)
    if lines:
        # No modification time: linecache keeps the entry, as it does for IPython's cells.
        linecache.cache[code.co_filename] = (sum(map(len, lines)), None, lines, code.co_filename)
    return code


def _pickler_class() -> type[pickle.Pickler]:
    import cloudpickle

    base_table = cloudpickle.Pickler.dispatch_table

    def reduce_code(code: types.CodeType) -> tuple[Any, ...]:
        try:
            data = marshal.dumps(code)
        except ValueError:  # a constant marshal cannot write: cloudpickle's own way
            reduced: tuple[Any, ...] = base_table[types.CodeType](code)
            return reduced
        # The same list object for every function of a file: pickled once per payload.
        return _code_from, (data, linecache.getlines(code.co_filename) or None)

    class _LocatedPickler(cloudpickle.Pickler):  # type: ignore[misc]
        dispatch_table = ChainMap({types.CodeType: reduce_code}, base_table)

    return _LocatedPickler


_PICKLER: type[pickle.Pickler] | None = None


def dumps(obj: Any) -> bytes:
    """``obj`` pickled by value where it must be (cloudpickle), code locations kept."""
    global _PICKLER
    if _PICKLER is None:
        _PICKLER = _pickler_class()
    buffer = io.BytesIO()
    _PICKLER(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()
