"""Retry policies: RetryPolicy, Backoff, Jitter, RetryRequested, and the events of retries."""

from __future__ import annotations

import pytest

from nbflow import Backoff, EventType, RetryPolicy, RetryRequested, graph, job, op
from nbflow.errors import DefinitionError


def _retry_events(result, step_key: str) -> list[str]:
    kinds = {
        EventType.STEP_START,
        EventType.STEP_UP_FOR_RETRY,
        EventType.STEP_RESTARTED,
        EventType.STEP_SUCCESS,
        EventType.STEP_FAILURE,
    }
    return [
        e.event_type.name
        for e in result.all_events
        if e.step_key == step_key and e.event_type in kinds
    ]


def test_retry_policy_retries_until_success_with_events_and_retry_number(
    call_log: list[str],
) -> None:
    @op(retry_policy=RetryPolicy(max_retries=3, delay=0))
    def flaky(context):
        call_log.append(f"attempt {context.retry_number}")
        if context.retry_number < 2:
            raise ConnectionError("try again")
        return "ok"

    @job
    def retrying():
        flaky()

    result = retrying.execute_in_process()

    assert result.output_for_node("flaky") == "ok"
    assert call_log == ["attempt 0", "attempt 1", "attempt 2"]
    assert _retry_events(result, "flaky") == [
        "STEP_START",
        "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED",
        "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED",
        "STEP_SUCCESS",
    ]
    up_for_retry = [e for e in result.all_events if e.event_type is EventType.STEP_UP_FOR_RETRY]
    assert [e.data.attempt for e in up_for_retry] == [1, 2]
    assert up_for_retry[0].data.error.cls_name == "ConnectionError"
    assert up_for_retry[0].data.seconds_to_wait == 0


def test_retries_exhausted_fail_the_step_with_the_last_error(call_log: list[str]) -> None:
    @op(retry_policy=RetryPolicy(max_retries=1))
    def hopeless(context):
        call_log.append(f"attempt {context.retry_number}")
        raise ValueError(f"failed attempt {context.retry_number}")

    @job
    def failing():
        hopeless()

    result = failing.execute_in_process(raise_on_error=False)

    assert not result.success
    assert call_log == ["attempt 0", "attempt 1"]
    [failure] = result.get_step_failure_events()
    assert failure.data.error.message == "failed attempt 1"
    with pytest.raises(ValueError, match="failed attempt 1"):
        failing.execute_in_process()


def test_op_retry_policy_overrides_the_job_op_retry_policy(call_log: list[str]) -> None:
    @op(retry_policy=RetryPolicy(max_retries=3))
    def own_policy(context):
        call_log.append(f"own {context.retry_number}")
        raise ValueError("always")

    @op
    def job_policy(context):
        call_log.append(f"job {context.retry_number}")
        raise ValueError("always")

    @job(op_retry_policy=RetryPolicy(max_retries=1))
    def policies():
        own_policy()
        job_policy()

    policies.execute_in_process(raise_on_error=False)

    assert [c for c in call_log if c.startswith("own")] == ["own 0", "own 1", "own 2", "own 3"]
    assert [c for c in call_log if c.startswith("job")] == ["job 0", "job 1"]


def test_invocation_retry_policy_overrides_the_op_retry_policy(call_log: list[str]) -> None:
    @op(retry_policy=RetryPolicy(max_retries=3))
    def flaky(context):
        call_log.append(str(context.retry_number))
        raise ValueError("always")

    @graph
    def overridden():
        flaky.with_retry_policy(RetryPolicy(max_retries=0))()

    overridden.execute_in_process(raise_on_error=False)
    assert call_log == ["0"]


def test_retry_requested_retries_up_to_its_max_retries(call_log: list[str]) -> None:
    @op
    def asks(context):
        call_log.append(str(context.retry_number))
        raise RetryRequested(max_retries=2, seconds_to_wait=0)

    @job
    def asking():
        asks()

    result = asking.execute_in_process(raise_on_error=False)

    assert call_log == ["0", "1", "2"]
    assert _retry_events(result, "asks").count("STEP_UP_FOR_RETRY") == 2
    assert _retry_events(result, "asks")[-1] == "STEP_FAILURE"


def test_retry_requested_then_success(call_log: list[str]) -> None:
    @op
    def eventually(context):
        call_log.append(str(context.retry_number))
        if context.retry_number == 0:
            raise RetryRequested()
        return "second time"

    @job
    def asking():
        eventually()

    assert asking.execute_in_process().output_for_node("eventually") == "second time"
    assert call_log == ["0", "1"]


def test_retries_can_be_disabled_in_run_config(call_log: list[str]) -> None:
    @op(retry_policy=RetryPolicy(max_retries=3))
    def flaky(context):
        call_log.append(str(context.retry_number))
        raise ValueError("no")

    @job
    def retrying():
        flaky()

    retrying.execute_in_process(
        raise_on_error=False, run_config={"execution": {"config": {"retries": {"disabled": {}}}}}
    )
    assert call_log == ["0"]


def test_delay_between_attempts_is_waited() -> None:
    import time

    stamps: list[float] = []

    @op(retry_policy=RetryPolicy(max_retries=1, delay=0.05))
    def slow_retry(context):
        stamps.append(time.perf_counter())
        if context.retry_number == 0:
            raise ValueError("once")

    @job
    def waiting():
        slow_retry()

    waiting.execute_in_process()
    assert stamps[1] - stamps[0] >= 0.05


def test_exponential_backoff_waits_delay_times_two_to_the_n_minus_one() -> None:
    import time

    stamps: list[float] = []

    @op(retry_policy=RetryPolicy(max_retries=2, delay=0.05, backoff=Backoff.EXPONENTIAL))
    def flaky(context):
        stamps.append(time.perf_counter())
        if context.retry_number < 2:
            raise ValueError("not yet")

    @job
    def backing_off():
        flaky()

    assert backing_off.execute_in_process().success
    assert stamps[1] - stamps[0] >= 0.05  # first retry: 0.05 * (2**1 - 1)
    assert stamps[2] - stamps[1] >= 0.15  # second retry: 0.05 * (2**2 - 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, r"RetryPolicy\(max_retries=-1\) is invalid: expected a whole number"),
        ({"delay": -1.0}, r"RetryPolicy\(delay=-1\.0\) is invalid: expected seconds >= 0"),
        ({"backoff": Backoff.LINEAR}, r"RetryPolicy has a backoff but no delay to grow"),
    ],
    ids=["negative-retries", "negative-delay", "backoff-without-delay"],
)
def test_invalid_retry_policies_are_rejected(kwargs, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        RetryPolicy(**kwargs)
