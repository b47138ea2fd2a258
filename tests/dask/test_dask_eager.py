"""Steps submitted to Dask as soon as they are ready: they wait on the workers, and waiting
never counts against a step, blames a step, or breaks priority, ``max_concurrent`` or a halt."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, Instance, execute_job, job, op
from nbflow.dask import dask_executor

mp_jobs: Any = importlib.import_module("mp_jobs")

ONE_WORKER = {"n_workers": 1, "threads_per_worker": 1, "processes": True}


def _first(result: Any, event_type: EventType, key: str) -> float:
    return min(e.timestamp for e in result.events_for_node(key) if e.event_type is event_type)


def test_a_step_waiting_on_its_worker_has_its_limit_counted_from_its_start() -> None:
    @op(tags={"nbflow/priority": "5"})
    def occupies_the_worker() -> int:
        time.sleep(2.5)
        return 1

    @op(tags={"nbflow/timeout": "1.5"})
    def waits_then_runs() -> int:
        time.sleep(0.1)
        return 2

    @job(executor_def=dask_executor)
    def queued() -> None:
        occupies_the_worker()
        waits_then_runs()

    result = execute_job(queued, run_config={"execution": {"config": ONE_WORKER}})
    assert result.success
    submitted = _first(result, EventType.STEP_WORKER_STARTING, "waits_then_runs")
    started = _first(result, EventType.STEP_WORKER_STARTED, "waits_then_runs")
    assert submitted < _first(result, EventType.STEP_SUCCESS, "occupies_the_worker")
    assert started - submitted > 1.5  # it waited longer than its limit, and that did not count
    assert result.output_for_node("waits_then_runs") == 2


def test_steps_waiting_behind_a_crash_are_submitted_again_not_failed() -> None:
    @op(tags={"nbflow/priority": "5"})
    def crashes() -> None:
        time.sleep(1.0)  # the others are surely waiting on this worker by now
        os._exit(1)

    def make(i: int) -> Any:
        @op(name=f"innocent_{i}")
        def innocent() -> int:
            return os.getpid()

        return innocent

    innocents = [make(i) for i in range(2)]

    @job(executor_def=dask_executor)
    def crash_first() -> None:
        crashes()
        for innocent in innocents:
            innocent()

    result = execute_job(
        crash_first, run_config={"execution": {"config": ONE_WORKER}}, raise_on_error=False
    )
    (failure,) = result.filter_events(EventType.STEP_FAILURE)
    assert failure.step_key == "crashes"
    assert "Dask worker running step 'crashes' died" in failure.message
    submissions = []
    for i in range(2):
        key = f"innocent_{i}"
        kinds = [e.event_type for e in result.events_for_node(key)]
        submissions.append(kinds.count(EventType.STEP_WORKER_STARTING))
        assert kinds.count(EventType.STEP_WORKER_STARTED) == 1
        assert kinds[-1] is EventType.STEP_SUCCESS
        assert result.output_for_node(key) > 0
    # The scheduler had sent at least one to the worker to wait there: lost, and sent again.
    assert max(submissions) == 2


def test_priority_orders_the_steps_waiting_on_a_worker() -> None:
    @op(tags={"nbflow/priority": "9"})
    def first() -> int:
        time.sleep(0.5)
        return 0

    def make(i: int, priority: int) -> Any:
        @op(name=f"p{priority}", tags={"nbflow/priority": str(priority)})
        def ranked() -> int:
            return i

        return ranked

    ranked = [make(i, priority) for i, priority in enumerate([1, 3, 2, 4])]

    @job(executor_def=dask_executor)
    def by_priority() -> None:
        first()
        for step in ranked:
            step()

    result = execute_job(by_priority, run_config={"execution": {"config": ONE_WORKER}})
    assert result.success
    started = sorted(
        (e.timestamp, e.step_key) for e in result.filter_events(EventType.STEP_WORKER_STARTED)
    )
    assert [key for _, key in started] == ["first", "p4", "p3", "p2", "p1"]


def test_max_concurrent_bounds_the_steps_running_at_once(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path, n_workers=2, processes=True, max_concurrent=1)
    result = execute_job(mp_jobs.sleepers(4, 0.3, executor_def=dask_executor), run_config=config)
    assert result.success
    spans = list(mp_jobs.recorded(tmp_path).values())
    assert len(spans) == 4
    assert mp_jobs.max_overlap(spans) == 1


def test_a_halted_run_cancels_the_steps_still_waiting(tmp_path: Path) -> None:
    @op(tags={"nbflow/priority": "5"})
    def fails() -> None:
        time.sleep(0.5)
        raise ValueError("boom")

    def make(i: int) -> Any:
        @op(name=f"waiting_{i}", required_resource_keys={"recorder"})
        def waiting(context: Any) -> int:
            return mp_jobs.record(context, time.time())

        return waiting

    waiting = [make(i) for i in range(3)]

    @job(executor_def=dask_executor, resource_defs={"recorder": mp_jobs.recorder})
    def halts() -> None:
        fails()
        for step in waiting:
            step()

    config = mp_jobs.recorder_config(tmp_path, **ONE_WORKER)
    instance = Instance.ephemeral()
    with pytest.raises(Exception, match="boom"):
        execute_job(halts, run_config=config, instance=instance)
    (run,) = instance.get_runs()
    succeeded = {
        e.step_key
        for e in instance.get_events(run.run_id)
        if e.event_type is EventType.STEP_SUCCESS
    }
    ran = set(mp_jobs.recorded(tmp_path))
    # The worker may have taken the next one before the cancel reached it: that one is
    # followed to its end and reported; the others never run.
    assert ran == succeeded
    assert len(ran) <= 1
