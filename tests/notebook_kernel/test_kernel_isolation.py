"""In a real Jupyter kernel: an op that mutates its input cannot corrupt a memoized value.

Cells define a memoized job (``SourceHashVersionStrategy``, values in memory) whose
downstream ops append to a list and ``dropna(inplace=True)`` a DataFrame they read. The job
is run twice with ``nbn.run``; the second run reads the memoized upstream values, which must
be exactly what the upstream ops returned.
"""

from __future__ import annotations

import pytest

from tests.notebook_kernel.test_kernel_jobs import Executed, run_notebook

IMPORTS = """\
import json
import warnings
import pandas as pd
import nbflow.notebook as nbn
from nbflow import Field, SourceHashVersionStrategy, job, op

warnings.filterwarnings("ignore", message="The inplace keyword")"""
UPSTREAM = """\
@op
def numbers():
    return [1, 2, 3]

@op
def frame():
    return pd.DataFrame({"x": [1.0, None, 3.0, None]})"""
MUTATING = """\
AGAIN = {"run": Field(int, default_value=0)}

@op(config_schema=AGAIN)
def grow(context, xs):
    xs.append(4)
    return len(xs)

@op(config_schema=AGAIN)
def clean(context, df):
    df.dropna(inplace=True)
    return len(df)"""
JOB = """\
@job(version_strategy=SourceHashVersionStrategy())
def flow():
    grow(numbers())
    clean(frame())"""
REPORT = """\
def report(result):
    memoized = sorted(e.step_key for e in result.get_step_skipped_events() if e.data.memoized)
    print("RESULT", json.dumps({
        "grow": result.output_for_node("grow"),
        "clean": result.output_for_node("clean"),
        "numbers": result.output_for_node("numbers"),
        "rows": len(result.output_for_node("frame")),
        "memoized": memoized,
    }))"""
FIRST = "report(nbn.run(flow))"
SECOND = """\
again = {"ops": {"grow": {"config": {"run": 1}}, "clean": {"config": {"run": 1}}}}
report(nbn.run(flow, again))"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Executed:
    folder = tmp_path_factory.mktemp("kernel-isolation")
    return run_notebook([IMPORTS, UPSTREAM, MUTATING, JOB, REPORT, FIRST, SECOND], folder)


def test_the_second_run_is_fed_the_values_the_upstream_ops_returned(executed: Executed) -> None:
    assert executed.errors == []
    first, second = executed.results

    assert first == {"grow": 4, "clean": 2, "numbers": [1, 2, 3], "rows": 4, "memoized": []}
    assert second == {
        "grow": 4,
        "clean": 2,
        "numbers": [1, 2, 3],
        "rows": 4,
        "memoized": ["frame", "numbers"],
    }
