"""The filesystem IO managers: layout by version, has_output, manifests, unsafe keys.

A small contract runs over both memoizable IO managers nbflow ships (in-memory and
filesystem); the rest is about files on disk.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    InputContext,
    Instance,
    Out,
    OutputContext,
    fs_io_manager,
    job,
    list_versions,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.definitions.io_manager import MemoizableIOManager, is_memoizable
from nbflow.errors import OutputNotFoundError, UnsafeStorageKeyError
from nbflow.storage import FilesystemIOManager, InMemoryIOManager, clear_memoized_values
from nbflow.storage.fs import InstanceFilesIOManager
from nbflow.storage.sqlite import SqliteManifestStore

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def out_ctx(
    step_key: str = "step", name: str = "result", version: str | None = "v1", run_id: str = ""
) -> OutputContext:
    return OutputContext(step_key=step_key, name=name, version=version, run_id=run_id)


def in_ctx(upstream: OutputContext) -> InputContext:
    return InputContext(name="x", step_key="downstream", upstream_output=upstream)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- the contract every memoizable IO manager keeps ---------------------------------------------


def flat_store(tmp_path: Path) -> FilesystemIOManager:
    """An instance's own store: flat files, manifests in the run history."""
    return InstanceFilesIOManager(tmp_path / "store", SqliteManifestStore(tmp_path / "runs.db"))


