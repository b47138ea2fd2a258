"""The built-in IO managers: in-memory and filesystem."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from nbflow import (
    InputContext,
    Instance,
    MemoizableIOManager,
    OutputContext,
    fs_io_manager,
    job,
    mem_io_manager,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.errors import OutputNotFoundError, UnsafeStorageKeyError
from nbflow.storage import FilesystemIOManager, InMemoryIOManager


@op
def numbers():
    return [1, 2, 3]


@op
def total(values):
    return sum(values)


def _pipeline(io_manager_def):
    @job(resource_defs={"io_manager": io_manager_def})
    def pipeline():
        total(numbers())

    return pipeline


def test_mem_io_manager_passes_values_downstream() -> None:
    result = _pipeline(mem_io_manager).execute_in_process()
    assert result.output_for_node("total") == 6


def test_in_memory_io_manager_stores_per_step_output_and_loads_them() -> None:
    manager = InMemoryIOManager()
    out = OutputContext(step_key="numbers", name="result", run_id="r1")
    manager.handle_output(out, [1])
    loaded = manager.load_input(InputContext(name="values", step_key="total", upstream_output=out))
    assert loaded == [1]
    assert isinstance(manager, MemoizableIOManager)
    assert manager.has_output(out) is False  # unversioned values are not memoized


def test_in_memory_io_manager_missing_value_says_why() -> None:
    manager = InMemoryIOManager()
    out = OutputContext(step_key="numbers", name="result", run_id="r1")
    with pytest.raises(
        OutputNotFoundError, match=r"Output numbers\.result \(version None\) is not in memory"
    ):
        manager.load_input(InputContext(name="values", step_key="total", upstream_output=out))


@pytest.mark.parametrize(
    "definition", [fs_io_manager, versioned_filesystem_io_manager], ids=["fs", "versioned-fs"]
)
def test_fs_io_manager_writes_files_under_base_dir_and_values_load_downstream(
    definition, tmp_path: Path
) -> None:
    result = _pipeline(definition).execute_in_process(
        run_id="fs-run",
        run_config={"resources": {"io_manager": {"config": {"base_dir": str(tmp_path)}}}},
    )

    assert result.output_for_node("total") == 6
    numbers_file = tmp_path / "fs-run" / "numbers" / "result"
    total_file = tmp_path / "fs-run" / "total" / "result"
    assert pickle.loads(numbers_file.read_bytes()) == [1, 2, 3]
    assert pickle.loads(total_file.read_bytes()) == 6
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_fs_io_manager_defaults_to_the_instance_storage_folder(tmp_instance: Instance) -> None:
    result = _pipeline(fs_io_manager).execute_in_process(
        instance=tmp_instance, run_id="default-dir"
    )

    assert result.output_for_node("total") == 6
    stored = Path(tmp_instance.storage_dir) / "default-dir" / "numbers" / "result"
    assert pickle.loads(stored.read_bytes()) == [1, 2, 3]


def test_filesystem_io_manager_versioned_paths_and_has_output(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)
    out = OutputContext(step_key="numbers", name="result", version="v1")

    assert manager.has_output(out) is False
    manager.handle_output(out, {"a": 1})

    assert manager.path_for(out) == tmp_path / "numbers" / "result" / "v1"
    assert manager.has_output(out) is True
    loaded = manager.load_input(InputContext(name="x", step_key="total", upstream_output=out))
    assert loaded == {"a": 1}
    other_version = OutputContext(step_key="numbers", name="result", version="v2")
    assert manager.has_output(other_version) is False


def test_filesystem_io_manager_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)
    out = OutputContext(step_key="numbers", name="result", run_id="gone")
    with pytest.raises(
        OutputNotFoundError,
        match=r"Output numbers\.result is not stored at .*Fix: run the upstream step first",
    ):
        manager.load_input(InputContext(name="x", step_key="total", upstream_output=out))


@pytest.mark.parametrize(
    "bad_part", ["..", ".", "a/b", ""], ids=["dotdot", "dot", "slash", "empty"]
)
def test_filesystem_io_manager_refuses_keys_that_escape_base_dir(
    bad_part: str, tmp_path: Path
) -> None:
    manager = FilesystemIOManager(tmp_path)
    out = OutputContext(step_key=bad_part, name="result", version="v1")
    with pytest.raises(UnsafeStorageKeyError, match=r"has unsafe parts"):
        manager.handle_output(out, 1)
    assert list(tmp_path.iterdir()) == []


def test_fs_io_manager_base_dir_must_be_a_string() -> None:
    from nbflow.errors import RunConfigValidationError

    with pytest.raises(
        RunConfigValidationError,
        match=r"root:resources:io_manager:config:base_dir: expected String, got 3 \(int\)",
    ):
        _pipeline(fs_io_manager).execute_in_process(
            run_config={"resources": {"io_manager": {"config": {"base_dir": 3}}}}
        )
