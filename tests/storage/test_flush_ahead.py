"""Flushing a file to disk in the background while it is written: every byte arrives, the
flushes run on the file being written, one at a time, and none outlives the writer."""

from __future__ import annotations

import errno
import io
import os
import threading
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from nbflow import InputContext, OutputContext
from nbflow.storage import FilesystemIOManager, flush_ahead
from nbflow.storage.flush_ahead import FlushAhead

if TYPE_CHECKING:
    from pathlib import Path

CHUNK = b"x" * 1000


def spy_on_flushes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the descriptor of every background flush (and still flush)."""
    flushed: list[int] = []
    real = flush_ahead._datasync

    def datasync(fd: int) -> None:
        flushed.append(fd)
        real(fd)

    monkeypatch.setattr(flush_ahead, "_datasync", datasync)
    return flushed


def test_a_file_is_flushed_in_the_background_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed = spy_on_flushes(monkeypatch)
    path = tmp_path / "value"
    with open(path, "wb") as handle, FlushAhead(handle, every=4000) as writer:
        for _ in range(50):
            writer.write(CHUNK)
        fd = handle.fileno()

    assert path.read_bytes() == CHUNK * 50
    assert writer.flushes >= 1
    assert flushed == [fd] * writer.flushes


def test_a_sink_without_a_file_is_written_without_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    flushed = spy_on_flushes(monkeypatch)
    sink = io.BytesIO()
    with FlushAhead(sink, every=10) as writer:
        for _ in range(5):
            writer.write(CHUNK)

    assert sink.getvalue() == CHUNK * 5
    assert (writer.flushes, flushed) == (0, [])


def test_leaving_waits_for_the_flush_under_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[int] = []

    def slow_datasync(fd: int) -> None:
        started.set()
        release.wait(10)
        finished.append(fd)

    monkeypatch.setattr(flush_ahead, "_datasync", slow_datasync)
    with open(tmp_path / "value", "wb") as handle:
        with FlushAhead(handle, every=1) as writer:
            writer.write(CHUNK)
            assert started.wait(10)
            threading.Timer(0.05, release.set).start()
        assert finished == [handle.fileno()]  # done before the file could be closed


def test_a_failed_background_flush_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_datasync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(flush_ahead, "_datasync", broken_datasync)
    with open(tmp_path / "value", "wb") as handle, pytest.raises(OSError, match="I/O error"):
        with FlushAhead(handle, every=1) as writer:
            writer.write(CHUNK)


def test_an_error_while_writing_is_not_replaced_by_the_flush_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_datasync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(flush_ahead, "_datasync", broken_datasync)
    with open(tmp_path / "value", "wb") as handle, pytest.raises(ValueError, match="encoder"):
        with FlushAhead(handle, every=1) as writer:
            writer.write(CHUNK)
            raise ValueError("the encoder failed")


def test_a_stored_frame_is_flushed_ahead_and_loads_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed = spy_on_flushes(monkeypatch)
    monkeypatch.setattr(flush_ahead, "FLUSH_EVERY", 64 << 10)
    frame = pd.DataFrame({"a": np.random.default_rng(0).random(100_000)})
    context = OutputContext(step_key="step", name="result", version="v1")
    FilesystemIOManager(tmp_path, parquet_frames=True).handle_output(context, frame)

    loaded = FilesystemIOManager(tmp_path).load_input(
        InputContext(name="x", step_key="d", upstream_output=context)
    )

    assert len(flushed) >= 1
    assert_frame_equal(loaded, frame, check_exact=True)
    leftovers = [p for p in os.listdir(tmp_path / "step" / "result") if p.endswith(".tmp")]
    assert leftovers == []


def test_small_frames_start_no_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed = spy_on_flushes(monkeypatch)
    context = OutputContext(step_key="step", name="result", version="v1")

    FilesystemIOManager(tmp_path, parquet_frames=True).handle_output(
        context, pd.DataFrame({"a": np.arange(1000.0)})
    )

    assert flushed == []
