"""Arrays that nothing can change are hashed once while they live; every other array each time.

Hashing is counted by wrapping ``buffer_digest``, the one call that reads an array's bytes.
"""

from __future__ import annotations

import gc
import mmap
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from nbflow.versioning import fingerprint
from nbflow.versioning.immutable_arrays import IMMUTABLE_DIGESTS, is_immutable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def over_bytes(values: list[float]) -> Any:
    return np.frombuffer(np.array(values).tobytes(), dtype=np.float64)


def read_only_flag(values: list[float]) -> Any:
    array = np.array(values)
    array.flags.writeable = False
    return array


def read_only_view_of_writable(values: list[float]) -> Any:
    view = np.array(values)[:]
    view.flags.writeable = False
    return view


def read_only_view_of_bytearray(values: list[float]) -> Any:
    raw = bytearray(np.array(values).tobytes())
    return np.frombuffer(memoryview(raw).toreadonly(), dtype=np.float64)


@pytest.mark.parametrize(
    "make",
    [
        over_bytes,
        lambda v: over_bytes(v)[1:],
        lambda v: over_bytes(v).reshape(2, 2),
        lambda v: np.frombuffer(memoryview(np.array(v).tobytes()), dtype=np.float64),
    ],
    ids=["frombuffer-bytes", "slice-of-it", "reshape-of-it", "memoryview-of-bytes"],
)
def test_arrays_over_bytes_are_immutable(make: Callable[[list[float]], Any]) -> None:
    array = make([1.0, 2.0, 3.0, 4.0])

    assert is_immutable(np, array)
    with pytest.raises(ValueError, match="WRITEABLE"):
        array.flags.writeable = True  # what makes them safe to remember


@pytest.mark.parametrize(
    "make",
    [
        np.array,
        read_only_flag,
        read_only_view_of_writable,
        read_only_view_of_bytearray,
        lambda v: over_bytes(v).copy(),
        lambda v: np.frombuffer(np.array(v).tobytes(), dtype=np.float64).astype(object),
    ],
    ids=[
        "writable",
        "owns-memory-read-only-flag",
        "read-only-view-of-writable",
        "read-only-view-of-bytearray",
        "copy-of-bytes-backed",
        "object-dtype",
    ],
)
def test_arrays_that_can_change_are_not_immutable(make: Callable[[list[float]], Any]) -> None:
    assert not is_immutable(np, make([1.0, 2.0, 3.0, 4.0]))


def test_read_only_memory_map_is_not_immutable(tmp_path: Path) -> None:
    path = tmp_path / "values.bin"
    path.write_bytes(np.arange(4.0).tobytes())
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    array = np.frombuffer(mapped, dtype=np.float64)

    assert not array.flags.writeable
    assert not is_immutable(np, array)  # the file under it can be rewritten
    del array
    mapped.close()


def test_an_immutable_array_is_hashed_once_while_it_lives(hashed: list[int]) -> None:
    array = over_bytes([1.0, 2.0, 3.0])

    digests = {fingerprint(array) for _ in range(3)}

    assert hashed == [24]
    assert digests == {fingerprint(np.array([1.0, 2.0, 3.0]))}  # the same digest as ever


def test_an_immutable_array_inside_a_container_is_hashed_once(hashed: list[int]) -> None:
    array = over_bytes([1.0, 2.0])

    first = fingerprint({"weights": array, "n": 2})
    second = fingerprint({"weights": array, "n": 2})

    assert first == second
    assert hashed == [16]


@pytest.mark.parametrize(
    "make", [np.array, read_only_flag], ids=["writable", "owns-memory-read-only-flag"]
)
def test_arrays_that_can_change_are_hashed_every_time(
    hashed: list[int], make: Callable[[list[float]], Any]
) -> None:
    array = make([1.0, 2.0, 3.0])
    before = fingerprint(array)
    array.flags.writeable = True
    array[0] = 9.0

    after = fingerprint(array)

    assert len(hashed) == 2
    assert after != before
    assert after == fingerprint(np.array([9.0, 2.0, 3.0]))


def test_a_reshaped_or_retyped_immutable_array_gets_a_new_digest(hashed: list[int]) -> None:
    array = over_bytes([1.0, 2.0, 3.0, 4.0])
    flat = fingerprint(array)

    array.shape = (2, 2)
    square = fingerprint(array)
    array.dtype = np.int64
    as_ints = fingerprint(array)

    assert len({flat, square, as_ints}) == 3
    assert square == fingerprint(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert as_ints == fingerprint(np.array([[1.0, 2.0], [3.0, 4.0]]).view(np.int64))


def test_a_digest_goes_with_its_array_and_never_serves_another(hashed: list[int]) -> None:
    first = over_bytes([1.0, 2.0])
    fingerprint(first)
    assert len(IMMUTABLE_DIGESTS) == 1

    del first
    gc.collect()
    assert len(IMMUTABLE_DIGESTS) == 0
    # a new array, perhaps at the same address, is hashed for what it holds
    second = over_bytes([3.0, 4.0])
    assert fingerprint(second) == fingerprint(np.array([3.0, 4.0]))
