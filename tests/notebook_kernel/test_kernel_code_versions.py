"""Transitive code versions in a real Jupyter kernel (nbclient, ``python3`` kernel).

Helpers, a global and the ops that use them are defined in cells; the job runs memoized in
memory. A later cell redefines the helper (the usual way to edit in a notebook), another
changes the global: the next run returns the new value and runs only the op that reaches the
edit, and ``nbn.why`` / ``list_versions`` name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .test_kernel_jobs import run_notebook

if TYPE_CHECKING:
    from pathlib import Path

SETUP = """\
import json
import nbflow.notebook as nbn
from nbflow import SourceHashVersionStrategy, job, list_versions, op

calls = []

def report(result):
    values = {step: result.output_for_node(step) for step in ("cleaned", "scaled", "counted")}
    print("RESULT", json.dumps({"ran": sorted(calls), "values": values}))
    calls.clear()"""
DEFINE = """\
RATE = 2

def clean(xs):
    return [x for x in xs if x is not None]

@op
def load():
    calls.append("load")
    return [3, None, 1]

@op
def cleaned(xs):
    calls.append("cleaned")
    return clean(xs)

@op
def scaled(xs):
    calls.append("scaled")
    return [x * RATE for x in xs if x is not None]

@op
def counted(xs):
    calls.append("counted")
    return len(xs)

@job(version_strategy=SourceHashVersionStrategy())
def flow():
    rows = load()
    cleaned(rows)
    scaled(rows)
    counted(rows)

report(flow.execute_in_process())"""
RERUN = "report(flow.execute_in_process())"
REDEFINE_HELPER = """\
def clean(xs):
    return [x * 10 for x in xs if x is not None]"""
ASK_WHY = """\
answer = nbn.why(flow, "cleaned")
rows = {row.step_output: row.reasons for row in list_versions(flow)}
print("RESULT", json.dumps({
    "status": answer.status,
    "reasons": list(answer.reasons),
    "diff": answer.diff,
    "html": "helper &#x27;clean&#x27;" in answer._repr_html_(),
    "scaled": list(rows["scaled.result"]),
}))"""
CHANGE_GLOBAL = "RATE = 3"


def test_redefined_helper_and_changed_global_rerun_only_their_ops(tmp_path: Path) -> None:
    done = run_notebook(
        [SETUP, DEFINE, RERUN, REDEFINE_HELPER, ASK_WHY, RERUN, CHANGE_GLOBAL, RERUN],
        tmp_path,
    )

    assert done.errors == []
    first, again, why, helper_edited, global_edited = done.results
    assert first == {
        "ran": ["cleaned", "counted", "load", "scaled"],
        "values": {"cleaned": [3, 1], "scaled": [6, 2], "counted": 3},
    }
    assert again["ran"] == []

    assert why["status"] == "to-be-recomputed"
    assert why["reasons"] == ["helper 'clean' changed"]
    assert "-    return [x for x in xs if x is not None]" in why["diff"]
    assert "+    return [x * 10 for x in xs if x is not None]" in why["diff"]
    assert why["html"] is True
    assert why["scaled"] == []  # stored: nothing to say

    assert helper_edited == {
        "ran": ["cleaned"],
        "values": {"cleaned": [30, 10], "scaled": [6, 2], "counted": 3},
    }
    assert global_edited == {
        "ran": ["scaled"],
        "values": {"cleaned": [30, 10], "scaled": [9, 3], "counted": 3},
    }
