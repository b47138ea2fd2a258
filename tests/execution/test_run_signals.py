"""Signals to the process running a run: the run always ends with its last event.

SIGTERM and SIGINT end the run ``CANCELED`` (with an end time), then the process exits by
the signal; SIGKILL leaves the run ``STARTED``, and the next open of the instance ends it
as abandoned, which ``nbflow runs list`` shows. Real processes, real signals, SQLite files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nbflow import EventType, Instance, RunStatus

SCRIPT = """
import sys, time
from pathlib import Path
from nbflow import Instance, execute_job, job, multiprocess_executor, op, in_process_executor

folder = Path(sys.argv[1])

@op
def first():
    return 1

@op
def wait_here(x):
    (folder / "waiting.tmp").write_text("1")
    (folder / "waiting.tmp").rename(folder / "waiting")
    time.sleep(60)
    return x

@op
def last(x):
    return x

def build(executor):
    @job(executor_def=executor)
    def long_job():
        last(wait_here(first()))
    return long_job

if __name__ == "__main__":
    instance = Instance.local(folder / "home")
    if sys.argv[2] == "multiprocess":
        execute_job(build(multiprocess_executor), instance=instance, run_id="the-run")
    else:
        build(in_process_executor).execute_in_process(instance=instance, run_id="the-run")
"""


def start(tmp_path: Path, executor: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent(SCRIPT))
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), executor],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "waiting").exists():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "")
        assert time.monotonic() < deadline, "the op did not start"
        time.sleep(0.02)
    return process


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_signal_ends_the_run_canceled_then_ends_the_process(
    tmp_path: Path, executor: str, signum: int
) -> None:
    process = start(tmp_path, executor)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == -signum, err.decode()
    instance = Instance.local(tmp_path / "home")
    run = instance.get_run("the-run")
    assert run is not None
    assert run.status is RunStatus.CANCELED
    assert run.end_time is not None and run.end_time >= (run.start_time or 0)
    assert run.abandoned is None
    events = instance.get_events("the-run")
    assert events[-1].event_type is EventType.RUN_CANCELED
    failed = [e for e in events if e.event_type is EventType.STEP_FAILURE]
    assert [e.step_key for e in failed] == ["wait_here"]
    why = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (Ctrl-C)"
    assert why in failed[0].message
    skipped = [e.step_key for e in events if e.event_type is EventType.STEP_SKIPPED]
    assert skipped == ["last"]


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_killed_run_is_marked_abandoned_on_the_next_open(tmp_path: Path, executor: str) -> None:
    process = start(tmp_path, executor)
    process.kill()
    process.wait(timeout=30)
    home = tmp_path / "home"
    listed = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "list"],
        env={**os.environ, "NBFLOW_HOME": os.fspath(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (row,) = [line for line in listed.stdout.splitlines() if "the-run" in line]
    assert "ABANDONED" in row
    run = Instance.local(home).get_run("the-run")
    assert run is not None
    assert run.status is RunStatus.FAILURE and run.end_time is not None
    assert f"pid {process.pid}" in (run.abandoned or "")
    events = Instance.local(home).get_events("the-run")
    assert [e.event_type for e in events].count(EventType.RUN_FAILURE) == 1
    assert events[-1].event_type is EventType.RUN_FAILURE
    assert f"pid {process.pid}" in events[-1].message and "abandoned" in events[-1].message
    shown = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "show", "the-run"],
        env={**os.environ, "NBFLOW_HOME": os.fspath(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "ABANDONED" in shown.stdout and f"pid {process.pid}" in shown.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "list", "--json"],
        env={**os.environ, "NBFLOW_HOME": os.fspath(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert [json.loads(line)["status"] for line in as_json.stdout.splitlines()] == ["ABANDONED"]
