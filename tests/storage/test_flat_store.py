"""The instance's own store: one flat file per output version, manifests in the run history,
what nbflow 0.1.0 stored nested still found, and a writer killed mid-write leaves nothing
that ``has_output`` accepts."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    In,
    InputContext,
    Instance,
    OutputContext,
    SourceHashVersionStrategy,
    asset,
    job,
    list_versions,
    materialize,
    op,
)
from nbflow.definitions.io_manager import IOManagerDefinition
from nbflow.storage import FilesystemIOManager, clear_memoized_values
from nbflow.storage.fs import InstanceFilesIOManager
from nbflow.storage.local_files import remove_stale_temporaries
from nbflow.storage.sqlite import SqliteManifestStore
from tests.storage.test_atomic_writes import CHUNK, SLOW_DISK, kill_mid_write, processes

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["processes"]  # the fixture, shared with the atomic-write tests


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def store(tmp_path: Path) -> InstanceFilesIOManager:
    return InstanceFilesIOManager(tmp_path / "store", SqliteManifestStore(tmp_path / "runs.db"))


def out_ctx(step_key: str = "step", name: str = "result", version: str = "v1") -> OutputContext:
    return OutputContext(step_key=step_key, name=name, version=version)


def load(manager: FilesystemIOManager, context: OutputContext) -> Any:
    return manager.load_input(InputContext(name="x", step_key="d", upstream_output=context))


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def build_chain(calls: list[str], io_manager: IOManagerDefinition | None = None) -> Any:
    @op(config_schema={"n": int})
    def first(context: Any) -> int:
        calls.append("first")
        return int(context.op_config["n"])

    @op(ins={"x": In()})
    def second(x: int) -> int:
        calls.append("second")
        return x + 1

    @op(ins={"x": In()})
    def third(x: int) -> int:
        calls.append("third")
        return x * 10

    resources = {} if io_manager is None else {"io_manager": io_manager}

    @job(version_strategy=SourceHashVersionStrategy(), resource_defs=resources)
    def chain() -> None:
        third(second(first()))

    return chain


def config(n: int) -> dict[str, Any]:
    return {"ops": {"first": {"config": {"n": n}}}}


# --- layout -----------------------------------------------------------------------------------


def test_a_memoized_run_keeps_one_file_per_output_and_its_manifests_in_the_run_history(
    tmp_path: Path,
) -> None:
    calls: list[str] = []
    chain = build_chain(calls)
    instance = Instance.local(tmp_path / "home")

    assert chain.execute_in_process(run_config=config(1), instance=instance).success

    rows = {r.step_output: r.version for r in list_versions(chain, config(1), instance)}
    storage = Path(instance.storage_dir)
    assert entries(storage) == [".tmp", *sorted(f"{k}@{v}" for k, v in rows.items())]
    assert entries(storage / ".tmp") == []  # every temporary file was renamed
    assert pickle.loads((storage / f"third.result@{rows['third.result']}").read_bytes()) == 20
    for step_output, version in rows.items():
        step, _, name = step_output.partition(".")
        manifest = instance.manifests.latest_manifest(step, name)
        assert manifest is not None and manifest["version"] == version
        assert manifest["stored"]["format"] == "pickle"  # the value's record, as before


def test_the_flat_store_explains_what_changed_and_keeps_early_cutoff(tmp_path: Path) -> None:
    calls: list[str] = []
    chain = build_chain(calls)
    instance = Instance.local(tmp_path / "home")
    chain.execute_in_process(run_config=config(1), instance=instance)

    [row] = [
        r for r in list_versions(chain, config(2), instance) if r.step_output == "first.result"
    ]
    assert row.status == "to-be-recomputed"
    assert row.reasons == ("config key 'n' changed",)
    calls.clear()
    chain.execute_in_process(run_config=config(2), instance=instance)
    chain.execute_in_process(run_config=config(1), instance=instance)
    assert calls == ["first", "second", "third"]  # n=1 is still stored: nothing ran again


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("a.b", "c"), ("a", "b.c")),
        (("a", "b@c"), ("a", "b%40c")),
        (("a", "b%c"), ("a", "b%25c")),
    ],
    ids=["dot", "at", "percent"],
)
def test_flat_names_of_two_step_outputs_never_collide(
    tmp_path: Path, one: tuple[str, str], other: tuple[str, str]
) -> None:
    manager = store(tmp_path)
    first, second = out_ctx(*one), out_ctx(*other)

    manager.handle_output(first, "one")
    manager.handle_output(second, "other")

    assert manager.path_for(first) != manager.path_for(second)
    assert manager.path_for(first).parent == tmp_path / "store"  # both flat
    assert load(manager, first) == "one"
    assert load(manager, second) == "other"


def test_a_name_too_long_for_a_file_name_is_stored_nested(tmp_path: Path) -> None:
    manager = store(tmp_path)
    context = out_ctx(step_key="s" * 240)

    manager.handle_output(context, [1, 2])

    assert manager.has_output(context)
    assert load(manager, context) == [1, 2]
    assert (tmp_path / "store" / ("s" * 240) / "result" / "v1").is_file()


def test_assets_are_stored_as_before_with_no_folder_of_temporaries(tmp_path: Path) -> None:
    @asset
    def orders() -> list[int]:
        return [250, 310]

    @asset
    def revenue(orders: list[int]) -> int:
        return sum(orders)

    instance = Instance.local(tmp_path / "home")
    assert materialize([orders, revenue], instance=instance).success

    assert entries(Path(instance.storage_dir)) == ["orders", "revenue"]


def test_a_value_whose_manifest_was_never_written_is_whole_and_used(tmp_path: Path) -> None:
    # A writer stopped after its value and before its manifest: the value's own record
    # proves it whole; only the explanation of its version is missing.
    store(tmp_path).handle_output(out_ctx(), {"a": 1})

    again = store(tmp_path)
    assert again.has_output(out_ctx())
    assert load(again, out_ctx()) == {"a": 1}
    assert again.latest_manifest("step", "result") is None


# --- what nbflow 0.1.0 stored -----------------------------------------------------------------


def nested_files_io_manager(base_dir: Path) -> IOManagerDefinition:
    """Stores as nbflow 0.1.0's instance store did: nested, manifests in files."""
    return IOManagerDefinition(lambda _: FilesystemIOManager(base_dir))


