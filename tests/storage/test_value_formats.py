"""Values are stored in the format their type calls for, recorded with them, and come back equal.

Plain numpy arrays go to ``.npy`` (memory-mapped on request), DataFrames that Parquet gives
back unchanged to Parquet, everything else (and DataFrames Parquet would change) to pickle,
with the reason recorded.
"""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal

from nbflow import (
    InputContext,
    Instance,
    OutputContext,
    SourceHashVersionStrategy,
    job,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.errors import CorruptOutputError
from nbflow.storage import FilesystemIOManager

if TYPE_CHECKING:
    from pathlib import Path


def store(
    tmp_path: Path, value: Any, parquet_frames: bool = False, **options: Any
) -> tuple[Any, dict[str, Any]]:
    """Store ``value`` and load it back (with a fresh manager); return it and its record."""
    context = OutputContext(step_key="step", name="result", version="v1")
    writer = FilesystemIOManager(tmp_path, parquet_frames=parquet_frames)
    writer.handle_output(context, value)
    writer.record_manifest("step", "result", {"version": "v1"})
    manifest = json.loads((tmp_path / "step" / "result" / "v1.manifest.json").read_text())
    reader = FilesystemIOManager(tmp_path, **options)
    loaded = reader.load_input(InputContext(name="x", step_key="d", upstream_output=context))
    return loaded, manifest["stored"]


ARRAYS = {
    "float-2d": np.arange(12.0).reshape(3, 4),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "strided": np.arange(40)[::3],
    "int32": np.arange(7, dtype=np.int32),
    "bool": np.array([True, False, True]),
    "datetime": np.array(["2020-01-01", "2021-06-30"], dtype="M8[ns]"),
    "structured": np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
    "empty": np.zeros((0, 3)),
    "scalar": np.array(3.5),
}


@pytest.mark.parametrize("array", list(ARRAYS.values()), ids=list(ARRAYS))
def test_arrays_are_stored_as_npy(tmp_path: Path, array: Any) -> None:
    loaded, record = store(tmp_path, array)

    assert record["format"] == "npy"
    assert type(loaded) is np.ndarray
    assert loaded.dtype == array.dtype
    assert loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


def test_a_stored_npy_file_is_a_valid_npy_file(tmp_path: Path) -> None:
    store(tmp_path, ARRAYS["fortran"])

    np.testing.assert_array_equal(np.load(tmp_path / "step" / "result" / "v1"), ARRAYS["fortran"])


def test_arrays_are_memory_mapped_read_only_on_request(tmp_path: Path) -> None:
    loaded, _ = store(tmp_path, ARRAYS["float-2d"], mmap_arrays=True)

    assert isinstance(loaded, np.memmap)
    assert not loaded.flags.writeable
    np.testing.assert_array_equal(loaded, ARRAYS["float-2d"])


def test_a_damaged_mapped_array_is_refused(tmp_path: Path) -> None:
    store(tmp_path, np.arange(1000.0))
    path = tmp_path / "step" / "result" / "v1"
    data = bytearray(path.read_bytes())
    data[500] ^= 0x10
    path.write_bytes(bytes(data))
    manager = FilesystemIOManager(tmp_path, mmap_arrays=True)
    context = OutputContext(step_key="step", name="result", version="v1")

    with pytest.raises(CorruptOutputError, match="checksum does not match"):
        manager.load_input(InputContext(name="x", step_key="d", upstream_output=context))


@pytest.mark.parametrize(
    "array",
    [np.array([1, "a"], dtype=object), np.ma.masked_array([1, 2], mask=[0, 1])],
    ids=["object-dtype", "masked-subclass"],
)
def test_arrays_npy_cannot_hold_are_pickled(tmp_path: Path, array: Any) -> None:
    loaded, record = store(tmp_path, array)

    assert record["format"] == "pickle"
    assert type(loaded) is type(array)
    np.testing.assert_array_equal(loaded, array)


N = 1000
FRAMES = {
    "numeric": pd.DataFrame({"a": np.arange(N), "b": np.random.default_rng(0).random(N)}),
    "small-ints-bools": pd.DataFrame(
        {"i": np.arange(N, dtype="int32"), "u": np.arange(N, dtype="uint8"), "t": np.arange(N) > 5}
    ),
    "strings": pd.DataFrame({"s": [f"x{i}" for i in range(N)]}),
    "strings-with-missing": pd.DataFrame({"s": ["x", None] * (N // 2)}),
    "datetimes": pd.DataFrame(
        {
            "naive": pd.date_range("2020", periods=N, freq="s"),
            "tz": pd.date_range("2020", periods=N, freq="s", tz="Europe/Paris"),
            "delta": pd.to_timedelta(np.arange(N), unit="s"),
        }
    ),
    "nullable": pd.DataFrame({"n": pd.array([1, None] * (N // 2), dtype="Int64")}),
    "string-index": pd.DataFrame({"a": np.arange(N)}, index=[f"r{i}" for i in range(N)]),
    "named-index": pd.DataFrame({"a": np.arange(N)}, index=pd.Index(np.arange(N) * 2, name="k")),
    "stepped-range": pd.DataFrame({"a": np.arange(N)}, index=pd.RangeIndex(5, 5 + 2 * N, 2)),
    "multiindex-rows": pd.DataFrame(
        {"a": np.arange(4)},
        index=pd.MultiIndex.from_tuples([(1, "a"), (1, "b"), (2, "a"), (2, "b")]),
    ),
    "no-rows": pd.DataFrame({"a": np.array([], dtype="float64")}),
}


@pytest.mark.parametrize("frame", list(FRAMES.values()), ids=list(FRAMES))
def test_frames_are_stored_as_parquet_and_come_back_equal(tmp_path: Path, frame: Any) -> None:
    loaded, record = store(tmp_path, frame, parquet_frames=True)

    assert record["format"] == "parquet"
    assert "reason" not in record
    assert_frame_equal(loaded, frame, check_exact=True)


FALLBACKS = {
    "mixed-objects": (pd.DataFrame({"a": [1, "x"]}), "column 'a' has dtype object"),
    "int-column-names": (pd.DataFrame({0: [1.0], 1: [2.0]}), "column names .* not strings"),
    "multiindex-columns": (
        pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])),
        "MultiIndex columns",
    ),
    "duplicate-names": (pd.DataFrame([[1, 2]], columns=["a", "a"]), "not unique"),
    "attrs": (pd.DataFrame({"a": [1]}).assign(), "attrs"),
    "no-columns": (pd.DataFrame(index=range(3)), "no columns"),
    "index-frequency": (
        pd.DataFrame({"a": np.arange(3)}, index=pd.date_range("2020", periods=3, freq="D")),
        "frequency",
    ),
    "category": (pd.DataFrame({"c": pd.Categorical([1, 2, 1])}), "dtype category"),
    "datetimes-in-seconds": (
        pd.DataFrame({"d": np.array(["2020-01-01", "2021-06-30"], dtype="M8[s]")}),
        r"column 'd' has dtype datetime64\[s\]",
    ),
    "zoned-datetimes-in-seconds": (
        pd.DataFrame(
            {"d": pd.DatetimeIndex(np.array(["2020-01-01"], dtype="M8[s]")).tz_localize("UTC")}
        ),
        r"dtype datetime64\[s, UTC\]",
    ),
    "index-in-seconds": (
        pd.DataFrame({"a": [1]}, index=pd.DatetimeIndex(np.array(["2020-01-01"], dtype="M8[s]"))),
        r"its index has dtype datetime64\[s\]",
    ),
    "python-strings": (
        pd.DataFrame({"s": pd.array(["a", None], dtype="string[python]")}),
        r"dtype string\[python\]",
    ),
    "arrow-dtype": (
        pd.DataFrame({"s": pd.array(["a", None], dtype="large_string[pyarrow]")}),
        r"dtype large_string\[pyarrow\]",
    ),
    "arrow-strings": (
        pd.DataFrame({"s": pd.Series(["a", None], dtype=pd.ArrowDtype(pa.string()))}),
        r"dtype string\[pyarrow\] \(pandas.ArrowDtype\)",
    ),
}
FALLBACKS["attrs"][0].attrs["source"] = "sensor"


@pytest.mark.parametrize("case", list(FALLBACKS.values()), ids=list(FALLBACKS))
def test_frames_parquet_would_change_are_pickled_with_the_reason(
    tmp_path: Path, case: tuple[Any, str]
) -> None:
    frame, reason = case
    loaded, record = store(tmp_path, frame, parquet_frames=True)

    assert record["format"] == "pickle"
    assert record["reason"].startswith("not stored as Parquet: ")
    assert re.search(reason, record["reason"])
    assert_frame_equal(loaded, frame, check_exact=True)
    assert loaded.attrs == frame.attrs


@pytest.mark.parametrize("frame", list(FRAMES.values())[:3], ids=list(FRAMES)[:3])
def test_frames_are_pickled_unless_parquet_is_asked_for(tmp_path: Path, frame: Any) -> None:
    loaded, record = store(tmp_path, frame)

    assert record["format"] == "pickle"
    assert "reason" not in record
    assert_frame_equal(loaded, frame, check_exact=True)


def test_other_values_are_pickled_without_a_reason(tmp_path: Path) -> None:
    loaded, record = store(tmp_path, {"a": [1, 2], "b": ("x", None)})

    assert record["format"] == "pickle"
    assert "reason" not in record
    assert loaded == {"a": [1, 2], "b": ("x", None)}


def test_a_memoized_job_passes_frames_and_arrays_through_files(tmp_path: Path) -> None:
    calls: list[str] = []

    @op
    def frame() -> pd.DataFrame:
        calls.append("frame")
        return FRAMES["numeric"]

    @op
    def array() -> np.ndarray:  # type: ignore[type-arg]
        calls.append("array")
        return np.arange(100.0)

    @op
    def combine(frame: pd.DataFrame, array: np.ndarray) -> float:  # type: ignore[type-arg]
        calls.append("combine")
        return float(frame["b"].sum() + array.sum())

    @job(
        version_strategy=SourceHashVersionStrategy(),
        resource_defs={"io_manager": versioned_filesystem_io_manager},
    )
    def pipeline() -> None:
        combine(frame(), array())

    files = {"base_dir": str(tmp_path / "v"), "parquet_frames": True}
    run_config = {"resources": {"io_manager": {"config": files}}}
    instance = Instance.local(tmp_path / "home")
    first = pipeline.execute_in_process(run_config=run_config, instance=instance)
    second = pipeline.execute_in_process(run_config=run_config, instance=instance)

    assert calls == ["frame", "array", "combine"]
    assert second.output_for_node("combine") == first.output_for_node("combine")
    assert_frame_equal(second.output_for_node("frame"), FRAMES["numeric"])
    formats = {
        p.parent.parent.name: json.loads(p.read_text())["stored"]["format"]
        for p in (tmp_path / "v").rglob("*.manifest.json")
    }
    assert formats == {"frame": "parquet", "array": "npy", "combine": "pickle"}


def test_storing_and_loading_plain_values_imports_no_numpy_pandas_or_pyarrow(
    tmp_path: Path,
) -> None:
    probe = (
        "import sys\n"
        "from nbflow import InputContext, OutputContext\n"
        "from nbflow.storage import FilesystemIOManager\n"
        f"m = FilesystemIOManager({str(tmp_path)!r})\n"
        "c = OutputContext(step_key='s', name='r', version='v')\n"
        "m.handle_output(c, {'a': [1, 2]})\n"
        "assert m.has_output(c)\n"
        "assert m.load_input(InputContext(name='x', step_key='d', upstream_output=c)) == "
        "{'a': [1, 2]}\n"
        "print([m for m in ('numpy', 'pandas', 'pyarrow') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_loading_a_stored_frame_in_a_fresh_process(tmp_path: Path) -> None:
    store(tmp_path, FRAMES["numeric"])
    probe = (
        "import pickle, sys\n"
        "from nbflow import InputContext, OutputContext\n"
        "from nbflow.storage import FilesystemIOManager\n"
        f"m = FilesystemIOManager({str(tmp_path)!r})\n"
        "c = OutputContext(step_key='step', name='result', version='v1')\n"
        "frame = m.load_input(InputContext(name='x', step_key='d', upstream_output=c))\n"
        "sys.stdout.buffer.write(pickle.dumps(frame))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert_frame_equal(pickle.loads(done.stdout), FRAMES["numeric"])
