"""An instance's storage set to a URL or another folder: every IO manager that stores in the
instance's storage by default stores there, in this process and in step processes; storage
that lives in one process (``memory://``) is refused for steps run in other processes."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    Instance,
    execute_job,
    fs_io_manager,
    job,
    list_versions,
    multiprocess_executor,
    op,
)
from nbflow.errors import OutOfProcessStorageError, StorageBackendError
from nbflow.storage.instance import STORAGE_ENV_VAR

if TYPE_CHECKING:
    from s3_server import S3Server

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}


def counted_job(calls: list[str], **job_options: Any) -> Any:
    """produce -> consume, versioned, on the job's default IO manager."""

    @op(version="1")
    def produce() -> list[int]:
        calls.append("produce")
        return list(range(100))

    @op(version="1")
    def consume(numbers: list[int]) -> int:
        calls.append("consume")
        return sum(numbers)

    @job(**job_options)
    def pipeline() -> None:
        consume(produce())

    return pipeline


def stored_values(fs: Any, url: str) -> list[str]:
    """``<step>.<output>`` of each value stored under ``url`` (manifests left out)."""
    root = url.removeprefix("s3://")
    found = [path[len(root) + 1 :].split("/") for path in fs.find(root)]
    return sorted(".".join(parts[:2]) for parts in found if not parts[-1].endswith(".json"))


def test_an_instance_with_s3_storage_keeps_memoized_values_there(
    moto_s3: S3Server, s3_base_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the instance's options say where S3 is
    options = {"endpoint_url": moto_s3.endpoint_url}
    instance = Instance.local(tmp_path / "home", storage=s3_base_dir, storage_options=options)
    calls: list[str] = []
    pipeline = counted_job(calls)

    first = pipeline.execute_in_process(instance=instance, tags=MEMOIZED)
    assert first.success and calls == ["produce", "consume"]
    assert instance.storage_dir == s3_base_dir
    assert stored_values(moto_s3.filesystem(), s3_base_dir) == ["consume.result", "produce.result"]
    assert not (tmp_path / "home" / "storage").exists()
    assert not any(":" in p.name for p in tmp_path.rglob("*"))

    calls.clear()
    again = pipeline.execute_in_process(instance=instance, tags=MEMOIZED)
    assert again.success and calls == []
    assert again.output_for_node("consume") == 4950
    assert {r.status for r in list_versions(pipeline, instance=instance)} == {"stored"}


def test_step_processes_store_in_the_instance_s3_storage(
    moto_s3: S3Server, s3_base_dir: str, tmp_path: Path
) -> None:
    instance = Instance.local(tmp_path / "home", storage=s3_base_dir)
    pipeline = counted_job([], executor_def=multiprocess_executor)

    first = execute_job(pipeline, instance=instance, tags=MEMOIZED)
    assert first.success and first.output_for_node("consume") == 4950
    assert stored_values(moto_s3.filesystem(), s3_base_dir) == ["consume.result", "produce.result"]
    assert not (tmp_path / "home" / "storage").exists()

    second = execute_job(pipeline, instance=instance, tags=MEMOIZED)
    assert second.success and not second.get_step_success_events()  # both memoized


def test_an_instance_storage_folder_holds_the_values_and_runs_db_their_manifests(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "big-disk"
    instance = Instance.local(tmp_path / "home", storage=elsewhere)
    calls: list[str] = []
    pipeline = counted_job(calls)

    assert pipeline.execute_in_process(instance=instance, tags=MEMOIZED)
    assert sorted(p.name.split("@")[0] for p in elsewhere.iterdir() if p.is_file()) == [
        "consume.result",
        "produce.result",
    ]
    assert not (tmp_path / "home" / "storage").exists()
    calls.clear()
    reopened = Instance.local(tmp_path / "home", storage=elsewhere)
    assert pipeline.execute_in_process(instance=reopened, tags=MEMOIZED)
    assert calls == []


def test_nbflow_storage_sets_where_instance_get_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"memory://nbflow-tests/{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(STORAGE_ENV_VAR, url)

    instance = Instance.get()
    assert instance.storage_dir == url
    assert url in repr(instance)
    calls: list[str] = []
    pipeline = counted_job(calls)
    assert pipeline.execute_in_process(instance=instance, tags=MEMOIZED)
    calls.clear()
    assert pipeline.execute_in_process(instance=Instance.get(), tags=MEMOIZED)
    assert calls == []


def test_an_instance_storage_url_whose_backend_is_missing_fails_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # gcsfs not installed

    with pytest.raises(StorageBackendError, match=r'(?s)gcsfs.*Fix: pip install "gcsfs"'):
        Instance.local(tmp_path / "home", storage="gs://bucket/prefix")
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("where", ["config", "instance"])
def test_memory_url_storage_is_refused_for_step_processes_before_any_step_runs(
    where: str, tmp_path: Path
) -> None:
    url = f"memory://nbflow-tests/{uuid.uuid4().hex[:12]}"
    calls: list[str] = []
    pipeline = counted_job(
        calls, executor_def=multiprocess_executor, resource_defs={"io_manager": fs_io_manager}
    )
    if where == "config":
        instance = Instance.local(tmp_path / "home")
        run_config = {"resources": {"io_manager": {"config": {"base_dir": url}}}}
    else:
        instance = Instance.local(tmp_path / "home", storage=url)
        run_config = {}

    with pytest.raises(OutOfProcessStorageError, match=r"(?s)'produce.result'.*memory://"):
        execute_job(pipeline, instance=instance, run_config=run_config)
    assert calls == []
