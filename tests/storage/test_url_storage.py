"""Storage at an fsspec URL: memory://, file:// and s3:// (a real moto server on 127.0.0.1).

Values go to the URL, never to a local folder named after it; memoized runs skip what is
stored there; damaged, partial and abandoned objects are never loaded as values; a scheme
whose backend is missing is a clear error before anything runs.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    InputContext,
    Instance,
    OutputContext,
    execute_job,
    fs_io_manager,
    job,
    list_versions,
    multiprocess_executor,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.errors import CorruptOutputError, NbflowError, StorageBackendError
from nbflow.storage import UrlIOManager

if TYPE_CHECKING:
    from collections.abc import Callable

    from s3_server import S3Server

VALUE = {"numbers": list(range(2000)), "name": "payload"}


def out_ctx(version: str = "v1") -> OutputContext:
    return OutputContext(step_key="step", name="result", version=version)


def in_ctx(version: str = "v1") -> InputContext:
    return InputContext(name="x", step_key="down", upstream_output=out_ctx(version))


def memo_job(calls: list[str], executor_def: Any = None) -> Any:
    """produce -> consume, memoized, stored by versioned_filesystem_io_manager."""

    @op(version="1")
    def produce() -> dict[str, Any]:
        calls.append("produce")
        return VALUE

    @op(version="1")
    def consume(value: dict[str, Any]) -> int:
        calls.append("consume")
        return len(value["numbers"])

    extra = {} if executor_def is None else {"executor_def": executor_def}

    @job(
        resource_defs={"io_manager": versioned_filesystem_io_manager},
        tags={MEMOIZED_RUN_TAG: "true"},
        **extra,
    )
    def pipeline() -> None:
        consume(produce())

    return pipeline


def storage_config(base_dir: str) -> dict[str, Any]:
    return {"resources": {"io_manager": {"config": {"base_dir": base_dir}}}}


def no_folder_named_after_a_url(folder: Path) -> bool:
    return not any(":" in p.name for p in folder.rglob("*"))


@pytest.fixture
def memory_url() -> str:
    return f"memory://nbflow-tests/{uuid.uuid4().hex[:12]}"


# --- memoized jobs at a URL ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["memory", "s3", "file"])
def test_a_memoized_job_stores_at_the_url_and_its_rerun_skips_every_step(
    scheme: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # a URL read as a local folder would land here
    base_dir = {
        "memory": lambda: request.getfixturevalue("memory_url"),
        "s3": lambda: request.getfixturevalue("s3_base_dir"),
        "file": lambda: (tmp_path / "store").as_uri(),
    }[scheme]()
    calls: list[str] = []
    pipeline = memo_job(calls)
    config = storage_config(base_dir)
    instance = Instance.local(tmp_path / "home")

    first = pipeline.execute_in_process(run_config=config, instance=instance)
    assert first.success and calls == ["produce", "consume"]
    rows = {r.step_output: r for r in list_versions(pipeline, config, instance=instance)}
    assert {r.status for r in rows.values()} == {"stored"}

    calls.clear()
    again = pipeline.execute_in_process(run_config=config, instance=instance)
    assert again.success and calls == []
    assert again.output_for_node("consume") == 2000

    fs, root = fsspec.url_to_fs(base_dir)
    version = rows["produce.result"].version
    stored = f"{root}/produce/result/{version}"
    assert pickle.loads(fs.cat_file(stored)) == VALUE  # a plain pickle, then its record
    assert fs.isfile(f"{root}/produce/result/{version}.manifest.json")
    assert fs.isfile(f"{root}/produce/result/.latest.json")
    assert no_folder_named_after_a_url(tmp_path)
    assert not Path(instance.storage_dir).exists()  # nothing in the instance's local folder


def test_fs_io_manager_takes_storage_options_for_the_file_system(
    moto_s3: S3Server, s3_base_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the config can say where the server is
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wrong")

    @op
    def answer() -> int:
        return 42

    @job(resource_defs={"io_manager": fs_io_manager})
    def answering() -> None:
        answer()

    options = {"endpoint_url": moto_s3.endpoint_url, "key": "testing", "secret": "testing"}
    config = {
        "resources": {
            "io_manager": {"config": {"base_dir": s3_base_dir, "storage_options": options}}
        }
    }
    result = answering.execute_in_process(run_config=config)

    assert result.success
    stored = moto_s3.filesystem().find(s3_base_dir.removeprefix("s3://"))
    assert [p.rsplit("/", 2)[1:] for p in stored] == [["answer", "result"]]


def test_a_multiprocess_run_stores_on_s3_from_its_step_processes(
    s3_base_dir: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    pipeline = memo_job(calls, executor_def=multiprocess_executor)
    config = storage_config(s3_base_dir)
    instance = Instance.local(tmp_path / "home")

    first = execute_job(pipeline, instance=instance, run_config=config)
    assert first.success
    assert calls == []  # the steps ran in their own processes
    assert first.output_for_node("consume") == 2000

    rows = {r.step_output: r for r in list_versions(pipeline, config, instance=instance)}
    assert {r.status for r in rows.values()} == {"stored"}
    second = execute_job(pipeline, instance=instance, run_config=config)
    assert second.success
    assert not second.get_step_success_events()  # both steps were memoized: none ran
    assert second.output_for_node("consume") == 2000


# --- damaged, partial and abandoned objects --------------------------------------------------


def flip_a_bit(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[len(damaged) // 3] ^= 0x01  # inside the value, not its record
    return bytes(damaged)


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "bit-flipped": flip_a_bit,
    "truncated": lambda data: data[: len(data) // 2],
    "emptied": lambda data: b"",
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_object_is_never_loaded_and_is_moved_aside(memory_url: str, damage: str) -> None:
    manager = UrlIOManager(memory_url)
    manager.handle_output(out_ctx(), VALUE)
    fs, path = manager.files.fs, manager.path_for(out_ctx())
    fs.pipe_file(path, DAMAGE[damage](fs.cat_file(path)))

    if damage != "bit-flipped":  # the record does not match the object's size
        assert not manager.has_output(out_ctx())
    with pytest.raises(CorruptOutputError) as raised:
        manager.load_input(in_ctx())

    message = str(raised.value)
    assert f"{memory_url}/step/result/v1 is damaged" in message
    assert "will be recomputed" in message
    assert not fs.exists(path) and fs.exists(path + ".corrupt")
    assert not manager.has_output(out_ctx())


def test_a_corrupted_s3_object_is_recomputed_by_the_next_memoized_run(
    moto_s3: S3Server, s3_base_dir: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    pipeline = memo_job(calls)
    config = storage_config(s3_base_dir)
    instance = Instance.local(tmp_path / "home")
    assert pipeline.execute_in_process(run_config=config, instance=instance).success
    rows = {r.step_output: r for r in list_versions(pipeline, config, instance=instance)}
    s3 = moto_s3.filesystem()
    key = f"{s3_base_dir.removeprefix('s3://')}/produce/result/{rows['produce.result'].version}"
    s3.pipe_file(key, flip_a_bit(s3.cat_file(key)))
    calls.clear()

    looked_whole = pipeline.execute_in_process(run_config=config, instance=instance)
    assert calls == []  # its size matches: it looked stored, nothing ran
    with pytest.raises(CorruptOutputError, match=f"s3://{key} is damaged.*will be recomputed"):
        looked_whole.output_for_node("produce")
    assert s3.exists(key + ".corrupt")

    result = pipeline.execute_in_process(run_config=config, instance=instance)
    assert result.success
    assert calls == ["produce"]  # consume's input has the same version: still stored
    assert result.output_for_node("produce") == VALUE
    assert pickle.loads(s3.cat_file(key)) == VALUE


def test_a_partial_s3_object_is_not_an_output_and_is_recomputed(
    moto_s3: S3Server, s3_base_dir: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    pipeline = memo_job(calls)
    config = storage_config(s3_base_dir)
    instance = Instance.local(tmp_path / "home")
    assert pipeline.execute_in_process(run_config=config, instance=instance).success
    rows = {r.step_output: r for r in list_versions(pipeline, config, instance=instance)}
    s3 = moto_s3.filesystem()
    key = f"{s3_base_dir.removeprefix('s3://')}/produce/result/{rows['produce.result'].version}"
    s3.pipe_file(key, s3.cat_file(key)[:-40])  # what a writer that is not atomic would leave
    calls.clear()

    assert {r.step_output: r.status for r in list_versions(pipeline, config, instance=instance)}[
        "produce.result"
    ] != "stored"
    result = pipeline.execute_in_process(run_config=config, instance=instance)

    assert result.success and calls == ["produce"]
    assert result.output_for_node("consume") == 2000


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from nbflow.definitions.io_manager import OutputContext
    from nbflow.storage import UrlIOManager

    class KillsTheWriter:
        def __reduce__(self):
            os.kill(os.getpid(), signal.SIGKILL)  # mid-write: megabytes are already sent

    manager = UrlIOManager(sys.argv[1], storage_options={"default_block_size": 5 << 20})
    value = [os.urandom(1 << 20) for _ in range(12)] + [KillsTheWriter()]
    manager.handle_output(OutputContext(step_key="step", name="result", version="v1"), value)
    """
)


