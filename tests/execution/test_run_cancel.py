"""Canceling a run: request_cancel(run_id) stops it between steps; it ends CANCELED.

In process the running step finishes first; the multiprocess executor terminates its step
processes. Steps that did not run are skipped with reason "run canceled"; the run emits
RUN_CANCELING then RUN_CANCELED and no RUN_SUCCESS / RUN_FAILURE.
"""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any

from nbflow import EventType, Instance, execute_job, job, op
from nbflow.execution.engine.executor import CANCELED_REASON
from nbflow.execution.engine.run_context import request_cancel
from nbflow.storage.run import RunStatus

live_jobs: Any = importlib.import_module("live_jobs")
process_check: Any = importlib.import_module("process_check")


@op
def first() -> int:
    return 1


@op
def cancels_the_run(context: Any, value: int) -> int:
    assert request_cancel(context.run_id) is True
    return value + 1


@op
def third(value: int) -> int:
    return value + 1


@op
def fourth(value: int) -> int:
    return value + 1


@job
def canceled_by_second_op() -> None:
    fourth(third(cancels_the_run(first())))


def kinds(events: list[Any]) -> list[str]:
    return [e.event_type.name for e in events if e.step_key is None]


def test_in_process_run_stops_after_the_step_that_asked_and_ends_canceled() -> None:
    result = canceled_by_second_op.execute_in_process()

    assert result.run.status is RunStatus.CANCELED
    assert not result.success
    assert kinds(result.all_events) == [
        "RUN_START",
        "RESOURCE_INIT_STARTED",
        "RESOURCE_INIT_SUCCESS",
        "RUN_CANCELING",
        "RUN_CANCELED",
    ]
    statuses = {s.step_key: (s.status, s.detail) for s in result.step_summaries()}
    assert statuses == {
        "first": ("succeeded", ""),
        "cancels_the_run": ("succeeded", ""),  # the running step finishes
        "third": ("skipped", CANCELED_REASON),
        "fourth": ("skipped", CANCELED_REASON),
    }
    assert result.output_for_node("cancels_the_run") == 2
    assert "canceled" in repr(result)
    stored = Instance.ephemeral()
    again = canceled_by_second_op.execute_in_process(instance=stored)
    assert stored.get_run(again.run_id).status is RunStatus.CANCELED  # the instance knows


def test_a_cancel_does_not_raise_even_with_raise_on_error() -> None:
    result = canceled_by_second_op.execute_in_process(raise_on_error=True)
    assert result.run.status is RunStatus.CANCELED


@op
def only_step(context: Any) -> int:
    request_cancel(context.run_id)
    return 1


@job
def single_step() -> None:
    only_step()


def test_a_cancel_during_the_last_step_changes_nothing() -> None:
    result = single_step.execute_in_process()
    assert result.success and result.run.status is RunStatus.SUCCESS


def test_request_cancel_of_an_unknown_or_finished_run_says_false() -> None:
    assert request_cancel("no-such-run") is False
    result = single_step.execute_in_process()
    assert request_cancel(result.run_id) is False


def wait_for_step_start(instance: Instance, step_key: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in instance.get_runs():
            events = instance.get_events(run.run_id)
            if any(e.event_type is EventType.STEP_START and e.step_key == step_key for e in events):
                return run.run_id
        time.sleep(0.02)
    raise AssertionError(f"step {step_key!r} never started")


def test_multiprocess_run_canceled_while_a_long_step_sleeps_ends_quickly_with_no_child_left() -> (
    None
):
    instance = Instance.ephemeral()
    asked: list[bool] = []

    def cancel_when_sleeping() -> None:
        run_id = wait_for_step_start(instance, "sleep_a_minute")
        asked.append(request_cancel(run_id))

    canceller = threading.Thread(target=cancel_when_sleeping)
    canceller.start()
    started = time.monotonic()
    result = execute_job(
        live_jobs.long_then_more, run_config=live_jobs.LONG_CONFIG, instance=instance
    )
    took = time.monotonic() - started
    canceller.join(5)

    assert asked == [True]
    assert took < 15, f"cancel took {took:.1f} s"
    assert result.run.status is RunStatus.CANCELED
    assert process_check.leftover_processes() == []
    summaries = {s.step_key: s for s in result.step_summaries()}
    assert summaries["sleep_a_minute"].status == "failed"
    assert "the run was canceled while it ran" in summaries["sleep_a_minute"].detail
    assert "was terminated" in summaries["sleep_a_minute"].detail
    assert summaries["after"].status == "skipped"
    assert summaries["after"].detail == CANCELED_REASON
    assert summaries["independent"].status in ("succeeded", "skipped")
    assert kinds(result.all_events) == [
        "RUN_START",
        "RESOURCE_INIT_STARTED",
        "RESOURCE_INIT_SUCCESS",
        "RUN_CANCELING",
        "RUN_CANCELED",
    ]
    failure = result.filter_events(EventType.STEP_FAILURE)[0]
    assert failure.data.error.cls_name == "RunCanceled" and not failure.data.user_failure
