"""pandas DataFrames stored as Parquet through pyarrow, when Parquet gives them back unchanged.

A frame is stored as Parquet only when every part of it is of a kind pyarrow returns equal
(values, dtypes, index and column names, as ``pandas.testing.assert_frame_equal`` compares
them); anything else is pickled, and the reason is recorded. pandas is never imported here:
a frame's own module is found in ``sys.modules``, and pyarrow loads pandas itself when it
builds a frame from a stored file.

Loading maps the file once (hashed, then decoded from the same pages) and hands the decoded
number and datetime columns to pandas without copying them (see :func:`_decoded_to_frame`),
so a load's peak memory is the frame and the mapped file, not the frame twice.
"""

from __future__ import annotations

import importlib
import json
import mmap
import sys
from typing import IO, TYPE_CHECKING, Any

from nbflow.storage.checksum_io import checksum_of
from nbflow.storage.flush_ahead import FlushAhead
from nbflow.storage.frame_encodings import parquet_write_options, required_where_complete

if TYPE_CHECKING:
    from nbflow.storage.checksum_io import HashingWriter

PARQUET = "parquet"

PARQUET_EXTRA_HINT = 'pip install "nbflowkit[parquet]"'

# numpy dtype kinds pyarrow returns unchanged: bool, signed/unsigned int, float, datetime,
# timedelta (datetimes in seconds excepted, see ``_keeps``).
_NUMPY_KINDS = frozenset("biufMm")
# pandas' nullable dtypes, which pyarrow returns unchanged (by their exact ``dtype.name``).
_MASKED_DTYPES = frozenset(
    [f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)]
    + ["Float32", "Float64", "boolean"]
)
# Parquet has no timestamps in seconds: pyarrow stores them in milliseconds and gives
# ``datetime64[ms]`` back.
_UNKEPT_TIME_UNIT = "s"


WRITE_BUFFER = 1 << 20
"""Bytes gathered before they are handed to the file: the encoder writes each page and page
header on its own (~3000 writes, most of them tens of bytes, for ``bench/io.py``'s frame);
gathered, storing that frame took ~0.01-0.025 s less (fewer system calls)."""


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
            return (
                f"column {name!r} has dtype {_named(dtype)}, which Parquet does not give back "
                "unchanged"
            )
    return None


def _index_problem(index: Any) -> str | None:
    pandas = sys.modules["pandas"]
    if isinstance(index, pandas.RangeIndex):
        return None
    levels = index.levels if isinstance(index, pandas.MultiIndex) else [index]
    for level in levels:
        if not _keeps(level.dtype):
            return (
                f"its index has dtype {_named(level.dtype)}, which Parquet does not give back "
                "unchanged"
            )
    if getattr(index, "freq", None) is not None:
        return "its index has a frequency, which Parquet does not keep"
    return None


def _keeps(dtype: Any) -> bool:
    """Whether pyarrow gives a column of ``dtype`` back with the same dtype and values."""
    pandas = sys.modules["pandas"]
    if type(dtype).__module__.startswith("numpy"):
        if dtype.kind == "M":
            return bool(sys.modules["numpy"].datetime_data(dtype)[0] != _UNKEPT_TIME_UNIT)
        return dtype.kind in _NUMPY_KINDS
    if isinstance(dtype, pandas.DatetimeTZDtype):
        return bool(dtype.unit != _UNKEPT_TIME_UNIT)
    if isinstance(dtype, pandas.StringDtype):  # "str" and "string" both come back on pyarrow
        return bool(dtype.storage == "pyarrow")
    return not isinstance(dtype, pandas.ArrowDtype) and dtype.name in _MASKED_DTYPES


def _named(dtype: Any) -> str:
    """``dtype`` named so that the kinds that share a name tell apart (``"string[pyarrow]"``
    names both a pandas string dtype, which Parquet keeps, and an ArrowDtype)."""
    pandas = sys.modules["pandas"]
    if isinstance(dtype, pandas.StringDtype):
        return f"{dtype.name}[{dtype.storage}]"
    if isinstance(dtype, pandas.ArrowDtype):
        return f"{dtype} (pandas.ArrowDtype)"
    return str(dtype)


def write_frame(frame: Any, sink: HashingWriter) -> None:
    """Write ``frame`` to ``sink`` as Parquet, each column encoded as
    :func:`~nbflow.storage.frame_encodings.parquet_write_options` chooses (columns without
    missing values declared required), the file flushed to disk in the background while it
    is encoded (see :mod:`nbflow.storage.flush_ahead`)."""
    parquet = importlib.import_module("pyarrow.parquet")
    pyarrow = importlib.import_module("pyarrow")
    table = required_where_complete(frame_to_table(frame))
    options = parquet_write_options(table)
    with FlushAhead(sink) as target:
        buffered = pyarrow.BufferedOutputStream(
            pyarrow.PythonFile(target, mode="w"), buffer_size=WRITE_BUFFER
        )
        try:
            parquet.write_table(table, buffered, **options)
        finally:
            buffered.detach()  # writes what is buffered; never closes the sink


