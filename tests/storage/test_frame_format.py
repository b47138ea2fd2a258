"""DataFrames stored as Parquet: each column encoded for speed and size, every dtype Parquet
keeps coming back exactly, and files written with earlier settings still loading."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal

from nbflow import InputContext, OutputContext
from nbflow.storage import FilesystemIOManager, UrlIOManager, frame_format
from nbflow.storage.frame_encodings import SAMPLE_SIZE

CONTEXT = OutputContext(step_key="step", name="result", version="v1")


def store(base: Path, frame: Any) -> tuple[Any, dict[str, Any]]:
    """Store ``frame`` as Parquet, load it with a fresh manager; return it and its record."""
    writer = FilesystemIOManager(base, parquet_frames=True)
    writer.handle_output(CONTEXT, frame)
    writer.record_manifest("step", "result", {"version": "v1"})
    manifest = json.loads((base / "step" / "result" / "v1.manifest.json").read_text())
    reader = FilesystemIOManager(base, parquet_frames=True)
    return reader.load_input(InputContext(name="x", step_key="d", upstream_output=CONTEXT)), (
        manifest["stored"]
    )


def stored_parquet(base: Path, size: int) -> Any:
    """The metadata of the Parquet value stored for ``CONTEXT`` under ``base``."""
    data = (base / "step" / "result" / "v1").read_bytes()[:size]
    return pq.ParquetFile(pa.BufferReader(data)).metadata


def column_chunks(metadata: Any) -> dict[str, Any]:
    chunks = metadata.row_group(0)
    return {chunks.column(i).path_in_schema: chunks.column(i) for i in range(chunks.num_columns)}


ROWS = SAMPLE_SIZE * 3  # enough rows that the repetition of a column is judged on a sample


def test_each_column_is_encoded_for_its_type(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "steps": np.arange(ROWS) * 0.25,  # alike neighbours: split bytes compress well
            "steps32": (np.arange(ROWS) * 0.5).astype("float32"),
            "counter": np.arange(ROWS),
            "small": np.arange(ROWS, dtype="int16"),
            "when": pd.date_range("2020", periods=ROWS, freq="s", tz="UTC"),
            "took": pd.to_timedelta(np.arange(ROWS), unit="ms"),
            "code": rng.integers(0, 5, ROWS),  # repeats: a dictionary packs it tighter
            "price": rng.integers(0, 20, ROWS) * 0.25,  # repeats too
            "label": rng.choice(["a", "b", "c"], ROWS),
            "flag": np.arange(ROWS) % 3 == 0,
        }
    )
    loaded, record = store(tmp_path, frame)

    assert_frame_equal(loaded, frame, check_exact=True)
    chunks = column_chunks(stored_parquet(tmp_path, record["size"]))
    for name in ("steps", "steps32"):
        assert "BYTE_STREAM_SPLIT" in chunks[name].encodings, name
    for name in ("counter", "small", "when", "took"):
        assert "DELTA_BINARY_PACKED" in chunks[name].encodings, name
    for name in ("code", "price", "label"):
        assert chunks[name].has_dictionary_page, name
    for name in ("steps", "steps32", "counter", "small", "when", "took", "flag"):
        assert not chunks[name].has_dictionary_page, name
    assert {chunk.compression for chunk in chunks.values()} == {"LZ4"}
    assert not any(chunk.is_stats_set for chunk in chunks.values())


def test_numbers_that_packing_would_not_shrink_are_stored_plain_and_uncompressed(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "measured": rng.random(ROWS),  # random mantissas: packing saves ~12 %
            "measured32": rng.random(ROWS).astype("float32"),
            "noise": rng.integers(-(2**62), 2**62, ROWS),  # random differences
            "steps": np.arange(ROWS) * 0.25,
        }
    )
    loaded, record = store(tmp_path, frame)

    assert_frame_equal(loaded, frame, check_exact=True)
    chunks = column_chunks(stored_parquet(tmp_path, record["size"]))
    for name in ("measured", "measured32", "noise"):
        assert set(chunks[name].encodings) <= {"PLAIN", "RLE"}, name  # RLE: the levels
        assert chunks[name].compression == "UNCOMPRESSED", name
        assert not chunks[name].has_dictionary_page, name
    assert chunks["steps"].compression == "LZ4"


def test_columns_without_missing_values_are_stored_as_required(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "whole": np.arange(ROWS, dtype="float64"),
            "nan": np.where(np.arange(ROWS) % 7 == 0, np.nan, 1.5),  # NaN is a value here
            "gaps": pd.array([1, None, 3] * (ROWS // 3), dtype="Int64"),
            "text": ["x", None, "z"] * (ROWS // 3),
        }
    )
    loaded, record = store(tmp_path, frame)

    schema = stored_parquet(tmp_path, record["size"]).schema
    levels = {schema.column(i).name: schema.column(i).max_definition_level for i in range(4)}
    assert levels == {"whole": 0, "nan": 0, "gaps": 1, "text": 1}
    assert_frame_equal(loaded, frame, check_exact=True)


def test_parquet_is_smaller_than_pickle_for_a_numeric_frame(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.random(ROWS), "b": np.arange(ROWS)})
    _, record = store(tmp_path, frame)

    # random floats shrink a little (their exponent bytes), a counter to almost nothing
    assert record["size"] < 0.6 * frame.memory_usage(index=False).sum()


def test_a_frame_stored_with_pyarrows_default_settings_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier versions wrote Parquet with pyarrow's defaults (dictionary, snappy)."""
    frame = pd.DataFrame(
        {"a": np.linspace(0, 1, 500), "s": ["x", None] * 250},
        index=pd.Index([f"r{i}" for i in range(500)], name="row"),
    )
    with monkeypatch.context() as patched:
        patched.setattr(frame_format, "parquet_write_options", lambda table: {})
        FilesystemIOManager(tmp_path, parquet_frames=True).handle_output(CONTEXT, frame)
    reader = FilesystemIOManager(tmp_path, parquet_frames=True)

    loaded = reader.load_input(InputContext(name="x", step_key="d", upstream_output=CONTEXT))

    record = reader.stored_record(tmp_path / "step" / "result" / "v1")
    assert record is not None and record.format == "parquet"
    chunks = column_chunks(stored_parquet(tmp_path, record.size))
    assert {chunk.compression for chunk in chunks.values()} == {"SNAPPY"}
    assert_frame_equal(loaded, frame, check_exact=True)


