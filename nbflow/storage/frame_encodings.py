"""How each column of a frame is encoded in Parquet: chosen by its Arrow type, and for numbers
by how often their values repeat and whether packing a sample of them pays.

pyarrow's defaults (a dictionary tried on every column, snappy, statistics) cost most of the
time of storing a numeric frame: a dictionary is built for every column and thrown away again
when the values turn out to be mostly distinct. The choices here, measured with
``bench/io.py`` (a 1e7-row float64/int64/float32 frame) and on single columns:

- float32 and float64: ``BYTE_STREAM_SPLIT`` (the bytes of each value split into streams,
  so the exponent bytes compress well) with LZ4; float16 keeps the dictionary (older readers
  have no ``BYTE_STREAM_SPLIT`` for it);
- integers, timestamps, durations, dates and times: ``DELTA_BINARY_PACKED`` (differences
  bit-packed) with LZ4; a sorted or evenly spaced column shrinks to almost nothing;
- a number column longer than a sample whose packing does not pay (a sample packed as above
  is not at least :data:`MIN_SAVING` smaller than its plain bytes) is stored ``PLAIN`` and
  uncompressed: random floats shrink by only ~12 % (float64) and ~11 % (float32), random
  64-bit integers not at all, and packing them cost 2-4x the CPU time of copying them
  (0.027 against 0.013 s for 1e7 float64 values, 0.027 against 0.007 s for float32); on the
  bench frame the store got ~0.05 s of CPU cheaper for 14 MB more on disk;
- a number column whose values repeat a lot (in a sample spread over the column, at most one
  distinct value in :data:`REPEATS_AT_LEAST`) keeps the dictionary, which packs it tighter;
- strings and everything else: the dictionary (pyarrow falls back to plain encoding by itself
  when it grows too large, and dictionary + LZ4 measured best even for unique strings);
- a column with no missing values is declared ``required`` (its values cannot be null): the
  writer then keeps no definition levels for it, which halved the time of encoding a float
  column (0.061 -> 0.027 s for 1e7 float64 values) and cut an integer column's by a fifth;
- LZ4 wherever a column is compressed (on these columns it decoded 1.3-2x faster than
  snappy and zstd level 1, and was within 3 % of zstd's size); no statistics (nbflow never
  filters a stored frame).

A reader needs none of this: Parquet records each column chunk's encodings and codec in the
file's footer, so files written with other settings (earlier nbflow versions used pyarrow's
defaults) read the same way.
"""

from __future__ import annotations

import importlib
from typing import Any

COMPRESSION = "lz4"
"""The Parquet codec of every compressed column (LZ4_RAW in the file)."""

UNCOMPRESSED = "none"
PLAIN_ENCODING = "PLAIN"

FLOAT_ENCODING = "BYTE_STREAM_SPLIT"
INTEGER_ENCODING = "DELTA_BINARY_PACKED"

SAMPLE_SIZE = 4096
"""Values looked at, evenly spaced over a column, to judge how often its values repeat."""

REPEATS_AT_LEAST = 16
"""A number column keeps the dictionary when its sample has at most one distinct value in
this many."""

MIN_SAVING = 0.2
"""A number column is packed (``BYTE_STREAM_SPLIT`` or ``DELTA_BINARY_PACKED``, then LZ4)
only when that makes a sample of it at least this fraction smaller than its plain bytes."""

SAMPLE_RUNS = 4
"""The sample packed to judge a column is this many runs of consecutive values, spread over
the column (packing gains from neighbours that are alike, so the values stay in order)."""


def parquet_write_options(table: Any) -> dict[str, Any]:
    """Keyword arguments of ``pyarrow.parquet.write_table`` for ``table``, column by column."""
    pyarrow = importlib.import_module("pyarrow")
    types = pyarrow.types
    dictionary: list[str] = []
    encodings: dict[str, str] = {}
    codecs: dict[str, str] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        codecs[field.name] = COMPRESSION
        kind = field.type
        if types.is_float32(kind) or types.is_float64(kind):
            encoding: str | None = FLOAT_ENCODING
        elif types.is_integer(kind) or types.is_temporal(kind):
            encoding = INTEGER_ENCODING
        elif types.is_boolean(kind):
            continue  # bit-packed as they are; Parquet has no dictionary for booleans
        else:
            encoding = None
        if encoding is None or _repeats(column):
            dictionary.append(field.name)
        elif _packing_pays(field, column, encoding):
            encodings[field.name] = encoding
        else:
            encodings[field.name] = PLAIN_ENCODING
            codecs[field.name] = UNCOMPRESSED
    return {
        "compression": codecs,
        "use_dictionary": dictionary,
        "column_encoding": encodings,
        "write_statistics": False,
    }


def required_where_complete(table: Any) -> Any:
    """``table`` with every column that has no missing values declared not nullable (the
    data is not copied)."""
    pyarrow = importlib.import_module("pyarrow")
    fields = [
        field.with_nullable(False) if field.nullable and column.null_count == 0 else field
        for field, column in zip(table.schema, table.columns, strict=True)
    ]
    return table.cast(pyarrow.schema(fields, metadata=table.schema.metadata))


def _packing_pays(field: Any, column: Any, encoding: str) -> bool:
    """Whether ``encoding`` and LZ4 make a sample of ``column`` at least :data:`MIN_SAVING`
    smaller than its plain bytes (the sample is written as a small Parquet file). A column
    no longer than a sample is packed: judging it would cost more than it could save."""
    rows = len(column)
    if rows <= SAMPLE_SIZE:
        return True
    pyarrow = importlib.import_module("pyarrow")
    parquet = importlib.import_module("pyarrow.parquet")
    run = SAMPLE_SIZE // SAMPLE_RUNS
    starts = [(rows - run) * i // (SAMPLE_RUNS - 1) for i in range(SAMPLE_RUNS)]
    column = pyarrow.chunked_array(
        [chunk for start in starts for chunk in column.slice(start, run).chunks],
        type=field.type,
    )
    plain_bytes = len(column) * field.type.byte_width
    if column.null_count or plain_bytes == 0:
        return True  # nulls are not in the plain bytes; packing is what stores them compactly
    sample = pyarrow.table([column], schema=pyarrow.schema([field.with_nullable(False)]))
    packed = pyarrow.MockOutputStream()
    parquet.write_table(
        sample,
        packed,
        use_dictionary=False,
        column_encoding={field.name: encoding},
        compression=COMPRESSION,
        write_statistics=False,
        store_schema=False,
    )
    return bool(packed.size() <= (1 - MIN_SAVING) * plain_bytes)


def _repeats(column: Any) -> bool:
    """Whether ``column``'s values repeat enough for a dictionary to pack them tighter."""
    rows = len(column)
    if rows <= SAMPLE_SIZE:
        sample = column
    else:
        numpy = importlib.import_module("numpy")  # pyarrow has imported it already
        sample = column.take(numpy.arange(SAMPLE_SIZE) * rows // SAMPLE_SIZE)
    compute = importlib.import_module("pyarrow.compute")
    distinct = int(compute.count_distinct(sample, mode="all").as_py())
    return distinct * REPEATS_AT_LEAST <= len(sample)
