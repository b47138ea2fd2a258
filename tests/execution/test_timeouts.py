"""Step and run time limits: ``nbflow/timeout`` tags, ``step_timeout``, ``execute_job(timeout=)``."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, execute_job, in_process_executor, job, multiprocess_executor, op
from nbflow.errors import (
    InvalidTimeoutError,
    NbflowError,
    RunTimeoutError,
    StepTimeoutError,
)

process_check: Any = importlib.import_module("process_check")


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _hanging_job(pid_file: Path, executor_def: Any = multiprocess_executor) -> Any:
    @op(tags={"nbflow/timeout": "1.5"})
    def hangs() -> int:
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)
        return 1

    @op
    def quick() -> int:
        return 7

    @job(executor_def=executor_def)
    def with_a_hang() -> None:
        hangs()
        quick()

    return with_a_hang


def test_a_step_past_its_tag_limit_is_ended_and_others_succeed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    result = execute_job(_hanging_job(pid_file), raise_on_error=False)
    assert time.monotonic() - started < 30  # not the 120 s the op sleeps
    assert not result.success
    pid = int(pid_file.read_text())
    assert _pid_gone(pid)
    assert result.output_for_node("quick") == 7
    (failure,) = result.filter_events(EventType.STEP_FAILURE)
    assert failure.step_key == "hangs"
    assert failure.data.error.cls_name == "StepTimeoutError"
    assert "time limit of 1.5 s" in failure.message
    assert "'nbflow/timeout'" in failure.message
    assert process_check.leftover_processes() == []


def test_a_timed_out_step_raises_step_timeout_error(tmp_path: Path) -> None:
    with pytest.raises(StepTimeoutError, match=r"'hangs' ran longer than its time limit of 1.5 s"):
        execute_job(_hanging_job(tmp_path / "pid"))


def test_executor_step_timeout_applies_to_untagged_steps(tmp_path: Path) -> None:
    @op
    def slow() -> None:
        time.sleep(60)

    @job(executor_def=multiprocess_executor)
    def untagged() -> None:
        slow()

    config = {"execution": {"config": {"step_timeout": 1}}}
    with pytest.raises(StepTimeoutError, match=r"1 s \(execution config step_timeout\)"):
        execute_job(untagged, run_config=config)


def test_in_process_a_late_step_is_reported_when_it_returns() -> None:
    calls: list[str] = []

    @op(tags={"nbflow/timeout": "0.2"})
    def late() -> int:
        time.sleep(0.5)
        calls.append("late")
        return 1

    @job
    def one_late() -> None:
        late()

    result = one_late.execute_in_process(raise_on_error=False)
    assert calls == ["late"]  # it ran to its end: in-process steps are not stopped
    assert not result.success
    (failure,) = result.filter_events(EventType.STEP_FAILURE)
    assert failure.data.error.cls_name == "StepTimeoutError"
    assert "reported when it returned" in failure.message
    assert not result.filter_events(EventType.STEP_SUCCESS)


def test_a_run_past_its_timeout_ends_its_steps_and_fails(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    @op
    def long() -> int:
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)
        return 1

    @op
    def after(x: int) -> int:
        return x

    @job(executor_def=multiprocess_executor)
    def long_run() -> None:
        after(long())

    started = time.monotonic()
    with pytest.raises(RunTimeoutError, match=r"time limit of 1.5 s \(execute_job\(timeout=1.5\)"):
        execute_job(long_run, timeout=1.5)
    assert time.monotonic() - started < 30
    assert _pid_gone(int(pid_file.read_text()))


def test_a_run_timeout_is_recorded_as_the_runs_failure(tmp_path: Path) -> None:
    @op
    def first() -> int:
        time.sleep(0.6)
        return 1

    @op
    def second(x: int) -> int:
        return x

    @job(executor_def=in_process_executor)
    def two() -> None:
        second(first())

    result = execute_job(two, timeout=0.3, raise_on_error=False)
    assert not result.success
    (skipped,) = result.filter_events(EventType.STEP_SKIPPED)
    assert skipped.step_key == "second" and skipped.data.reason == "run timed out"
    (failure,) = result.filter_events(EventType.RUN_FAILURE)
    assert failure is result.all_events[-1]


@pytest.mark.parametrize(
    "value",
    [-1, 0, "soon", float("nan"), True, [3], 10**400],
    ids=["negative", "zero", "word", "nan", "bool", "list", "huge-int"],
)
def test_bad_run_timeouts_are_refused_before_the_run(value: Any) -> None:
    calls: list[str] = []

    @op
    def never() -> None:
        calls.append("ran")

    @job(executor_def=in_process_executor)
    def refused() -> None:
        never()

    with pytest.raises(InvalidTimeoutError, match=r"execute_job\(timeout=\.\.\.\) is .*positive"):
        execute_job(refused, timeout=value)
    assert calls == []


@pytest.mark.parametrize("tag", ["-3", "abc", "inf", ""])
def test_bad_timeout_tags_are_refused_before_any_op_runs(tag: str) -> None:
    calls: list[str] = []

    @op(tags={"nbflow/timeout": tag})
    def tagged() -> None:
        calls.append("ran")

    @job(executor_def=in_process_executor)
    def bad_tag() -> None:
        tagged()

    with pytest.raises(InvalidTimeoutError, match=r"Tag 'nbflow/timeout' of op 'tagged'"):
        execute_job(bad_tag)
    with pytest.raises(InvalidTimeoutError, match=r"Tag 'nbflow/timeout' of op 'tagged'"):
        bad_tag.execute_in_process()
    assert calls == []


def test_a_negative_step_timeout_config_is_refused() -> None:
    @op
    def fine() -> None:
        pass

    @job(executor_def=multiprocess_executor)
    def configured() -> None:
        fine()

    config = {"execution": {"config": {"step_timeout": -2.0}}}
    with pytest.raises(NbflowError, match=r"execution config step_timeout is -2.0"):
        execute_job(configured, run_config=config)