def test_a_frame_pyarrow_fails_to_write_is_pickled_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.DataFrame({"a": np.arange(ROWS, dtype="float64")})
    monkeypatch.setattr(
        frame_format, "parquet_write_options", lambda table: {"compression": "nope"}
    )

    loaded, record = store(tmp_path, frame)

    assert record["format"] == "pickle"
    assert record["reason"].startswith("not stored as Parquet: pyarrow failed (")
    assert_frame_equal(loaded, frame, check_exact=True)


def test_float_columns_go_to_arrow_unscanned_and_come_back_exactly(tmp_path: Path) -> None:
    grid = np.array([[0.5, np.nan, -0.0], [np.inf, 2.0, np.nan]] * 50)
    frame = pd.DataFrame(grid, columns=["a", "b", "c"], copy=False)  # strided column views
    frame["f32"] = np.array([np.nan, 1.5] * 50, dtype="float32")
    frame["f16"] = np.array([1.0, np.nan] * 50, dtype="float16")
    frame["n"] = pd.array([1.5, None] * 50, dtype="Float64")
    frame.index = pd.Index(np.linspace(0, 1, 100), name="a")  # an index named like a column

    table = frame_format.frame_to_table(frame)
    loaded, _ = store(tmp_path, frame)

    reference = pa.Table.from_pandas(frame)
    assert table.schema.equals(reference.schema)
    assert table.schema.pandas_metadata == reference.schema.pandas_metadata
    assert table.column("a").null_count == 0  # NaN kept as a value, not made a null
    assert_frame_equal(table.to_pandas(), frame, check_exact=True)
    assert_frame_equal(loaded, frame, check_exact=True)
    assert np.array_equal(
        loaded["a"].to_numpy().view("int64"), frame["a"].to_numpy().view("int64")
    )  # bit for bit, NaN and -0.0 included