def test_a_writer_killed_mid_upload_leaves_no_object(moto_s3: S3Server, s3_base_dir: str) -> None:
    manager = UrlIOManager(s3_base_dir)
    manager.handle_output(out_ctx(), "the old value")

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, s3_base_dir], capture_output=True, check=False
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    s3 = moto_s3.filesystem()
    uploads = s3.call_s3("list_multipart_uploads", Bucket=moto_s3.bucket).get("Uploads", [])
    assert any(u["Key"].endswith("/step/result/v1") for u in uploads)  # it was mid-upload
    assert manager.has_output(out_ctx())
    assert manager.load_input(in_ctx()) == "the old value"  # never a part of the new one


def test_a_write_that_fails_midway_publishes_nothing(s3_base_dir: str, memory_url: str) -> None:
    class Unpicklable:
        def __reduce__(self) -> Any:
            raise RuntimeError("cannot pickle this")

    options = {s3_base_dir: {"default_block_size": 5 << 20}}  # a multipart upload to abort
    for base_dir in (s3_base_dir, memory_url):
        manager = UrlIOManager(base_dir, storage_options=options.get(base_dir))
        with pytest.raises(RuntimeError, match="cannot pickle"):
            manager.handle_output(out_ctx(), [os.urandom(6 << 20), Unpicklable()])
        assert not manager.has_output(out_ctx())
        assert manager.files.fs.find(manager.root) == []  # no object, no temporary


