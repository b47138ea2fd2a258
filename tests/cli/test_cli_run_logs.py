"""``context.log`` lines and failed steps' tracebacks of real runs, as the command line shows
them: while ``nbflow job execute`` runs, and afterwards in ``nbflow runs show``, for runs
in-process, in step processes and on Dask.

Every command runs in a subprocess with ``NBFLOW_HOME`` set to a temporary folder; the jobs
run for real (no event is written by the test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

JOBS = """
import sys
from nbflow import Instance, execute_job, job, multiprocess_executor, op


@op
def greet(context):
    context.log.info("hello from %s", "greet")
    print("printed by greet")
    return 1


def check(x):
    raise RuntimeError(f"kaboom {x}")


@op
def explode(context, x):
    context.log.warning("about to fail")
    check(x)


@job
def logged():
    explode(greet())


@job(executor_def=multiprocess_executor)
def logged_in_processes():
    explode(greet())


def dask_job():
    from nbflow.dask import dask_executor

    @job(executor_def=dask_executor)
    def logged_on_dask():
        explode(greet())

    return logged_on_dask


if __name__ == "__main__":
    chosen = logged_in_processes if sys.argv[1] == "processes" else dask_job()
    config = {"execution": {"config": {"n_workers": 1}}} if sys.argv[1] == "dask" else {}
    result = execute_job(chosen, instance=Instance.get(), run_config=config, raise_on_error=False)
    print(result.run_id)
"""


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NBFLOW_HOME": str(folder / "home")},
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path


def _assert_shown(shown: subprocess.CompletedProcess[str], *, printed: bool) -> None:
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "hello from greet" in out and "INFO" in out
    assert "about to fail" in out and "WARNING" in out
    assert "printed by greet" in out if printed else "printed by greet" not in out
    assert 'jobs.py", line ' in out and "in check" in out  # the user's frames ...
    assert 'raise RuntimeError(f"kaboom {x}")' in out  # ... with their source
    assert "nbflow/execution" not in out  # ... and not nbflow's


def test_in_process_logs_show_while_the_run_goes_and_in_its_history(folder: Path) -> None:
    done = _run(
        folder,
        *("-m", "nbflow", "job", "execute", "-f", "jobs.py", "-j", "logged"),
        *("--executor", "in_process"),
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    run_id = lines[0].split()[1]
    greet_done = next(i for i, line in enumerate(lines) if line.startswith("  greet: succeeded"))
    said = lines.index("  [greet] INFO hello from greet")
    assert said < greet_done  # under its step, as it happened
    assert "  [explode] WARNING about to fail" in lines
    assert "kaboom 1" in done.stdout and 'jobs.py", line ' in done.stdout

    # In-process prints go to the terminal only: the user's own stdout is never redirected.
    _assert_shown(_run(folder, "-m", "nbflow", "runs", "show", run_id), printed=False)


def test_step_process_logs_and_prints_are_in_the_history(folder: Path) -> None:
    done = _run(folder, "jobs.py", "processes")
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    _assert_shown(_run(folder, "-m", "nbflow", "runs", "show", run_id), printed=True)


@pytest.mark.dask
def test_dask_logs_and_prints_are_in_the_history(folder: Path) -> None:
    done = _run(folder, "jobs.py", "dask")
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    _assert_shown(_run(folder, "-m", "nbflow", "runs", "show", run_id), printed=True)