def test_a_loaded_frame_can_be_changed_in_place(tmp_path: Path) -> None:
    rows = ROWS  # large enough that Arrow decodes into its own buffers, not a shared page
    frame = pd.DataFrame(
        {
            "a": np.arange(rows, dtype="float64"),
            "b": np.arange(rows),
            "f32": np.arange(rows, dtype="float32"),
            "f16": np.arange(rows, dtype="float16"),
            "u8": np.arange(rows, dtype="uint8"),
            "when": pd.date_range("2020", periods=rows, freq="s"),
            "when_ms": pd.date_range("2020", periods=rows, freq="s").astype("M8[ms]"),
            "zoned": pd.date_range("2020", periods=rows, freq="s", tz="Europe/Paris"),
            "took": pd.to_timedelta(np.arange(rows), unit="s"),
            "flag": np.arange(rows) % 2 == 0,
            "count": pd.array(range(rows), dtype="Int64"),
            "text": pd.array([str(i) for i in range(rows)], dtype="str"),
        }
    )
    loaded, _ = store(tmp_path, frame)
    again, _ = store(tmp_path / "again", frame)

    for name in frame.columns:
        loaded.loc[1, name] = loaded.loc[2, name]
    assert_series_equal(loaded.loc[1], loaded.loc[2], check_names=False)
    loaded["b"] += 1
    loaded.iloc[3, 0] = -1.0

    assert loaded.loc[3, "a"] == -1.0
    assert loaded["b"].tolist() == [1, 3, *range(3, rows + 1)]
    assert_frame_equal(again, frame, check_exact=True)  # loads share no memory


def test_columns_arrow_cannot_hand_over_writable_are_copied() -> None:
    values = np.arange(10.0)
    values.flags.writeable = False  # Arrow wraps it as a read-only buffer
    table = pa.table({"a": values})

    loaded = frame_format._decoded_to_frame(table)
    loaded.loc[0, "a"] = 5.0

    assert loaded.loc[0, "a"] == 5.0
    assert values[0] == 0.0


@pytest.mark.parametrize("url", ["memory", "file"])
def test_frames_at_a_url_are_stored_as_parquet_and_come_back_equal(
    tmp_path: Path, url: str
) -> None:
    base = f"memory://frames/{tmp_path.name}" if url == "memory" else tmp_path.as_uri()
    frame = pd.DataFrame(
        {"a": np.arange(1000.0), "t": pd.date_range("2020", periods=1000, freq="h", tz="UTC")}
    )
    writer = UrlIOManager(base, parquet_frames=True)
    writer.handle_output(CONTEXT, frame)

    loaded = UrlIOManager(base, parquet_frames=True).load_input(
        InputContext(name="x", step_key="d", upstream_output=CONTEXT)
    )

    assert writer.stored_record(writer.path_for(CONTEXT)).format == "parquet"  # type: ignore[union-attr]
    assert_frame_equal(loaded, frame, check_exact=True)


# Every kind of column Parquet keeps, with extreme values, missing values and repeats.
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
_INTEGER_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
_TIME_UNITS = ["s", "ms", "us", "ns"]  # datetimes in seconds are pickled (Parquet has none)


def _integers(dtype: str) -> st.SearchStrategy[Any]:
    info = np.iinfo(dtype)
    return st.integers(int(info.min), int(info.max))