def add_old_pointers(storage: Path) -> None:
    """The ``.latest.json`` copies nbflow 0.1.0 kept beside each output's manifests."""
    for folder in {p.parent for p in storage.rglob("*.manifest.json")}:
        newest = max(folder.glob("*.manifest.json"), key=lambda p: p.stat().st_mtime_ns)
        (folder / ".latest.json").write_bytes(newest.read_bytes())


def test_a_store_written_nested_by_nbflow_0_1_0_is_used_as_it_is(tmp_path: Path) -> None:
    calls: list[str] = []
    chain = build_chain(calls)
    instance = Instance.local(tmp_path / "home")
    storage = Path(instance.storage_dir)
    old = build_chain(calls, nested_files_io_manager(storage))
    assert old.execute_in_process(run_config=config(1), instance=instance).success
    add_old_pointers(storage)
    assert (storage / "first" / "result").is_dir()
    calls.clear()

    again = chain.execute_in_process(run_config=config(1), instance=instance)
    rows = {r.step_output: r for r in list_versions(chain, config(2), instance)}

    assert again.success and calls == []  # every value found where 0.1.0 put it
    assert again.output_for_node("third") == 20
    assert rows["first.result"].reasons == ("config key 'n' changed",)  # its manifest, read
    assert rows["third.result"].reasons == ("upstream 'second.result' changed",)
    chain.execute_in_process(run_config=config(2), instance=instance)
    assert calls == ["first", "second", "third"]
    assert list(storage.glob("first.result@*"))  # new values go to the flat store


def test_early_cutoff_reads_the_fingerprints_of_nbflow_0_1_0(tmp_path: Path) -> None:
    calls: list[str] = []
    chain = build_chain(calls)
    instance = Instance.local(tmp_path / "home")
    storage = Path(instance.storage_dir)
    old = build_chain(calls, nested_files_io_manager(storage))
    old.execute_in_process(run_config=config(1), instance=instance)
    [first] = list((storage / "first" / "result").glob("*.manifest.json"))
    first.with_name(first.name.removesuffix(".manifest.json")).unlink()  # first must rerun
    assert "value_fingerprint" in json.loads(first.read_text())
    calls.clear()

    chain.execute_in_process(run_config=config(1), instance=instance)

    assert calls == ["first"]  # same value: second and third stay memoized


# --- crashes ----------------------------------------------------------------------------------

KILLED_FLAT_WRITER = SLOW_DISK + textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nbflow import OutputContext
    from nbflow.storage.fs import InstanceFilesIOManager
    from nbflow.storage.sqlite import SqliteManifestStore

    root = Path(sys.argv[1])
    manager = InstanceFilesIOManager(root / "store", SqliteManifestStore(root / "runs.db"))
    context = OutputContext(step_key="big", name="result", version="v1")
    manager.handle_output(context, b"x" * {big})
    print("finished")
    """
).format(big=64 * CHUNK)


def test_a_writer_killed_mid_write_leaves_nothing_the_flat_store_accepts(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    temporaries = tmp_path / "store" / ".tmp"

    def written() -> list[Path]:
        return list(temporaries.glob(".*.tmp")) if temporaries.exists() else []

    proc = kill_mid_write(KILLED_FLAT_WRITER, tmp_path, processes, written)
    proc.communicate(timeout=10)

    manager = store(tmp_path)
    context = OutputContext(step_key="big", name="result", version="v1")
    assert not manager.has_output(context)
    assert entries(tmp_path / "store") == [".tmp"]  # nothing published
    [leftover] = list(temporaries.iterdir())
    assert remove_stale_temporaries(temporaries, older_than=0) == [leftover]
    manager.handle_output(context, b"whole")
    assert load(manager, context) == b"whole"


def test_temporary_names_differ_in_a_forked_child(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    from nbflow.storage.local_files import _NAMES

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next name and leave at once
        os.write(write, _NAMES.next().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.waitpid(pid, 0)
    os.close(read)

    assert child.split("-")[0] == str(pid)
    assert _NAMES.next().split("-")[0] == str(os.getpid())
