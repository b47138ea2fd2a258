"""An op redefined in a later cell of a real Jupyter kernel is what the next run uses.

One notebook, run top to bottom in a fresh ``python3`` kernel (nbclient): define ops, build
a job with a version strategy, run it, redefine ``scale`` in a later cell, look at the version
table and the DAG, run again, re-run the cell unchanged, then redefine ``scale`` so that it no
longer fits the job and rebind ``load`` to a value. Cells report with
``print("RESULT", json.dumps(...))``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.notebook_kernel.test_kernel_jobs import Executed, run_notebook

SETUP = """\
%load_ext nbflow.notebook
import json
import nbflow.notebook as nbn
from nbflow import EventType, SourceHashVersionStrategy, job, op
from nbflow.errors import RedefinitionError

def ran(result):
    return [e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS]"""
OPS = """\
@op
def load():
    return 2

@op
def scale(x):
    return x * 10

@op
def total(x):
    return x + 1

@op
def side():
    return "side\""""
PIPELINE = """\
@job(version_strategy=SourceHashVersionStrategy())
def pipeline():
    total(scale(load()))
    side()"""
FIRST_RUN = """\
first = nbn.run(pipeline)
print("RESULT", json.dumps({"run": "first", "total": first.output_for_node("total"),
                            "ran": ran(first)}))"""
SCALE_BY_100 = """\
@op
def scale(x):
    return x * 100"""
BEFORE_SECOND_RUN = """\
table = nbn.version_table(pipeline)
rows = {r["Step Output"]: [r["Status of Output"], r["Reasons"]] for _, r in table.iterrows()}
view = nbn.show_graph(pipeline, with_versions=True).view
print("RESULT", json.dumps({"table": rows, "dag": {n.key: n.status for n in view.nodes}}))"""
SECOND_RUN = """\
second = nbn.run(pipeline)
print("RESULT", json.dumps({"run": "second", "total": second.output_for_node("total"),
                            "ran": ran(second)}))"""
THIRD_RUN = """\
third = nbn.run(pipeline)
print("RESULT", json.dumps({"run": "third", "total": third.output_for_node("total"),
                            "ran": ran(third)}))"""
NO_INPUT = """\
@op
def scale():
    return 1"""
TRY_RUN = """\
try:
    pipeline.execute_in_process()
    print("RESULT", json.dumps({"error": None}))
except RedefinitionError as exc:
    print("RESULT", json.dumps({"error": str(exc)}))"""
REBIND_LOAD = """\
@op
def scale(x):
    return x * 100

load = 5"""

CELLS = [
    SETUP,  # In[1]
    OPS,  # In[2]
    PIPELINE,  # In[3]
    FIRST_RUN,  # In[4]
    SCALE_BY_100,  # In[5]
    BEFORE_SECOND_RUN,  # In[6]
    SECOND_RUN,  # In[7]
    SCALE_BY_100,  # In[8]: the same cell run again, unedited
    THIRD_RUN,  # In[9]
    NO_INPUT,  # In[10]
    TRY_RUN,  # In[11]
    REBIND_LOAD,  # In[12]
    TRY_RUN,  # In[13]
]
REASON = "op 'scale' redefined after job 'pipeline' was built"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Executed:
    return run_notebook(CELLS, tmp_path_factory.mktemp("kernel-redefinition"))


def _runs(executed: Executed) -> dict[str, dict[str, Any]]:
    return {r["run"]: r for r in executed.results if "run" in r}


def test_the_notebook_runs_without_unexpected_errors(executed: Executed) -> None:
    assert executed.errors == []


def test_the_run_after_a_redefinition_uses_the_new_op_and_reruns_only_downstream(
    executed: Executed,
) -> None:
    runs = _runs(executed)
    assert runs["first"]["total"] == 21
    assert sorted(runs["first"]["ran"]) == ["load", "scale", "side", "total"]
    assert runs["second"]["total"] == 201
    assert runs["second"]["ran"] == ["scale", "total"]


def test_a_cell_run_again_unedited_reruns_nothing(executed: Executed) -> None:
    third = _runs(executed)["third"]
    assert third["total"] == 201
    assert third["ran"] == []


def test_version_table_and_dag_before_the_run_show_the_redefinition(executed: Executed) -> None:
    shown = next(r for r in executed.results if "table" in r)
    table, dag = shown["table"], shown["dag"]

    status, reasons = table["scale.result"]
    assert status == "to-be-recomputed"
    assert REASON in reasons
    assert table["total.result"][0] == "to-be-recomputed"
    assert table["load.result"] == ["stored", ""]
    assert table["side.result"] == ["stored", ""]
    assert dag == {
        "load": "stored",
        "scale": "to-be-recomputed",
        "total": "to-be-recomputed",
        "side": "stored",
    }


def test_a_redefinition_that_does_not_fit_names_the_cells_and_the_fix(executed: Executed) -> None:
    errors = [r["error"] for r in executed.results if "error" in r]
    assert len(errors) == 2
    no_input, rebound = errors

    assert "Job 'pipeline' was not run" in no_input
    assert "op 'scale' (Cell In[10], line 1) was redefined" in no_input
    assert "op 'scale' has 0 inputs" in no_input
    assert "Fix: re-run the cell that builds 'pipeline' (Cell In[3], line 1)" in no_input

    assert (
        "the name 'load' of op 'load' is now bound to a value of type int (Cell In[12]), "
        "not to an op" in rebound
    )
