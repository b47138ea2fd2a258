"""Stored values carry their size and checksum: damaged files are never loaded as values.

A file that is emptied, truncated, grown or bit-flipped after it was written is refused by
``has_output`` (size) or by loading (checksum) with a CorruptOutputError that names the file
and says the step will be recomputed; the next memoized run recomputes it. Temporary files
of killed writers are removed once stale, never while a writer holds them.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    InputContext,
    Instance,
    OutputContext,
    SourceHashVersionStrategy,
    job,
    list_versions,
    op,
)
from nbflow.errors import CorruptOutputError, StorageError
from nbflow.storage import FilesystemIOManager
from nbflow.storage.local_files import STALE_AFTER_SECONDS, remove_stale_temporaries

if TYPE_CHECKING:
    from collections.abc import Callable

VALUE = {"numbers": list(range(2000)), "name": "payload"}


def out_ctx(version: str = "v1") -> OutputContext:
    return OutputContext(step_key="step", name="result", version=version)


def in_ctx(version: str = "v1") -> InputContext:
    return InputContext(name="x", step_key="down", upstream_output=out_ctx(version))


def flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01  # inside the value, not its record
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def grow(path: Path) -> None:
    with open(path, "ab") as handle:
        handle.write(b"extra")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "bit-flipped": flip_a_bit,
    "truncated": truncate,
    "emptied": empty,
    "size-changed": grow,
}


class TestDamagedFiles:
    def test_a_stored_value_is_accepted_and_loads(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.handle_output(out_ctx(), VALUE)

        assert manager.has_output(out_ctx())
        assert manager.load_input(in_ctx()) == VALUE

    @pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
    def test_damage_is_a_clear_error_and_the_file_is_moved_aside(
        self, tmp_path: Path, damage: str
    ) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.handle_output(out_ctx(), VALUE)
        path = tmp_path / "step" / "result" / "v1"
        DAMAGE[damage](path)

        with pytest.raises(
            CorruptOutputError,
            match=r"Stored output step\.result at .*step/result/v1 is damaged: .*"
            r"moved aside to .*v1\.corrupt.*will be recomputed",
        ):
            manager.load_input(in_ctx())

        assert not path.exists()
        assert (tmp_path / "step" / "result" / "v1.corrupt").is_file()
        assert not manager.has_output(out_ctx())

    @pytest.mark.parametrize("damage", ["truncated", "emptied", "size-changed"])
    def test_has_output_refuses_a_file_of_the_wrong_size(self, tmp_path: Path, damage: str) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.handle_output(out_ctx(), VALUE)
        DAMAGE[damage](tmp_path / "step" / "result" / "v1")

        assert not manager.has_output(out_ctx())
        assert not FilesystemIOManager(tmp_path).has_output(out_ctx())

    def test_a_whole_pickle_written_by_another_program_is_loaded(self, tmp_path: Path) -> None:
        path = tmp_path / "step" / "result" / "v1"
        path.parent.mkdir(parents=True)
        path.write_bytes(pickle.dumps(VALUE))

        manager = FilesystemIOManager(tmp_path)
        assert manager.has_output(out_ctx())
        assert manager.load_input(in_ctx()) == VALUE

    def test_a_broken_pickle_written_by_another_program_is_a_clear_error(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "step" / "result" / "v1"
        path.parent.mkdir(parents=True)
        data = pickle.dumps(VALUE)
        path.write_bytes(data[:100] + data[-1:])  # header and STOP, the middle cut out

        manager = FilesystemIOManager(tmp_path)
        with pytest.raises(CorruptOutputError, match="does not unpickle"):
            manager.load_input(in_ctx())
        assert not manager.has_output(out_ctx())

    def test_corrupt_output_error_is_a_storage_error(self) -> None:
        assert issubclass(CorruptOutputError, StorageError)

    @pytest.mark.parametrize("seed", range(40))
    def test_no_single_bit_flip_gives_a_value(self, tmp_path: Path, seed: int) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.handle_output(out_ctx(), VALUE)
        path = tmp_path / "step" / "result" / "v1"
        data = bytearray(path.read_bytes())
        data[(seed * 7919) % len(data)] ^= 1 << (seed % 8)
        path.write_bytes(bytes(data))

        if manager.has_output(out_ctx()):
            with pytest.raises(CorruptOutputError):
                manager.load_input(in_ctx())
        assert not manager.has_output(out_ctx())

    def test_the_manifest_records_size_and_checksum(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.handle_output(out_ctx(), VALUE)
        manager.record_manifest("step", "result", {"version": "v1"})

        stored = json.loads((tmp_path / "step" / "result" / "v1.manifest.json").read_text())
        record = stored["stored"]
        assert record["format"] == "pickle"
        assert record["size"] == len(pickle.dumps(VALUE, protocol=5))
        assert len(record["xxh3_128"]) == 32


# --- real memoized runs ---------------------------------------------------------------------


def build_job(calls: list[str]) -> Any:
    @op
    def produce() -> dict[str, Any]:
        calls.append("produce")
        return VALUE

    @op
    def consume(produce: dict[str, Any]) -> int:
        calls.append("consume")
        return len(produce["numbers"])

    @job(version_strategy=SourceHashVersionStrategy())
    def pipeline() -> None:
        consume(produce())

    return pipeline


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_value_is_recomputed_by_the_next_memoized_run(
    tmp_path: Path, damage: str
) -> None:
    calls: list[str] = []
    pipeline = build_job(calls)
    instance = Instance.local(tmp_path / "home")
    assert pipeline.execute_in_process(instance=instance).success
    [row] = [r for r in list_versions(pipeline, instance=instance) if r.step_output.startswith("p")]
    path = Path(instance.storage_dir) / f"produce.result@{row.version}"
    DAMAGE[damage](path)
    calls.clear()

    # Loading the damaged value (as a consumer would) is the clear error ...
    if damage == "bit-flipped":
        result = pipeline.execute_in_process(instance=instance, raise_on_error=False)
        assert calls == []  # it looked whole: nothing ran, but nothing loaded it either
        with pytest.raises(CorruptOutputError, match="will be recomputed"):
            result.output_for_node("produce")
    # ... and the next memoized run recomputes that step, and only what depends on it.
    result = pipeline.execute_in_process(instance=instance)

    assert result.success
    assert calls == ["produce"]  # consume's input has the same version: still stored
    assert result.output_for_node("produce") == VALUE
    assert path.is_file()


# --- stale temporary files ------------------------------------------------------------------


def make_temporary(folder: Path, name: str, age: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"partial")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temporaries_are_removed_on_the_first_write_to_their_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "step" / "result"
    old = make_temporary(folder, ".v0.0123456789abcdef.tmp", STALE_AFTER_SECONDS + 60)
    fresh = make_temporary(folder, ".v0.fedcba9876543210.tmp", 5)
    not_ours = make_temporary(folder, "notes.tmp", STALE_AFTER_SECONDS + 60)

    FilesystemIOManager(tmp_path).handle_output(out_ctx(), VALUE)

    assert not old.exists()
    assert fresh.exists()
    assert not_ours.exists()


def test_a_locked_temporary_is_kept_however_old(tmp_path: Path) -> None:
    folder = tmp_path / "step" / "result"
    held = make_temporary(folder, ".v1.0123456789abcdef.tmp", STALE_AFTER_SECONDS * 5)
    fd = os.open(held, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a slow writer still at work
        assert remove_stale_temporaries(folder) == []
        assert held.exists()
    finally:
        os.close(fd)

    assert remove_stale_temporaries(folder) == [held]
    assert not held.exists()
