"""How a stored value is written: the format chosen for its type, and streaming it in and out.

- a plain numpy array (no Python objects in it): ``.npy`` (see :mod:`nbflow.storage.array_format`);
- a pandas DataFrame that Parquet gives back unchanged, when asked for (``parquet_frames``)
  and pyarrow is installed: Parquet (see :mod:`nbflow.storage.frame_format`); pickle by
  default. For ``bench/io.py``'s numeric frame Parquet is 60 % of pickle's size and its
  round trip faster than pickle's (less to write, and its load copies nothing);
- anything else: pickle (protocol 5), streamed into the file and out of it.

The choice is made by type, looked up without importing numpy, pandas or pyarrow; a value of
a type with its own format that was pickled anyway gets the reason recorded with it.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

from nbflow.storage.array_format import NPY, is_plain_array, read_array, write_array
from nbflow.storage.frame_format import PARQUET, is_frame, parquet_problem, write_frame

if TYPE_CHECKING:
    from nbflow.storage.checksum_io import HashingReader, HashingWriter

PICKLE = "pickle"
PICKLE_PROTOCOL = 5

STREAMED_FORMATS = frozenset({PICKLE, NPY})
"""Formats read front to back from the open file (Parquet is read by random access)."""


def choose_format(obj: object, parquet_frames: bool = False) -> tuple[str, str | None]:
    """The format ``obj`` is stored in, and why it is pickled when its type has another.

    Args:
        obj: the value.
        parquet_frames: store DataFrames as Parquet where it gives them back unchanged.

    Returns:
        ``(format, reason)``; ``reason`` is ``None`` unless a DataFrame falls back to pickle.
    """
    if is_plain_array(obj):
        return NPY, None
    if parquet_frames and is_frame(obj):
        problem = parquet_problem(obj)
        return (PICKLE, f"not stored as Parquet: {problem}") if problem else (PARQUET, None)
    return PICKLE, None


def write_value(value_format: str, obj: object, sink: HashingWriter) -> None:
    """Stream ``obj`` into ``sink`` in ``value_format``."""
    if value_format == NPY:
        write_array(obj, sink)
    elif value_format == PARQUET:
        write_frame(obj, sink)
    else:
        pickle.dump(obj, sink, protocol=PICKLE_PROTOCOL)


def read_value(value_format: str, source: HashingReader) -> Any:
    """Read a value stored in a streamed format from ``source``.

    Raises:
        ValueError: ``value_format`` is not a streamed format.
    """
    if value_format == NPY:
        return read_array(source)
    if value_format == PICKLE:
        return pickle.load(source)
    raise ValueError(f"unknown stored value format {value_format!r}")
