"""A notebook-defined job on Dask workers that cannot read the client's disk.

The client is a real Jupyter kernel running in its own folder (cwd, TMPDIR, nbflow home and
snapshot folder all in it). The workers are ``dask worker`` processes started in another
folder, with another TMPDIR, and a preload that refuses any read of the client's folder (the
first test proves it refuses). Values go through the storage named by :func:`storage_base_dir`:
a bucket on the tests' S3 server (moto) — never the client's folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from kernel_output import KERNEL_OUTPUT
from nbclient import NotebookClient

if TYPE_CHECKING:
    from collections.abc import Iterator

    from s3_server import S3Server

pytestmark = pytest.mark.kernel  # the client is a Jupyter kernel (the folder marks it dask)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PRELOAD = FIXTURES / "refuse_client_disk.py"
STARTUP_SECONDS = 60


def storage_base_dir(server: S3Server) -> str:
    """Where the run keeps its values: a bucket on the S3 server the client and workers reach."""
    return f"s3://{server.bucket}/no-shared-disk-{uuid.uuid4().hex[:12]}"


@dataclass
class Sides:
    """The client's folder, the workers' folder, and the cluster they meet on."""

    client: Path
    workers: Path
    address: str
    base_dir: str


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory, moto_s3: S3Server) -> Iterator[Sides]:
    import dask
    import distributed

    root = tmp_path_factory.mktemp("no-shared-disk")
    client_dir, workers_dir = root / "client", root / "workers"
    for folder in (client_dir / "tmp", workers_dir / "cwd", workers_dir / "tmp"):
        folder.mkdir(parents=True)
    (client_dir / "secret.txt").write_text("client only", encoding="utf-8")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=0, processes=True, dashboard_address=None, scheduler_kwargs={"port": 0}
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBFLOW_") and k != "TMPDIR"}
    env.update(
        {
            "TMPDIR": str(workers_dir / "tmp"),
            "NBFLOW_TEST_CLIENT_DIR": str(client_dir),
            "NBFLOW_TEST_REFUSED_LOG": str(workers_dir / "refused.log"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(FIXTURES), env.get("PYTHONPATH")) if p),
        }
    )
    command = [
        *(sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address),
        *("--nworkers", "2", "--nthreads", "1", "--no-dashboard"),
        *("--preload", str(PRELOAD)),
    ]
    log = (workers_dir / "workers.log").open("wb")
    workers = subprocess.Popen(
        command, cwd=workers_dir / "cwd", env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=STARTUP_SECONDS)
        yield Sides(client_dir, workers_dir, cluster.scheduler_address, storage_base_dir(moto_s3))
    finally:
        workers.terminate()
        try:
            workers.wait(timeout=20)
        except subprocess.TimeoutExpired:
            workers.kill()
            workers.wait()
        log.close()
        cluster.close()


def test_the_workers_run_elsewhere_and_cannot_read_the_client_folder(sides: Sides) -> None:
    import distributed

    probe: Any = __import__("refuse_client_disk").probe
    secret = str(sides.client / "secret.txt")
    with distributed.Client(sides.address, set_as_default=False) as client:
        outcomes = list(client.run(probe, secret).values())
    assert len(outcomes) == 2
    for outcome in outcomes:
        assert outcome["cwd"] == str(sides.workers / "cwd")
        assert outcome["tmp"] == str(sides.workers / "tmp")
        assert outcome["open"].startswith("refused: this worker cannot read the client's disk")
        assert outcome["listdir"].startswith("refused:")
    assert len(refused(sides)) == 4  # each refusal is noted
    assert probe(secret)["open"] == "read"  # the same file is there, for the client


IMPORTS = """\
import json, os
from nbflow import EventType, SourceHashVersionStrategy, execute_job, fs_io_manager, job, op
from nbflow.dask import dask_executor"""
OPS = """\
FACTOR = 3

@op
def load():
    return list(range(10))

@op
def scale(values):
    return [v * FACTOR for v in values]

@op
def total(values):
    return {"sum": sum(values), "pid": os.getpid(), "cwd": os.getcwd(), "module": __name__}

@job(
    executor_def=dask_executor,
    version_strategy=SourceHashVersionStrategy(),
    resource_defs={"io_manager": fs_io_manager},
)
def flow():
    total(scale(load()))"""
RUN = """\
config = {{
    "execution": {{"config": {{"address": {address!r}}}}},
    "resources": {{"io_manager": {{"config": {{"base_dir": {base_dir!r}}}}}}},
}}

def run_and_report():
    result = execute_job(flow, run_config=config, raise_on_error=False)
    started = [e.step_key for e in result.filter_events(EventType.STEP_WORKER_STARTED)]
    failures = [e.message for e in result.filter_events(EventType.STEP_FAILURE)]
    record = {{"kernel": os.getpid(), "success": result.success, "started": sorted(started),
              "failures": failures, "total": result.output_for_node("total") if result.success else None}}
    print("RESULT", json.dumps(record))

run_and_report()"""
AGAIN = "run_and_report()"


def run_cells(cells: list[str], folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Run ``cells`` in a fresh kernel whose cwd, TMPDIR and nbflow folders are in ``folder``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = NotebookClient(
        notebook,
        **KERNEL_OUTPUT,
        kernel_name="python3",
        timeout=STARTUP_SECONDS * 2,
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    env = {
        **os.environ,
        "TMPDIR": str(folder / "tmp"),
        "NBFLOW_HOME": str(folder / "home"),
        "NBFLOW_SNAPSHOT_DIR": str(folder / "snapshots"),
    }
    client.execute(env=env)
    results, problems = [], []
    for cell in notebook.cells:
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                results += [
                    json.loads(line.removeprefix("RESULT "))
                    for line in output.text.splitlines()
                    if line.startswith("RESULT ")
                ]
            elif output.output_type == "error":
                problems.append(f"{output.ename}: {output.evalue}")
            elif output.output_type == "stream" and "nbflow:" in output.text:
                problems.append(output.text)  # a note that the job went by value
    return results, problems


def refused(sides: Sides) -> list[str]:
    """What the workers were refused so far (one line each: pid, audit event, path)."""
    log = sides.workers / "refused.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_a_notebook_job_runs_and_memoizes_on_workers_without_the_client_disk(
    sides: Sides, moto_s3: S3Server
) -> None:
    started = time.perf_counter()
    refused_before = refused(sides)
    run = RUN.format(address=sides.address, base_dir=sides.base_dir)
    results, problems = run_cells([IMPORTS, OPS, run, AGAIN], sides.client)
    assert problems == []
    first, again = results
    assert first["failures"] == [] and first["success"] is True
    assert first["started"] == ["load", "scale", "total"]  # every step ran on a worker
    total = first["total"]
    assert total["sum"] == 135 and total["pid"] != first["kernel"]
    assert total["cwd"] == str(sides.workers / "cwd")
    assert total["module"].startswith("nbflow_snapshot_")  # rebuilt from the snapshot's text
    assert again["success"] is True and again["started"] == []  # fully memoized
    assert again["total"] == total  # loaded from the shared storage
    stored = moto_s3.filesystem().find(sides.base_dir)
    assert any("/total/" in key for key in stored)  # the values are in the bucket
    assert refused(sides) == refused_before  # the workers never even tried the client's disk
    assert time.perf_counter() - started < 60