def test_stale_temporaries_at_a_file_url_are_removed_on_the_first_write(tmp_path: Path) -> None:
    folder = tmp_path / "step" / "result"
    folder.mkdir(parents=True)
    old, fresh = folder / ".v0.0123456789abcdef.tmp", folder / ".v0.fedcba9876543210.tmp"
    for path, age in ((old, 7200), (fresh, 5)):
        path.write_bytes(b"partial")
        os.utime(path, (path.stat().st_mtime - age,) * 2)

    UrlIOManager(tmp_path.as_uri()).handle_output(out_ctx(), VALUE)

    assert not old.exists() and fresh.exists()
    assert sorted(p.name for p in folder.iterdir()) == [fresh.name, "v1"]


# --- clear errors before anything runs -------------------------------------------------------


def test_a_scheme_whose_backend_is_missing_is_a_clear_error_before_any_step_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # gcsfs not installed
    calls: list[str] = []
    pipeline = memo_job(calls)

    with pytest.raises(NbflowError, match=r"(?s)gcsfs.*Nothing ran.*Fix: pip install \"gcsfs\""):
        pipeline.execute_in_process(run_config=storage_config("gs://bucket/prefix"))
    assert calls == []
    assert no_folder_named_after_a_url(tmp_path)


def test_missing_fsspec_names_the_s3_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)

    with pytest.raises(
        StorageBackendError, match=r'(?s)fsspec is not installed.*"nbflowkit\[s3\]"'
    ):
        UrlIOManager("s3://bucket/prefix")


def test_an_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(NbflowError, match="'nosuch', which fsspec does not know"):
        UrlIOManager("nosuch://bucket/prefix")


def test_fsspec_is_imported_only_when_a_url_is_used(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import sys
        from nbflow import job, op, versioned_filesystem_io_manager

        @op
        def one():
            return 1

        @job(resource_defs={"io_manager": versioned_filesystem_io_manager})
        def single():
            one()

        def run(base_dir):
            config = {"resources": {"io_manager": {"config": {"base_dir": base_dir}}}}
            assert single.execute_in_process(run_config=config).success
            return [m for m in ("fsspec", "s3fs") if m in sys.modules]

        print(run(sys.argv[1]), run("memory://probe"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[] ['fsspec']", done.stdout + done.stderr


def test_the_instance_files_io_manager_at_a_url_keeps_an_unpicklable_value_in_memory(
    memory_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []

    @op(version="1")
    def lines() -> Any:
        calls.append("lines")
        return (n for n in range(3))  # pickle cannot store a generator

    @op(version="1")
    def total(numbers: Any) -> int:
        return sum(numbers)

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def summing() -> None:
        total(lines())

    config = storage_config(memory_url)
    instance = Instance.local(tmp_path / "home")
    with pytest.warns(Warning, match="not kept between runs"):
        result = summing.execute_in_process(run_config=config, instance=instance)

    assert result.success and result.output_for_node("total") == 3
    fs, root = fsspec.url_to_fs(memory_url)
    stored = [p.removeprefix(root) for p in fs.find(root)]
    assert any(p.startswith("/total/result/") for p in stored)
    assert not any(p.startswith("/lines/result/") and not p.endswith(".json") for p in stored)
