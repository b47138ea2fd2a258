"""Values stream into their files and out of them: no full-size copy in memory, one flush to
disk per stored output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nbflow import Instance, SourceHashVersionStrategy, job, op
from nbflow.storage import value_writer

PAYLOAD = 64 * 1024 * 1024

MEMORY_PROBE = f"""
import sys, tracemalloc
from nbflow import InputContext, OutputContext
from nbflow.storage import FilesystemIOManager

manager = FilesystemIOManager(sys.argv[1])
context = OutputContext(step_key="big", name="result", version="v1")
value = [bytes({PAYLOAD // 4}) for _ in range(4)]
tracemalloc.start()
manager.handle_output(context, value)
_, stored = tracemalloc.get_traced_memory()
del value
tracemalloc.reset_peak()
before, _ = tracemalloc.get_traced_memory()
loaded = manager.load_input(InputContext(name="x", step_key="d", upstream_output=context))
_, peak = tracemalloc.get_traced_memory()
assert sum(map(len, loaded)) == {PAYLOAD}
print(stored, peak - before)
"""


def test_storing_and_loading_make_no_full_size_copy(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    stored, loaded = map(int, done.stdout.split())

    assert stored < PAYLOAD * 0.1  # pickled straight into the file
    assert loaded < PAYLOAD * 1.1  # the value itself, not its bytes as well


def chain_of_two() -> Any:
    @op
    def first() -> int:
        return 1

    @op
    def second(first: int) -> int:
        return first + 1

    @job(version_strategy=SourceHashVersionStrategy())
    def chain() -> None:
        second(first())

    return chain


def flushed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files this process flushes to disk from now on."""
    flushed: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    return flushed


def test_a_memoized_step_output_costs_one_flush_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the values are written by this process, where the flushes can be counted
    here = value_writer.ValueWriter()
    here.unavailable = True
    monkeypatch.setattr(value_writer, "_WRITER", here)
    instance = Instance.local(tmp_path / "home")
    flushed = flushed_files(monkeypatch)

    assert chain_of_two().execute_in_process(instance=instance).success
    storage = str(instance.storage_dir)
    stored = [path for path in flushed if path.startswith(storage)]

    assert len(stored) == 2  # one per step output: the value; its manifest follows unflushed
    assert not any("manifest" in path or "latest" in path for path in stored)


def test_small_values_are_flushed_to_disk_by_the_writer_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = Instance.local(tmp_path / "home")
    flushed = flushed_files(monkeypatch)

    assert chain_of_two().execute_in_process(instance=instance).success

    assert not [path for path in flushed if path.startswith(str(instance.storage_dir))]
    assert value_writer.writer().pid is not None
    assert len(list(Path(instance.storage_dir).glob("*.result@*"))) == 2