def frame_to_table(frame: Any) -> Any:
    """``pyarrow.Table.from_pandas(frame)``, without its scan of float columns for NaN.

    ``from_pandas`` turns every NaN into a null, which costs a pass over each float column
    and a validity bitmap (~30 ms per 1e7 values here, a third of encoding them). Here numpy
    float columns go in as they are, NaN kept as a value: they are handed to ``from_pandas``
    viewed as integers of the same width (no scan, no copy), then put back with their own
    type and pandas metadata, so reading gives the same frame either way. ``frame`` is one
    :func:`parquet_problem` accepts (unique string column names).
    """
    pyarrow = importlib.import_module("pyarrow")
    floats = [
        (i, dtype)
        for i, dtype in enumerate(frame.dtypes)
        if type(dtype).__module__.startswith("numpy") and dtype.kind == "f"
    ]
    if not floats:
        return pyarrow.Table.from_pandas(frame)
    pandas = sys.modules["pandas"]
    shadow = frame.copy(deep=False)
    for i, dtype in floats:  # a Series shares the memory; a bare array would be copied
        same_bits = frame.iloc[:, i].to_numpy().view(f"int{dtype.itemsize * 8}")
        shadow.isetitem(i, pandas.Series(same_bits, index=frame.index, copy=False))
    table = pyarrow.Table.from_pandas(shadow)  # data columns first, in order, then the index
    described = table.schema.pandas_metadata
    for i, dtype in floats:
        values = frame.iloc[:, i].to_numpy()
        field = pyarrow.field(table.field(i).name, pyarrow.from_numpy_dtype(dtype))
        table = table.set_column(i, field, pyarrow.array(values))
        described["columns"][i].update(pandas_type=dtype.name, numpy_type=dtype.name)
    return table.replace_schema_metadata(
        {**table.schema.metadata, b"pandas": json.dumps(described).encode()}
    )


def read_frame(handle: IO[bytes], size: int, checksum: str) -> Any | None:
    """The frame stored as Parquet in the first ``size`` bytes of the open file ``handle``;
    ``None`` when the checksum of those bytes is not ``checksum``.

    The file is memory-mapped once: hashed, then decoded from the same pages (never copied
    into memory first, nor read twice). The mapping is released with the last buffer that
    refers to it.
    """
    pyarrow = importlib.import_module("pyarrow")
    data = pyarrow.py_buffer(
        mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ) if size else b""
    )
    if checksum_of(data) != checksum:
        return None
    return frame_from_parquet(data)


def frame_from_parquet(data: Any) -> Any:
    """The frame stored as Parquet in ``data`` (bytes, or an Arrow buffer), read whole (a
    column's row groups come back as one chunk) and converted by :func:`_decoded_to_frame`."""
    pyarrow = importlib.import_module("pyarrow")
    parquet = importlib.import_module("pyarrow.parquet")
    with parquet.ParquetFile(pyarrow.BufferReader(data)) as stored:
        table = stored.read()
    return _decoded_to_frame(table)


def _decoded_to_frame(table: Any) -> Any:
    """``table.to_pandas()`` for a ``table`` just decoded from a file (its memory is held by
    nothing else), without copying the columns that can be handed over as they are.

    pyarrow's zero-copy conversion (``split_blocks``) gives a number or datetime column
    without missing values the memory Arrow decoded it into, but marks it read-only, which
    pandas then refuses to assign into. Such a column is given back as a writable array over
    the same memory when that memory is an Arrow buffer open to writing (not a mapped file,
    for one), and copied otherwise; zoned datetimes are copied. On ``bench/io.py``'s frame,
    decoding and converting took 0.030 s instead of 0.086 s, and the peak memory of a load
    fell from 548 MB to 326 MB (the 200 MB frame and the 120 MB file mapped). The frame keeps
    one block per column, as ``split_blocks`` gives it (a pickled frame keeps its blocks).
    """
    numpy = importlib.import_module("numpy")
    arrow_memory = _arrow_data(table)
    handed: set[int] = set()
    frame = table.to_pandas(split_blocks=True)
    pandas = sys.modules["pandas"]
    for i, dtype in enumerate(frame.dtypes):
        column = frame.iloc[:, i]
        if isinstance(dtype, pandas.DatetimeTZDtype):
            frame.isetitem(i, column.copy())
            continue
        if not isinstance(dtype, numpy.dtype):
            continue
        values = column.to_numpy()
        arrow = arrow_memory.pop(_address(values), None)  # popped: one column per buffer
        if arrow is None:  # converted into new memory, which pandas owns (or handed over)
            if values.size and _address(values) in handed:
                frame.isetitem(i, column.copy())
            continue
        handed.add(_address(values))
        buffer, offset, width = arrow
        if buffer.is_mutable and dtype.itemsize == width and values.flags.c_contiguous:
            writable = numpy.frombuffer(buffer, dtype=dtype, count=len(values), offset=offset)
        else:
            writable = values.copy()
        frame.isetitem(i, pandas.Series(writable, index=frame.index, copy=False))
    return frame


def _arrow_data(table: Any) -> dict[int, tuple[Any, int, int]]:
    """The address of every chunk's values in ``table``: its data buffer, byte offset and
    value width."""
    found: dict[int, tuple[Any, int, int]] = {}
    for column in table.columns:
        try:
            width = column.type.byte_width
        except ValueError:  # variable width (strings, lists): pandas never shares it
            continue
        if width <= 0:
            continue  # bit-packed booleans: converted into new memory
        for chunk in column.chunks:
            buffers = chunk.buffers()
            if len(buffers) == 2 and buffers[1] is not None:
                offset = chunk.offset * width
                found[buffers[1].address + offset] = (buffers[1], offset, width)
    return found


def _address(values: Any) -> int:
    return int(values.__array_interface__["data"][0])
