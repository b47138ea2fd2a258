"""Dask faults on real LocalClusters: step time limits, crashes blamed on the right step,
and scripts without a ``__main__`` guard that restarted workers re-import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nbflow import EventType, execute_job, job, op
from nbflow.dask import dask_executor
from nbflow.errors import StepTimeoutError

ONE_WORKER = {"n_workers": 1, "threads_per_worker": 1, "processes": True}

_STEP_ENDS = {EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED}


def test_a_step_past_its_limit_has_its_worker_ended() -> None:
    @op(tags={"nbflow/timeout": "2", "nbflow/priority": "5"})
    def hangs() -> int:
        time.sleep(90)
        return os.getpid()

    @op
    def next_on_the_worker() -> int:
        return os.getpid()

    @job(executor_def=dask_executor)
    def hanging() -> None:
        hangs()
        next_on_the_worker()

    started = time.monotonic()
    result = execute_job(
        hanging, run_config={"execution": {"config": ONE_WORKER}}, raise_on_error=False
    )
    assert time.monotonic() - started < 45  # the one worker did not sleep 90 s first
    (failure,) = result.filter_events(EventType.STEP_FAILURE)
    assert failure.step_key == "hangs"
    assert failure.data.error.cls_name == "StepTimeoutError"
    assert "time limit of 2 s" in failure.message and "worker was ended" in failure.message
    assert result.output_for_node("next_on_the_worker") > 0


def test_a_step_past_its_limit_raises_step_timeout_error() -> None:
    @op
    def hangs() -> None:
        time.sleep(90)

    @job(executor_def=dask_executor)
    def hanging() -> None:
        hangs()

    config = {"execution": {"config": {**ONE_WORKER, "step_timeout": 1.5}}}
    with pytest.raises(StepTimeoutError, match=r"1.5 s \(execution config step_timeout\)"):
        execute_job(hanging, run_config=config)


def test_a_crash_is_blamed_only_on_the_step_running_on_the_worker() -> None:
    @op(tags={"nbflow/priority": "5"})
    def innocent() -> int:
        return 1

    @op
    def crashes() -> None:
        os._exit(1)

    @job(executor_def=dask_executor)
    def crash_after() -> None:
        innocent()
        crashes()

    # Both steps are queued on the one worker: the crash follows the innocent step at once.
    config = {"execution": {"config": {**ONE_WORKER, "max_concurrent": 2}}}
    for _ in range(3):
        result = execute_job(crash_after, run_config=config, raise_on_error=False)
        ends = {
            key: [e.event_type for e in result.events_for_node(key) if e.event_type in _STEP_ENDS]
            for key in ("innocent", "crashes")
        }
        assert ends == {
            "innocent": [EventType.STEP_SUCCESS],
            "crashes": [EventType.STEP_FAILURE],
        }
        (failure,) = result.filter_events(EventType.STEP_FAILURE)
        assert "Dask worker running step 'crashes' died" in failure.message
        assert result.output_for_node("innocent") == 1


UNGUARDED_SCRIPT = """
import os
import sys

from nbflow import EventType, execute_job, job, op
from nbflow.dask import dask_executor


@op(tags={"nbflow/priority": "5"})
def crashes() -> None:
    os._exit(1)


@op
def needs_a_new_worker() -> int:
    return 1


@job(executor_def=dask_executor)
def unguarded() -> None:
    crashes()
    needs_a_new_worker()


config = {"execution": {"config": {"n_workers": 1}}}
result = execute_job(unguarded, raise_on_error=False, run_config=config)
for event in result.filter_events(EventType.ENGINE_EVENT):
    print(event.data.error.cls_name, event.message, file=sys.stderr)
sys.exit(0 if result.success else 1)
"""


def test_an_unguarded_script_fails_clearly_when_a_worker_restarts(tmp_path: Path) -> None:
    script = tmp_path / "unguarded_job.py"
    script.write_text(textwrap.dedent(UNGUARDED_SCRIPT))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    took = time.monotonic() - started
    assert took < 60, done.stderr[-2000:]
    assert done.returncode != 0
    assert "DaskMainReimportError" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
    assert str(script) in done.stderr
