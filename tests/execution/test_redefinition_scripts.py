"""A script run as ``__main__`` that redefines an op after building its job runs the new op.

Each script runs in a fresh interpreter (``python script.py``) and prints JSON lines; the
job is run with ``execute_in_process``, with ``execute_job`` on the multiprocess executor
(the job travels to step processes by value), and checked with ``list_versions``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """\
import json
from nbflow import SourceHashVersionStrategy, execute_job, job, list_versions, op
from nbflow import multiprocess_executor

@op
def load():
    return 2

@op
def scale(x):
    return x * 10

@job(version_strategy=SourceHashVersionStrategy(), executor_def=multiprocess_executor)
def pipeline():
    scale(load())

def report(label, result):
    print(json.dumps({label: result.output_for_node("scale")}))

if __name__ == "__main__":
    report("before", pipeline.execute_in_process())

    @op
    def scale(x):
        return x * 100

    rows = {r.step_output: [r.status, list(r.reasons)] for r in list_versions(pipeline)}
    print(json.dumps({"rows": rows}))
    report("in_process", pipeline.execute_in_process())
    report("execute_job", execute_job(pipeline))

    @op
    def scale():
        return 1

    try:
        pipeline.execute_in_process()
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def run_script(folder: Path, text: str) -> tuple[dict[str, Any], Path]:
    path = folder / "redefining_script.py"
    path.write_text(textwrap.dedent(text))
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    merged: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        merged.update(json.loads(line))
    return merged, path


@pytest.fixture(scope="module")
def script_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    return run_script(tmp_path_factory.mktemp("redefining-script"), SCRIPT)


def test_a_script_that_redefines_an_op_runs_the_new_one_everywhere(
    script_run: tuple[dict[str, Any], Path],
) -> None:
    out, _ = script_run

    assert out["before"] == 20
    assert out["in_process"] == 200
    assert out["execute_job"] == 200
    status, reasons = out["rows"]["scale.result"]
    assert status == "to-be-recomputed"
    assert "op 'scale' redefined after job 'pipeline' was built" in reasons
    assert out["rows"]["load.result"] == ["stored", []]


def test_a_script_redefinition_that_does_not_fit_names_file_and_line(
    script_run: tuple[dict[str, Any], Path],
) -> None:
    out, path = script_run

    assert out["error"] == "RedefinitionError"
    lines = SCRIPT.splitlines()
    decorator_line = lines.index("    def scale():")  # 1-based number of the line before it
    job_line = 1 + lines.index(
        "@job(version_strategy=SourceHashVersionStrategy(), executor_def=multiprocess_executor)"
    )
    assert f"op 'scale' ({path}:{decorator_line}) was redefined" in out["message"]
    assert f"re-run the code that builds 'pipeline' ({path}:{job_line})" in out["message"]
