"""Notebook-defined jobs in a real Jupyter kernel (nbclient, ``python3`` kernel).

Each notebook is built with nbformat and run top to bottom in a fresh kernel; cells report
with ``print("RESULT", json.dumps(...))``. Proven here: ``execute_job`` runs a job defined in
cells in other processes (multiprocess and Dask) through a snapshot module of its cells; the
module's name depends on the definitions only (kernel restart, cell order); editing one op's
cell re-runs only that op and what is downstream; and what cannot be snapshotted falls back
or fails with a clear message, never a traceback for the fallback.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from kernel_output import KERNEL_OUTPUT
from nbclient import NotebookClient

if TYPE_CHECKING:
    from pathlib import Path

TIMEOUT_SECONDS = 120


@dataclass
class Executed:
    """What a notebook printed: its RESULT records, stderr text and error outputs."""

    results: list[dict[str, Any]]
    stderr: str
    errors: list[str]

    def notes(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("nbflow:")]


def run_notebook(cells: list[str], folder: Path) -> Executed:
    """Run ``cells`` in a fresh ``python3`` kernel started in ``folder``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = NotebookClient(
        notebook,
        **KERNEL_OUTPUT,
        kernel_name="python3",
        timeout=TIMEOUT_SECONDS,
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env={**os.environ, "NBFLOW_SNAPSHOT_DIR": str(folder / "snapshots")})
    results: list[dict[str, Any]] = []
    stderr: list[str] = []
    errors: list[str] = []
    for cell in notebook.cells:
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                results += [
                    json.loads(line.removeprefix("RESULT "))
                    for line in output.text.splitlines()
                    if line.startswith("RESULT ")
                ]
            elif output.output_type == "stream":
                stderr.append(output.text)
            elif output.output_type == "error":
                errors.append(f"{output.ename}: {output.evalue}")
    return Executed(results, "".join(stderr), errors)


# --- 1 and 2: execute_job in other processes; content-addressed snapshot modules -----------

IMPORTS = """\
import json, os
import nbflow.notebook as nbn
from nbflow import execute_job, job, multiprocess_executor, op
from nbflow.dask import dask_executor"""
SOURCE = """\
@op
def source():
    return {"value": 2, "pid": os.getpid(), "module": __name__}"""
SCALED = """\
FACTOR = 21

@op
def scaled(x):
    return {"value": x["value"] * FACTOR, "pid": os.getpid(), "module": __name__}"""
SIDE = """\
@op
def side():
    return {"value": 0, "pid": os.getpid(), "module": __name__}"""
FLOW = """\
@job(executor_def=multiprocess_executor)
def flow():
    scaled(source())
    side()"""
POINTER = """\
pointer = nbn.reconstructable(flow)
path = os.path.join(pointer.working_directory, pointer.module_name + ".py")
print("RESULT", json.dumps({"module": pointer.module_name, "file": os.path.isfile(path)}))"""
STEPS = ("source", "scaled", "side")
RUN_MULTIPROCESS = """\
result = execute_job(flow, run_config={"execution": {"config": {"max_concurrent": 2}}})
steps = {key: result.output_for_node(key) for key in ("source", "scaled", "side")}
print("RESULT", json.dumps({"kernel": os.getpid(), "steps": steps}))"""
RUN_DASK = """\
@job(executor_def=dask_executor)
def dask_flow():
    scaled(source())
    side()

result = execute_job(dask_flow, run_config={"execution": {"config": {"n_workers": 2}}})
steps = {key: result.output_for_node(key) for key in ("source", "scaled", "side")}
print("RESULT", json.dumps({"kernel": os.getpid(), "steps": steps}))"""


@pytest.fixture(scope="module")
def executed_jobs(tmp_path_factory: pytest.TempPathFactory) -> Executed:
    folder = tmp_path_factory.mktemp("kernel-jobs")
    cells = [IMPORTS, SOURCE, SCALED, SIDE, FLOW, POINTER, RUN_MULTIPROCESS, RUN_DASK]
    return run_notebook(cells, folder)


