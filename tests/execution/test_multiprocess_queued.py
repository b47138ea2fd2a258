"""A warm worker busy with a step is handed the next one before it finishes, so it does not
wait for the parent between the two; still one step at a time per worker, a waiting step's
time limit counts from its start, a step waiting on a worker that crashes or times out runs
on another, and a step waiting behind a failure that halts the run never starts."""

from __future__ import annotations

import ctypes
import importlib
import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, Instance, execute_job, job, multiprocess_executor, op
from nbflow.errors import StepTimeoutError

mp_jobs: Any = importlib.import_module("mp_jobs")
process_check: Any = importlib.import_module("process_check")

ONE_WORKER = {"execution": {"config": {"max_concurrent": 1}}}
FIRST = {"nbflow/priority": "1"}  # runs first, so the other step waits behind it


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Any:
    yield
    assert process_check.leftover_processes() == []


def test_a_busy_worker_is_handed_its_next_step_and_runs_one_step_at_a_time(
    tmp_path: Path,
) -> None:
    config = mp_jobs.recorder_config(tmp_path, max_concurrent=1)
    result = execute_job(mp_jobs.sleepers(4, 0.2), run_config=config)

    assert result.success
    spans = list(mp_jobs.recorded(tmp_path).values())
    assert mp_jobs.max_overlap(spans) == 1
    assert len({pid for *_, pid in spans}) == 1  # one worker ran them all
    events = result.all_events
    handed = {
        e.step_key: n
        for n, e in enumerate(events)
        if e.event_type is EventType.STEP_WORKER_STARTING
    }
    succeeded = {
        e.step_key: n for n, e in enumerate(events) if e.event_type is EventType.STEP_SUCCESS
    }
    order = sorted(handed, key=handed.__getitem__)
    # each step was handed over while the one before it still ran
    assert all(handed[after] < succeeded[before] for before, after in itertools.pairwise(order))


def test_a_waiting_step_time_limit_counts_from_its_start() -> None:
    @op(tags=FIRST)
    def slow_first() -> int:
        time.sleep(0.8)
        return 1

    @op(tags={"nbflow/timeout": "0.6"})
    def limited() -> int:
        time.sleep(0.1)
        return 2

    @job(executor_def=multiprocess_executor)
    def waits() -> None:
        slow_first()
        limited()

    result = execute_job(waits, run_config=ONE_WORKER)

    assert result.success  # it waited 0.8 s behind slow_first and ran 0.1 s of its 0.6
    assert result.output_for_node("limited") == 2


def test_a_step_waiting_on_a_worker_that_crashes_runs_on_another() -> None:
    @op(tags=FIRST)
    def crash_later() -> int:
        time.sleep(0.3)
        ctypes.string_at(0)  # segfault
        return 0

    @op
    def after() -> int:
        return os.getpid()

    @job(executor_def=multiprocess_executor)
    def crashing() -> None:
        crash_later()
        after()

    result = execute_job(crashing, run_config=ONE_WORKER, raise_on_error=False)

    failures = result.filter_events(EventType.STEP_FAILURE)
    assert [e.step_key for e in failures] == ["crash_later"]
    assert "SIGSEGV" in failures[0].message
    handed = result.filter_events(EventType.STEP_WORKER_STARTING)
    assert [e.step_key for e in handed].count("after") == 2  # behind the crash, then anew
    assert result.output_for_node("after") not in (os.getpid(), None)


def test_a_step_waiting_on_a_worker_that_times_out_runs_on_another() -> None:
    @op(tags={**FIRST, "nbflow/timeout": "0.5"})
    def hangs() -> int:
        time.sleep(30)
        return 0

    @op
    def after() -> int:
        return 7

    @job(executor_def=multiprocess_executor)
    def hanging() -> None:
        hangs()
        after()

    result = execute_job(hanging, run_config=ONE_WORKER, raise_on_error=False)

    failures = result.filter_events(EventType.STEP_FAILURE)
    assert [e.step_key for e in failures] == ["hangs"]
    assert failures[0].data.error.cls_name == StepTimeoutError.__name__
    assert result.output_for_node("after") == 7


def test_a_step_waiting_behind_a_failure_never_starts_when_the_run_halts(tmp_path: Path) -> None:
    @op(tags=FIRST)
    def fails() -> int:
        time.sleep(0.3)
        raise ValueError("boom")

    @op(required_resource_keys={"recorder"})
    def must_not_run(context: Any) -> int:
        return int(mp_jobs.record(context, time.time()))

    @job(executor_def=multiprocess_executor, resource_defs={"recorder": mp_jobs.recorder})
    def halting() -> None:
        fails()
        must_not_run()

    instance = Instance.ephemeral()
    config = mp_jobs.recorder_config(tmp_path, max_concurrent=1)
    with pytest.raises(Exception, match="boom"):
        execute_job(halting, instance=instance, run_config=config)

    assert not (tmp_path / "must_not_run.json").exists()
    events = instance.get_events(instance.get_runs()[0].run_id)
    waiting = [e.event_type for e in events if e.step_key == "must_not_run"]
    assert EventType.STEP_WORKER_STARTING in waiting  # it was handed to the worker ...
    assert EventType.STEP_START not in waiting  # ... and never started
