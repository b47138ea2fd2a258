"""``Failure``: failing a step on purpose; ``RetryRequested`` past its max_retries."""

from __future__ import annotations

from typing import Any

from nbflow import Failure, RetryPolicy, RetryRequested, job, op
from nbflow.events import StepFailureData, UserFailureData


def test_failure_fails_the_step_with_its_description_and_metadata() -> None:
    @op
    def checks() -> None:
        raise Failure(description="too few rows", metadata={"rows": 3})

    @job
    def checking() -> None:
        checks()

    result = checking.execute_in_process(raise_on_error=False)
    assert not result.success
    data = result.failure_data_for_node("checks")
    assert isinstance(data, StepFailureData)
    assert data.error.cls_name == "Failure"
    assert data.error.message == "too few rows"
    assert data.user_failure_data == UserFailureData("too few rows", {"rows": 3})


def test_failure_with_allow_retries_false_skips_the_retry_policy(call_log: list[str]) -> None:
    @op(retry_policy=RetryPolicy(max_retries=3))
    def final(context: Any) -> None:
        call_log.append(str(context.retry_number))
        raise Failure("no point retrying", allow_retries=False)

    @op(retry_policy=RetryPolicy(max_retries=2))
    def retried(context: Any) -> None:
        call_log.append(f"r{context.retry_number}")
        raise Failure("try again")

    @job
    def both() -> None:
        final()
        retried()

    result = both.execute_in_process(raise_on_error=False)
    assert sorted(call_log) == ["0", "r0", "r1", "r2"]
    assert result.retry_attempts_for_node("final") == 0
    assert result.retry_attempts_for_node("retried") == 2


def test_retry_requested_past_its_max_retries_fails_with_max_retries_exceeded() -> None:
    @op
    def asks(context: Any) -> None:
        try:
            raise ConnectionError("db down")
        except ConnectionError as exc:
            raise RetryRequested(max_retries=2) from exc

    @job
    def asking() -> None:
        asks()

    result = asking.execute_in_process(raise_on_error=False)
    data = result.failure_data_for_node("asks")
    assert data is not None
    assert data.error.cls_name == "MaxRetriesExceededError"
    assert "RetryRequested(max_retries=2) after 2 retries" in data.error.message
    assert "ConnectionError: db down" in data.error.traceback
    assert result.retry_attempts_for_node("asks") == 2
