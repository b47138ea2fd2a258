"""In-process execution: failures with and without raising, step order by priority, events."""

from __future__ import annotations

import os
import time

import pytest

from nbflow import EventType, graph, job, op
from nbflow.events import StepFailureData, StepOutputData, StepSkippedData


class UserError(Exception):
    """An exception only user code raises."""


def _failing_job(call_log: list[str], error: BaseException):
    @op
    def start():
        call_log.append("start")
        return 1

    @op
    def explode(x):
        call_log.append("explode")
        raise error

    @op
    def downstream(x):
        call_log.append("downstream")

    @op
    def independent():
        call_log.append("independent")

    @job
    def failing():
        downstream(explode(start()))
        independent()

    return failing


def test_raise_on_error_reraises_the_original_exception_object(call_log: list[str]) -> None:
    error = UserError("the original")

    with pytest.raises(UserError) as info:
        _failing_job(call_log, error).execute_in_process()

    assert info.value is error
    assert "downstream" not in call_log


def test_raise_on_error_false_reports_failure_events_and_skips_downstream(
    call_log: list[str],
) -> None:
    error = UserError("boom")

    result = _failing_job(call_log, error).execute_in_process(raise_on_error=False)

    assert result.success is False
    assert not result.run.is_success
    assert sorted(call_log) == ["explode", "independent", "start"]
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "explode"
    assert isinstance(failure.data, StepFailureData)
    assert failure.data.error.cls_name == "UserError"
    assert failure.data.error.message == "boom"
    assert failure.data.user_failure is True
    assert "raise error" in failure.data.error.traceback
    assert failure.message == "Execution of step 'explode' failed: UserError: boom"
    [skipped] = result.get_step_skipped_events()
    assert skipped.step_key == "downstream"
    assert isinstance(skipped.data, StepSkippedData)
    assert skipped.data.reason == "upstream step 'explode' did not succeed"
    run_failure = result.get_job_failure_event()
    assert run_failure is result.all_events[-1]
    assert run_failure.message == "Execution of run for 'failing' failed ('explode')."
    assert {e.step_key for e in result.get_step_success_events()} == {"start", "independent"}


def test_failed_step_in_a_nested_graph_skips_everything_downstream(call_log: list[str]) -> None:
    @op
    def fails():
        raise UserError("inner failure")

    @op
    def after(x):
        call_log.append("after")

    @graph
    def inner():
        return fails()

    @job
    def nested():
        after(inner())

    result = nested.execute_in_process(raise_on_error=False)
    assert [e.step_key for e in result.get_step_failure_events()] == ["inner.fails"]
    assert [e.step_key for e in result.get_step_skipped_events()] == ["after"]
    assert call_log == []


@pytest.mark.parametrize(
    ("priorities", "expected"),
    [
        ({"low": -1, "mid": 0, "high": 5}, ["source", "high", "mid", "low"]),
        ({"low": 10, "mid": 1, "high": 2}, ["source", "low", "high", "mid"]),
        ({"low": 0, "mid": 0, "high": 0}, ["source", "low", "mid", "high"]),
    ],
    ids=["descending", "reversed", "ties-keep-plan-order"],
)
def test_higher_priority_ready_steps_run_first(
    priorities: dict[str, int], expected: list[str], call_log: list[str]
) -> None:
    @op
    def source():
        call_log.append("source")
        return 1

    def fan(name: str):
        @op(name=name, tags={"nbflow/priority": str(priorities[name])})
        def branch(x):
            call_log.append(name)

        return branch

    low, mid, high = fan("low"), fan("mid"), fan("high")

    @job
    def fan_out():
        value = source()
        low(value)
        mid(value)
        high(value)

    fan_out.execute_in_process()
    assert call_log == expected


def test_priority_can_be_set_on_an_invocation_with_tag(call_log: list[str]) -> None:
    first = op(name="first")(lambda: call_log.append("first"))
    second = op(name="second")(lambda: call_log.append("second"))

    @job
    def tagged():
        first()
        second.tag({"nbflow/priority": "1"})()

    tagged.execute_in_process()
    assert call_log == ["second", "first"]


def test_events_carry_step_key_timestamp_message_data_pid_and_run_id() -> None:
    @op
    def produce():
        return 42

    @job
    def single():
        produce()

    before = time.time()
    result = single.execute_in_process(run_id="evt-run")
    after = time.time()

    events = result.all_events
    assert [e.event_type for e in events] == [
        EventType.RUN_START,
        EventType.RESOURCE_INIT_STARTED,
        EventType.RESOURCE_INIT_SUCCESS,
        EventType.STEP_START,
        EventType.STEP_OUTPUT,
        EventType.HANDLED_OUTPUT,
        EventType.STEP_SUCCESS,
        EventType.RUN_SUCCESS,
    ]
    assert all(e.run_id == "evt-run" for e in events)
    assert all(e.pid == os.getpid() for e in events)
    assert all(e.job_name == "single" for e in events)
    assert all(e.message for e in events)
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    assert before <= stamps[0] and stamps[-1] <= after
    assert [e.step_key for e in events] == [None] * 3 + ["produce"] * 4 + [None]
    assert events[1].message == "Starting initialization of resources [io_manager]."
    assert events[2].data.resource_keys == ("io_manager",)
    assert set(events[2].data.init_ms) == {"io_manager"}
    output = events[4]
    assert isinstance(output.data, StepOutputData)
    assert output.data.output_name == "result"
    assert events[3].message == "Started execution of step 'produce'"
    assert events[6].data.duration_ms >= 0
    assert str(events[3]) == "STEP_START [produce] Started execution of step 'produce'"


def test_step_input_events_say_where_each_input_came_from() -> None:
    @op
    def one():
        return 1

    @op
    def add(x, y):
        return x + y

    @job
    def adding():
        add(one(), y=one())

    result = adding.execute_in_process(
        op_selection=["add"], run_config={"ops": {"add": {"inputs": {"x": 1, "y": 2}}}}
    )
    inputs = [e.data for e in result.all_events if e.event_type is EventType.STEP_INPUT]
    assert [(d.input_name, d.source) for d in inputs] == [("x", "value"), ("y", "value")]

    full = adding.execute_in_process()
    inputs = [e.data for e in full.all_events if e.event_type is EventType.STEP_INPUT]
    assert [(d.input_name, d.source) for d in inputs] == [
        ("x", "one.result"),
        ("y", "one_2.result"),
    ]


def test_successful_run_records_status_and_times() -> None:
    @op
    def quick():
        return None

    @job
    def timed():
        quick()

    run = timed.execute_in_process().run
    assert run.is_finished
    assert run.status.value == "SUCCESS"
    assert run.start_time is not None and run.end_time is not None
    assert run.start_time <= run.end_time