@pytest.fixture(params=["memory", "filesystem", "flat"], ids=["memory", "filesystem", "flat"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> MemoizableIOManager:
    if request.param == "memory":
        return InMemoryIOManager()
    if request.param == "flat":
        return flat_store(tmp_path)
    return FilesystemIOManager(tmp_path / "store")


class TestMemoizableContract:
    def test_is_memoizable(self, manager: MemoizableIOManager) -> None:
        assert is_memoizable(manager)

    def test_stored_version_round_trips(self, manager: MemoizableIOManager) -> None:
        context = out_ctx(version="v1")

        assert not manager.has_output(context)
        manager.handle_output(context, {"a": [1, 2]})

        assert manager.has_output(context)
        assert manager.load_input(in_ctx(out_ctx(version="v1"))) == {"a": [1, 2]}

    def test_versions_are_kept_apart(self, manager: MemoizableIOManager) -> None:
        manager.handle_output(out_ctx(version="v1"), "one")
        manager.handle_output(out_ctx(version="v2"), "two")

        assert manager.load_input(in_ctx(out_ctx(version="v1"))) == "one"
        assert manager.load_input(in_ctx(out_ctx(version="v2"))) == "two"
        assert not manager.has_output(out_ctx(version="v3"))

    def test_step_outputs_are_kept_apart(self, manager: MemoizableIOManager) -> None:
        manager.handle_output(out_ctx(step_key="a", name="result"), 1)

        assert not manager.has_output(out_ctx(step_key="b", name="result"))
        assert not manager.has_output(out_ctx(step_key="a", name="other"))

    def test_missing_output_raises_output_not_found(self, manager: MemoizableIOManager) -> None:
        with pytest.raises(OutputNotFoundError, match=r"[Oo]utput step\.result"):
            manager.load_input(in_ctx(out_ctx(version="nope")))

    def test_input_without_upstream_raises(self, manager: MemoizableIOManager) -> None:
        context = InputContext(name="x", step_key="down", upstream_output=None)

        with pytest.raises(OutputNotFoundError, match=r"Input down\.x has no upstream output"):
            manager.load_input(context)

    def test_manifests_round_trip_latest_wins(self, manager: MemoizableIOManager) -> None:
        record = manager.record_manifest  # type: ignore[attr-defined]
        latest = manager.latest_manifest  # type: ignore[attr-defined]

        assert latest("step", "result") is None
        record("step", "result", {"version": "v1", "op_version": "1"})
        record("step", "result", {"version": "v2", "op_version": "2"})

        assert latest("step", "result") == {"version": "v2", "op_version": "2"}
        assert latest("step", "other") is None


# --- files on disk --------------------------------------------------------------------------


class TestLayout:
    def test_versioned_output_path(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)

        manager.handle_output(out_ctx("emit_dog", "result", "abc123"), "poodle")

        path = tmp_path / "emit_dog" / "result" / "abc123"
        assert files_under(tmp_path) == ["emit_dog/result/abc123"]
        assert pickle.loads(path.read_bytes()) == "poodle"

    def test_unversioned_output_is_kept_by_run(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)

        manager.handle_output(out_ctx("emit_dog", "result", None, run_id="run1"), "poodle")

        assert files_under(tmp_path) == ["run1/emit_dog/result"]
        assert manager.load_input(in_ctx(out_ctx("emit_dog", "result", None, "run1"))) == "poodle"

    def test_nested_step_keys_are_one_folder(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)

        manager.handle_output(out_ctx("outer.inner", "result", "v1"), 1)

        assert files_under(tmp_path) == ["outer.inner/result/v1"]

    def test_manifest_files(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)

        manager.record_manifest("step", "result", {"version": "v1", "op_version": "1"})

        assert files_under(tmp_path) == ["step/result/v1.manifest.json"]
        assert json.loads((tmp_path / "step/result/v1.manifest.json").read_text()) == {
            "op_version": "1",
            "version": "v1",
        }

    @pytest.mark.parametrize(
        "content", [b"{not json", b"[1, 2]", b""], ids=["corrupt", "not-a-dict", "empty"]
    )
    def test_unreadable_latest_manifest_is_none(self, tmp_path: Path, content: bytes) -> None:
        manager = FilesystemIOManager(tmp_path)
        manager.record_manifest("step", "result", {"version": "v1"})
        (tmp_path / "step" / "result" / "v1.manifest.json").write_bytes(content)

        assert manager.latest_manifest("step", "result") is None

    def test_each_manifest_is_written_once_and_the_newest_is_the_latest(
        self, tmp_path: Path
    ) -> None:
        manager = FilesystemIOManager(tmp_path)

        for n in range(5):  # within one clock tick of the file system, most likely
            manager.record_manifest("step", "result", {"version": f"v{n}"})
        manager.record_manifest("step", "result", {"version": "v2", "again": True})

        assert files_under(tmp_path) == [f"step/result/v{n}.manifest.json" for n in range(5)]
        assert manager.latest_manifest("step", "result") == {"version": "v2", "again": True}
        assert manager.manifest_for("step", "result", "v4") == {"version": "v4"}

    def test_the_latest_pointer_of_nbflow_0_1_0_is_read_until_a_newer_manifest(
        self, tmp_path: Path
    ) -> None:
        folder = tmp_path / "step" / "result"
        folder.mkdir(parents=True)
        for name, version in [("v1.manifest.json", "v1"), ("v2.manifest.json", "v2")]:
            (folder / name).write_text(json.dumps({"version": version}))
        (folder / ".latest.json").write_text(json.dumps({"version": "v1"}))  # v1 re-recorded
        manager = FilesystemIOManager(tmp_path)

        assert manager.latest_manifest("step", "result") == {"version": "v1"}
        manager.record_manifest("step", "result", {"version": "v3"})
        assert manager.latest_manifest("step", "result") == {"version": "v3"}

    def test_missing_file_names_its_path_and_the_fix(self, tmp_path: Path) -> None:
        manager = FilesystemIOManager(tmp_path)

        with pytest.raises(
            OutputNotFoundError,
            match=r"Output emit_dog\.result is not stored at .*emit_dog/result/v9\. "
            r"Fix: run the upstream step first",
        ):
            manager.load_input(in_ctx(out_ctx("emit_dog", "result", "v9")))

    def test_a_folder_with_the_version_name_is_not_an_output(self, tmp_path: Path) -> None:
        (tmp_path / "step" / "result" / "v1").mkdir(parents=True)

        assert not FilesystemIOManager(tmp_path).has_output(out_ctx(version="v1"))

    def test_fs_io_manager_defaults_to_the_instance_storage_folder(self, tmp_path: Path) -> None:
        @op(version="1")
        def answer() -> int:
            return 42

        @job(resource_defs={"io_manager": fs_io_manager}, tags={MEMOIZED_RUN_TAG: "true"})
        def answering() -> None:
            answer()

        instance = Instance.ephemeral()
        assert answering.execute_in_process(instance=instance).success

        [version] = [r.version for r in list_versions(answering, instance=instance)]
        stored = Path(instance.storage_dir) / "answer" / "result" / version
        assert pickle.loads(stored.read_bytes()) == 42


class TestMemoizedJobOnDisk:
    def test_step_reruns_when_any_of_its_outputs_is_missing(
        self, tmp_path: Path, call_log: list[str]
    ) -> None:
        @op(version="1", out={"left": Out(), "right": Out()})
        def split() -> tuple[int, int]:
            call_log.append("split")
            return 1, 2

        @op(version="1")
        def join(left: int, right: int) -> int:
            call_log.append("join")
            return left + right

        @job(
            resource_defs={"io_manager": versioned_filesystem_io_manager},
            tags={MEMOIZED_RUN_TAG: "true"},
        )
        def splitting() -> None:
            left, right = split()
            join(left, right)

        run_config = {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path)}}}}
        assert splitting.execute_in_process(run_config=run_config).success
        rows = {r.step_output: r for r in list_versions(splitting, run_config)}
        (tmp_path / "split" / "right" / rows["split.right"].version).unlink()
        call_log.clear()

        result = splitting.execute_in_process(run_config=run_config)

        assert call_log == ["split"]  # join's inputs have the same versions: still stored
        assert result.output_for_node("join") == 3
        assert (tmp_path / "split" / "right" / rows["split.right"].version).is_file()

    def test_values_written_by_one_manager_are_read_by_another(self, tmp_path: Path) -> None:
        FilesystemIOManager(tmp_path).handle_output(out_ctx(version="v1"), [1, 2, 3])

        other = FilesystemIOManager(str(tmp_path))

        assert other.has_output(out_ctx(version="v1"))
        assert other.load_input(in_ctx(out_ctx(version="v1"))) == [1, 2, 3]