def check_steps(record: dict[str, Any]) -> dict[str, Any]:
    steps = record["steps"]
    assert {k: steps[k]["value"] for k in STEPS} == {"source": 2, "scaled": 42, "side": 0}
    assert all(steps[k]["pid"] != record["kernel"] for k in STEPS)
    assert all(steps[k]["module"].startswith("nbflow_snapshot_") for k in STEPS)
    return steps


def test_execute_job_runs_cell_defined_ops_in_step_processes(executed_jobs: Executed) -> None:
    assert executed_jobs.errors == []
    assert executed_jobs.notes() == []  # the snapshot was used: no by-value fallback
    pointer, multiprocess, _ = executed_jobs.results
    steps = check_steps(multiprocess)
    assert {steps[k]["module"] for k in STEPS} == {pointer["module"]}  # check_steps: not the kernel


def test_execute_job_runs_cell_defined_ops_on_dask_workers(executed_jobs: Executed) -> None:
    assert executed_jobs.errors == []
    steps = check_steps(executed_jobs.results[2])
    assert len({steps[k]["pid"] for k in STEPS}) <= 2  # two worker processes


def test_the_snapshot_module_is_named_by_its_definitions_only(
    executed_jobs: Executed, tmp_path: Path
) -> None:
    first = executed_jobs.results[0]
    assert first["file"] is True
    restarted = run_notebook([IMPORTS, SOURCE, SCALED, SIDE, FLOW, POINTER], tmp_path)
    reordered = run_notebook([IMPORTS, SIDE, SCALED, SOURCE, FLOW, POINTER], tmp_path)
    assert restarted.errors == reordered.errors == []
    assert restarted.results == reordered.results == [first]


# --- 3: edit one op's cell, re-run: only it and its downstream execute ----------------------

EDIT_SETUP = """\
import json
from nbflow import SourceHashVersionStrategy, asset, job, materialize_to_memory, op

calls = []
strategy = SourceHashVersionStrategy()

def report_run(result, value_of):
    skipped = sorted(e.step_key for e in result.get_step_skipped_events())
    record = {"ran": sorted(calls), "skipped": skipped, "value": result.output_for_node(value_of)}
    print("RESULT", json.dumps(record))
    calls.clear()"""
OPS = """\
@op
def load():
    calls.append("load")
    return 2

@op
def double(x):
    calls.append("double")
    return x * 2

@op
def report(x):
    calls.append("report")
    return x + 1

@op
def audit():
    calls.append("audit")
    return "ok"

@job(version_strategy=strategy)
def flow():
    report(double(load()))
    audit()

report_run(flow.execute_in_process(), "report")"""
RERUN_JOB = 'report_run(flow.execute_in_process(), "report")'
EDITED_OP = """\
@op
def double(x):
    calls.append("double")
    return x * 3  # edited

@job(version_strategy=strategy)
def flow():
    report(double(load()))
    audit()"""
ASSETS = """\
@asset
def raw():
    calls.append("raw")
    return 2

@asset
def cooked(raw):
    calls.append("cooked")
    return raw * 10

@asset
def served(cooked):
    calls.append("served")
    return cooked + 1

@asset
def other():
    calls.append("other")
    return 0

report_run(materialize_to_memory([raw, cooked, served, other], version_strategy=strategy), "served")"""
RERUN_ASSETS = (
    "report_run(materialize_to_memory([raw, cooked, served, other], "
    'version_strategy=strategy), "served")'
)
EDITED_ASSET = """\
@asset
def cooked(raw):
    calls.append("cooked")
    return raw * 100  # edited"""