@st.composite
def _column(draw: st.DrawFn, rows: int) -> Any:
    kind = draw(
        st.sampled_from(["float", "int", "bool", "datetime", "timedelta", "nullable", "text"])
    )
    few = draw(st.booleans())  # values drawn from a small pool: the dictionary path

    def values(strategy: st.SearchStrategy[Any]) -> list[Any]:
        if few:
            pool = draw(st.lists(strategy, min_size=1, max_size=2))
            return draw(st.lists(st.sampled_from(pool), min_size=rows, max_size=rows))
        return draw(st.lists(strategy, min_size=rows, max_size=rows))

    if kind == "float":
        width = draw(st.sampled_from([16, 32, 64]))
        return np.array(values(st.floats(width=width)), dtype=f"float{width}")
    if kind == "int":
        dtype = draw(st.sampled_from(_INTEGER_DTYPES))
        return np.array(values(_integers(dtype)), dtype=dtype)
    if kind == "bool":
        return np.array(values(st.booleans()), dtype=bool)
    if kind in ("datetime", "timedelta"):
        unit = draw(st.sampled_from(_TIME_UNITS[kind == "datetime" :]))
        # within what every unit can hold once Parquet stores seconds as milliseconds
        ticks = values(st.integers(-(2**52), 2**52) | st.none())
        raw = [np.iinfo("int64").min if tick is None else tick for tick in ticks]  # None: NaT
        if kind == "timedelta":
            return np.array(raw, dtype="int64").view(f"m8[{unit}]")
        stamps = pd.DatetimeIndex(np.array(raw, dtype="int64").view(f"M8[{unit}]"))
        zone = draw(st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York"]))
        return stamps if zone is None else stamps.tz_localize("UTC").tz_convert(zone)
    if kind == "nullable":
        dtype = draw(st.sampled_from(["Int64", "Int8", "UInt64", "Float32", "Float64", "boolean"]))
        if dtype.startswith("Float"):
            strategy = st.floats(allow_nan=False, width=int(dtype[5:]))
        else:
            strategy = st.booleans() if dtype == "boolean" else _integers(dtype.lower())
        return pd.array(values(strategy | st.none()), dtype=dtype)
    dtype = draw(st.sampled_from(["str", "string[pyarrow]"]))
    return pd.array(values(_TEXT | st.none()), dtype=dtype)


@st.composite
def _index(draw: st.DrawFn, rows: int) -> Any:
    kind = draw(st.sampled_from(["range", "int", "text", "datetime"]))
    name = draw(st.none() | _TEXT)
    if kind == "range":
        start, step = draw(st.integers(-5, 5)), draw(st.integers(1, 3))
        return pd.RangeIndex(start, start + step * rows, step, name=name)
    if kind == "int":
        numbers = draw(st.lists(_integers("int64"), min_size=rows, max_size=rows))
        return pd.Index(numbers, dtype="int64", name=name)
    if kind == "text":
        labels = draw(st.lists(_TEXT, min_size=rows, max_size=rows))
        return pd.Index(labels, dtype="str", name=name)
    ticks = draw(st.lists(st.integers(0, 2**50), min_size=rows, max_size=rows))
    return pd.DatetimeIndex(np.array(ticks, dtype="M8[ms]"), name=name)


@st.composite
def frames(draw: st.DrawFn) -> Any:
    rows = draw(st.integers(0, 40))
    names = draw(st.lists(_TEXT, min_size=1, max_size=5, unique=True))
    columns = {name: draw(_column(rows)) for name in names}
    return pd.DataFrame(columns, index=draw(_index(rows)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_every_frame_parquet_keeps_comes_back_exactly(frame: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        loaded, record = store(Path(folder), frame)

    assert record["format"] == "parquet", record.get("reason")
    assert_frame_equal(loaded, frame, check_exact=True)
    assert list(loaded.columns) == list(frame.columns)
    assert loaded.index.name == frame.index.name