# --- unsafe storage keys --------------------------------------------------------------------

ABSOLUTE = "<absolute path under tmp_path>"
UNSAFE_PARTS = ["..", ".", "", "../escape", "a/b", ABSOLUTE, "a\\b", "x\0y"]
UNSAFE_IDS = ["dotdot", "dot", "empty", "dotdot-slash", "slash", "absolute", "backslash", "nul"]
UNSAFE_CASES = [
    pytest.param(where, part, id=f"{where}-{part_id}")
    for where in ("step_key", "name", "version", "run_id")
    for part, part_id in zip(UNSAFE_PARTS, UNSAFE_IDS, strict=True)
    if not (where == "run_id" and part == "")  # an empty run id means "no run": not a path
]


def concrete(part: str, tmp_path: Path) -> str:
    """The absolute case points at a folder next to base_dir, so an escape would be seen."""
    return str(tmp_path / "outside") if part == ABSOLUTE else part


def local_manager(layout: str, tmp_path: Path) -> FilesystemIOManager:
    if layout == "flat":
        return InstanceFilesIOManager(tmp_path / "base", SqliteManifestStore(tmp_path / "h.db"))
    return FilesystemIOManager(tmp_path / "base")


def files_but_history(root: Path) -> list[str]:
    return [f for f in files_under(root) if not f.startswith("h.db")]


@pytest.mark.parametrize("layout", ["nested", "flat"])
@pytest.mark.parametrize(("where", "part"), UNSAFE_CASES)
def test_unsafe_keys_are_refused_and_nothing_is_written(
    tmp_path: Path, where: str, part: str, layout: str
) -> None:
    manager = local_manager(layout, tmp_path)
    keys: dict[str, Any] = {"step_key": "step", "name": "result", "version": "v1", "run_id": ""}
    if where == "run_id":
        keys["version"] = None
    keys[where] = concrete(part, tmp_path)
    context = OutputContext(**keys)

    with pytest.raises(UnsafeStorageKeyError, match=r"has unsafe parts .*Fix: use plain names"):
        manager.handle_output(context, "value")
    with pytest.raises(UnsafeStorageKeyError):
        manager.has_output(context)
    with pytest.raises(UnsafeStorageKeyError):
        manager.load_input(in_ctx(context))

    assert files_but_history(tmp_path) == []


@pytest.mark.parametrize("layout", ["nested", "flat"])
@pytest.mark.parametrize("part", UNSAFE_PARTS, ids=UNSAFE_IDS)
def test_unsafe_manifest_keys_are_refused(tmp_path: Path, part: str, layout: str) -> None:
    manager = local_manager(layout, tmp_path)
    part = concrete(part, tmp_path)

    with pytest.raises(UnsafeStorageKeyError):
        manager.record_manifest(part, "result", {"version": "v1"})
    with pytest.raises(UnsafeStorageKeyError):
        manager.record_manifest("step", part, {"version": "v1"})
    with pytest.raises(UnsafeStorageKeyError):
        manager.latest_manifest(part, "result")

    assert files_but_history(tmp_path) == []
    assert SqliteManifestStore(tmp_path / "h.db").latest_manifest("step", part) is None


@pytest.mark.parametrize("layout", ["nested", "flat"])
@pytest.mark.parametrize(
    "version", ["../../escape", ABSOLUTE, "a/b"], ids=["dotdot", "absolute", "slash"]
)
def test_unsafe_version_in_a_manifest_is_refused(tmp_path: Path, version: str, layout: str) -> None:
    manager = local_manager(layout, tmp_path)

    with pytest.raises(UnsafeStorageKeyError):
        manager.record_manifest("step", "result", {"version": concrete(version, tmp_path)})

    assert files_but_history(tmp_path) == []


@pytest.mark.parametrize("url", ["s3://bucket/prefix", "memory://x", "file:///tmp/x", "gs://b"])
def test_a_url_is_refused_by_the_local_manager_itself(url: str) -> None:
    from nbflow.errors import StorageUrlError

    with pytest.raises(StorageUrlError, match=r"(?s)is a URL.*Fix: use UrlIOManager\(base_dir\)"):
        FilesystemIOManager(url)
