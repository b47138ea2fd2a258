"""Result, definition and instance accessors a Dagster 1.7 user reaches for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    AssetMaterialization,
    AssetObservation,
    Backoff,
    EventType,
    In,
    Instance,
    Jitter,
    RetryPolicy,
    RetryRequested,
    graph,
    job,
    logger,
    op,
)
from nbflow.errors import NodeNotFoundError, ResultLookupError
from nbflow.events import StepFailureData


@op
def ok(context: Any) -> int:
    context.log_event(AssetObservation("seen", metadata={"rows": 3}))
    context.log_event(AssetMaterialization("made"))
    return 1


@op
def flaky(context: Any, x: int) -> int:
    if context.retry_number < 2:
        raise RetryRequested(max_retries=3, seconds_to_wait=0)
    return x + 1


@op
def broken(x: int) -> int:
    raise ValueError(f"broken on {x}")


@op
def after(x: int) -> int:
    return x


@graph
def inner(x: int) -> int:
    return after(broken(x))


@job
def mixed() -> None:
    value = ok()
    flaky(value)
    inner(value)


@pytest.fixture(scope="module")
def result() -> Any:
    return mixed.execute_in_process(raise_on_error=False)


def test_node_states(result: Any) -> None:
    assert result.is_node_success("ok")
    assert result.is_node_success("flaky")
    assert result.is_node_failed("inner.broken")
    assert result.is_node_failed("inner")
    assert not result.is_node_success("inner")
    assert result.is_node_skipped("inner.after")
    assert not result.is_node_skipped("ok")
    assert not result.is_node_untouched("ok")
    assert result.get_failed_step_keys() == {"inner.broken"}


def test_untouched_node_of_a_selected_run() -> None:
    partial = mixed.execute_in_process(op_selection=["ok"])
    assert partial.is_node_untouched("flaky")
    assert partial.is_node_untouched("inner")
    assert not partial.is_node_untouched("ok")


def test_retry_attempts_and_failure_data(result: Any) -> None:
    assert result.retry_attempts_for_node("flaky") == 2
    assert result.retry_attempts_for_node("ok") == 0
    failure = result.failure_data_for_node("inner.broken")
    assert isinstance(failure, StepFailureData)
    assert failure.error.cls_name == "ValueError"
    assert "broken on 1" in failure.error.message
    assert result.failure_data_for_node("ok") is None


def test_asset_events(result: Any) -> None:
    observations = result.asset_observations_for_node("ok")
    assert [o.asset_key.to_user_string() for o in observations] == ["seen"]
    events = result.get_asset_materialization_events()
    assert [e.event_type for e in events] == [EventType.ASSET_MATERIALIZATION]
    assert events[0].step_key == "ok"


def test_unknown_node_is_a_clear_error(result: Any) -> None:
    with pytest.raises(ResultLookupError, match=r"no node 'okk'.*Did you mean 'ok'"):
        result.is_node_success("okk")


def test_job_nodes_loggers_and_node_lookup() -> None:
    assert [n.name for n in mixed.nodes] == ["ok", "flaky", "inner"]
    assert mixed.get_node_named("flaky").definition is flaky
    assert mixed.get_node_named("inner.broken").definition is broken
    with pytest.raises(NodeNotFoundError, match=r"no node 'flakey'.*Did you mean 'flaky'"):
        mixed.get_node_named("flakey")
    assert dict(mixed.loggers) == {}

    @logger
    def quiet(init_context: Any) -> Any:
        import logging

        return logging.getLogger("quiet")

    @job(logger_defs={"quiet": quiet})
    def logged() -> None:
        ok()

    assert dict(logged.loggers) == {"quiet": quiet}


def test_graph_input_defs() -> None:
    @op(ins={"n": In(int, description="how many")})
    def take(n: int) -> int:
        return n

    @graph
    def wrapper(n: int) -> int:
        return take(n)

    (only,) = wrapper.input_defs
    assert only.name == "n"
    assert only.description == "how many"
    assert inner.input_defs[0].name == "x"


def test_instance_accessors_and_context_manager(tmp_path: Path) -> None:
    with Instance.local(tmp_path / "home") as instance:
        run = mixed.execute_in_process(instance=instance, op_selection=["ok"])
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None
        assert stored.run_id == run.run_id
        assert instance.get_run_by_id("nope") is None
        assert instance.storage_directory() == str(tmp_path / "home" / "storage")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RetryPolicy(max_retries=3, delay=2), [2, 2, 2]),
        (RetryPolicy(max_retries=3, delay=2, backoff=Backoff.LINEAR), [2, 4, 6]),
        (RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL), [2, 6, 14]),
        (RetryPolicy(max_retries=3), [0, 0, 0]),
    ],
    ids=["constant", "linear", "exponential", "no-delay"],
)
def test_retry_policy_calculate_delay(policy: RetryPolicy, expected: list[float]) -> None:
    assert [policy.calculate_delay(n) for n in (1, 2, 3)] == expected


def test_retry_policy_calculate_delay_with_jitter() -> None:
    full = RetryPolicy(max_retries=2, delay=1, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL)
    plus_minus = RetryPolicy(max_retries=2, delay=1, jitter=Jitter.PLUS_MINUS)
    for _ in range(50):
        assert 0 <= full.calculate_delay(2) <= 3
        assert 0 <= plus_minus.calculate_delay(1) <= 2
