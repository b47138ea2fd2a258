"""pandas DataFrames stored as Parquet through pyarrow, when Parquet gives them back unchanged.

A frame is stored as Parquet only when every part of it is of a kind pyarrow returns equal
(values, dtypes, index and column names, as ``pandas.testing.assert_frame_equal`` compares
them); anything else is pickled, and the reason is recorded. pandas is never imported here:
a frame's own module is found in ``sys.modules``, and pyarrow loads pandas itself when it
builds a frame from a stored file.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from nbflow.storage.checksum_io import HashingWriter

PARQUET = "parquet"

PARQUET_EXTRA_HINT = 'pip install "nbflowkit[parquet]"'

# dtype kinds pyarrow returns unchanged: bool, signed/unsigned int, float, datetime, timedelta.
_NUMPY_KINDS = frozenset("biufMm")
# pandas' own dtypes that pyarrow returns unchanged (by their ``dtype.name`` prefix).
_PANDAS_DTYPES = ("Int", "UInt", "Float", "boolean", "datetime64[", "str", "string")


def is_frame(obj: object) -> bool:
    """Whether ``obj`` is exactly a ``pandas.DataFrame`` (not a subclass)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and type(obj) is pandas.DataFrame


def parquet_problem(frame: Any) -> str | None:
    """Why ``frame`` cannot be stored as Parquet and read back equal; ``None`` if it can."""
    try:
        importlib.import_module("pyarrow.parquet")
    except ImportError:
        return f"pyarrow is not installed (Fix: {PARQUET_EXTRA_HINT})"
    if frame.attrs:
        return "it has DataFrame.attrs, which Parquet does not keep"
    return _columns_problem(frame) or _index_problem(frame.index)


def _columns_problem(frame: Any) -> str | None:
    columns = frame.columns
    if isinstance(columns, sys.modules["pandas"].MultiIndex):
        return "it has MultiIndex columns"
    if len(columns) == 0:
        return "it has no columns"
    names = [name for name in columns if not isinstance(name, str)]
    if names:
        return f"column names {names[:3]!r} are not strings"
    if not columns.is_unique:
        return "its column names are not unique"
    for name, dtype in frame.dtypes.items():
        if not _keeps(dtype):
            return f"column {name!r} has dtype {dtype}, which Parquet does not give back unchanged"
    return None


def _index_problem(index: Any) -> str | None:
    pandas = sys.modules["pandas"]
    if isinstance(index, pandas.RangeIndex):
        return None
    levels = index.levels if isinstance(index, pandas.MultiIndex) else [index]
    for level in levels:
        if not _keeps(level.dtype):
            return f"its index has dtype {level.dtype}, which Parquet does not give back unchanged"
    if getattr(index, "freq", None) is not None:
        return "its index has a frequency, which Parquet does not keep"
    return None


def _keeps(dtype: Any) -> bool:
    kind = getattr(dtype, "kind", "O")
    if type(dtype).__module__.startswith("numpy"):
        return kind in _NUMPY_KINDS
    return str(dtype.name).startswith(_PANDAS_DTYPES)


def write_frame(frame: Any, sink: HashingWriter) -> None:
    """Write ``frame`` to ``sink`` as Parquet."""
    pyarrow = importlib.import_module("pyarrow")
    parquet = importlib.import_module("pyarrow.parquet")
    table = pyarrow.Table.from_pandas(frame)
    parquet.write_table(table, pyarrow.PythonFile(sink, mode="w"))


def read_frame(path: Path, size: int) -> Any:
    """The frame stored as Parquet in the first ``size`` bytes of ``path`` (memory-mapped
    while it is decoded, so the file is not copied into memory first)."""
    pyarrow = importlib.import_module("pyarrow")
    parquet = importlib.import_module("pyarrow.parquet")
    with pyarrow.memory_map(str(path), "r") as mapped:
        table = parquet.read_table(pyarrow.BufferReader(mapped.read_buffer(size)))
    return table.to_pandas()
