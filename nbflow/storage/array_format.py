"""numpy arrays stored as ``.npy``: written from the array's own memory, read straight into a
new array's memory (or memory-mapped, read-only), never through a full-size copy.

numpy is taken from ``sys.modules`` when an array is written (an array cannot exist before
numpy is imported) and imported only to read a stored ``.npy`` value.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from nbflow.storage.checksum_io import HashingReader, HashingWriter

NPY = "npy"


def is_plain_array(obj: object) -> bool:
    """Whether ``obj`` is a numpy array ``.npy`` holds exactly: the base ndarray type (not a
    subclass such as a masked array) with no Python objects in it."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and type(obj) is numpy.ndarray and not obj.dtype.hasobject  # type: ignore[attr-defined]


def _numpy() -> Any:
    return sys.modules.get("numpy") or importlib.import_module("numpy")


def write_array(array: Any, sink: HashingWriter) -> None:
    """Write ``array`` to ``sink`` in ``.npy`` format (no pickled objects)."""
    numpy = _numpy()
    npy = numpy.lib.format
    if array.flags.c_contiguous or array.flags.f_contiguous:
        npy.write_array_header_2_0(sink, npy.header_data_from_array_1_0(array))
        data = array if array.flags.c_contiguous else array.T
        if data.size:
            sink.write(memoryview(data.reshape(-1).view(numpy.uint8)))
    else:  # a strided view: numpy writes it in buffered chunks
        npy.write_array(sink, array, allow_pickle=False)


def read_array(source: HashingReader) -> Any:
    """Read an ``.npy`` value from ``source`` into a new array.

    Raises:
        ValueError: the header is not a valid ``.npy`` header, or the data is short.
    """
    numpy = _numpy()
    npy = numpy.lib.format
    version = npy.read_magic(source)
    read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, fortran_order, dtype = read_header(source)
    if dtype.hasobject:
        raise ValueError("a stored .npy value holds Python objects")
    count = 1
    for length in shape:
        count *= int(length)
    raw = numpy.empty(count * dtype.itemsize, dtype=numpy.uint8)
    if source.read_exactly_into(memoryview(raw)) != raw.size:
        raise ValueError("the .npy data ends early")
    order = "F" if fortran_order else "C"
    return raw.view(dtype).reshape(shape, order=order)


def map_array(path: Path) -> Any:
    """The ``.npy`` value at ``path``, memory-mapped read-only."""
    return _numpy().load(path, mmap_mode="r", allow_pickle=False)