def test_editing_one_cell_re_runs_only_that_op_and_its_downstream(tmp_path: Path) -> None:
    executed = run_notebook(
        [
            EDIT_SETUP,
            OPS,
            RERUN_JOB,
            EDITED_OP,
            RERUN_JOB,
            ASSETS,
            RERUN_ASSETS,
            EDITED_ASSET,
            RERUN_ASSETS,
        ],
        tmp_path,
    )
    assert executed.errors == []
    first, again, edited, assets, assets_again, assets_edited = executed.results
    assert first == {"ran": ["audit", "double", "load", "report"], "skipped": [], "value": 5}
    assert again == {
        "ran": [],
        "skipped": ["audit", "double", "load", "report"],
        "value": 5,
    }
    assert edited == {"ran": ["double", "report"], "skipped": ["audit", "load"], "value": 7}
    assert assets == {"ran": ["cooked", "other", "raw", "served"], "skipped": [], "value": 21}
    assert assets_again["ran"] == [] and assets_again["value"] == 21
    assert assets_edited == {
        "ran": ["cooked", "served"],
        "skipped": ["other", "raw"],
        "value": 201,
    }


# --- 4: what cannot be snapshotted -------------------------------------------------------

FALLBACK_SETUP = """\
import datetime, json, os
import nbflow.notebook as nbn
from nbflow import execute_job, job, multiprocess_executor, op

START = datetime.date(2024, 1, 2)

@op
def stamp():
    return START.isoformat()

@job(executor_def=multiprocess_executor)
def stamping():
    stamp()"""
RUN_TWICE = """\
values = [execute_job(stamping).output_for_node("stamp") for _ in range(2)]
print("RESULT", json.dumps({"values": values}))"""
OPEN_FILE = """\
with open("data.txt", "w") as out:
    out.write("hello")
handle = open("data.txt")

@op
def read_it():
    return handle.read()

@job(executor_def=multiprocess_executor)
def reading():
    read_it()

try:
    nbn.reconstructable(reading)
except nbn.SnapshotError as exc:
    snapshot_error = str(exc)
value = execute_job(reading).output_for_node("read_it")
print("RESULT", json.dumps({"snapshot": snapshot_error, "value": value}))"""
LOCK = """\
import threading

lock = threading.Lock()

@op
def guarded():
    with lock:
        return 1

@job(executor_def=multiprocess_executor)
def guarding():
    guarded()

try:
    execute_job(guarding)
except Exception as exc:
    run_error = f"{type(exc).__name__}: {exc}"
print("RESULT", json.dumps({"run": run_error}))"""
STALE = """\
@op
def stamp():
    return "redefined after the job was built"

stale_error = None
try:
    nbn.reconstructable(stamping)
except nbn.SnapshotError as exc:
    stale_error = str(exc)
value = execute_job(stamping).output_for_node("stamp")
print("RESULT", json.dumps({"stale": stale_error, "value": value}))"""


def test_what_cannot_be_snapshotted_falls_back_once_or_fails_clearly(tmp_path: Path) -> None:
    executed = run_notebook([FALLBACK_SETUP, RUN_TWICE, OPEN_FILE, LOCK, STALE], tmp_path)
    assert executed.errors == []  # no traceback in any cell
    twice, open_file, lock, stale = executed.results
    assert twice == {"values": ["2024-01-02", "2024-01-02"]}  # sent by value, and it ran
    notes = executed.notes()
    assert len(notes) == 3, notes  # once per job and reason, not once per run
    assert "job 'stamping' goes to step processes by value" in notes[0]
    assert "'START'" in notes[0] and "datetime.date" in notes[0]
    assert "job 'reading'" in notes[1] and "'handle'" in notes[1]
    assert "job 'guarding'" in notes[2] and "'lock'" in notes[2]
    assert "'handle' (used by 'read_it' <- 'reading')" in open_file["snapshot"]
    assert "an open file" in open_file["snapshot"] and "resource" in open_file["snapshot"]
    assert open_file["value"] == "hello"  # cloudpickle sends an open file's contents
    assert lock["run"].startswith("ReconstructionError: Job 'guarding' cannot be sent")
    assert "op 'guarded'" in lock["run"] and "lock" in lock["run"]
    # the op redefined after the job was built is followed: the job as the cells define it
    # now no longer reads START, so it is snapshotted, and the run runs the redefined op
    assert stale["stale"] is None
    assert stale["value"] == "redefined after the job was built"
