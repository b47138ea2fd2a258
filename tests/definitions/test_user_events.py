"""User events (materializations, observations, expectations) and output metadata."""

from __future__ import annotations

import pytest

from nbflow import (
    AssetKey,
    AssetMaterialization,
    AssetObservation,
    EventType,
    ExpectationResult,
    Out,
    Output,
    job,
    op,
)
from nbflow.errors import DefinitionError, InvalidContextUseError

USER_KINDS = {
    EventType.ASSET_MATERIALIZATION,
    EventType.ASSET_OBSERVATION,
    EventType.STEP_EXPECTATION_RESULT,
}


def _user_events(result) -> list[tuple[str, object]]:
    return [(e.event_type.name, e.data) for e in result.all_events if e.event_type in USER_KINDS]


def test_user_events_logged_through_the_context() -> None:
    materialization = AssetMaterialization(["warehouse", "orders"], metadata={"rows": 3})
    observation = AssetObservation("orders", description="looked at it")
    expectation = ExpectationResult(success=True, label="non_empty")

    @op
    def logging_op(context):
        context.log_event(materialization)
        context.log_event(observation)
        context.log_event(expectation)
        return 1

    @job
    def logged():
        logging_op()

    result = logged.execute_in_process()

    assert _user_events(result) == [
        ("ASSET_MATERIALIZATION", materialization),
        ("ASSET_OBSERVATION", observation),
        ("STEP_EXPECTATION_RESULT", expectation),
    ]
    messages = [e.message for e in result.all_events if e.event_type in USER_KINDS]
    assert messages == [
        "AssetMaterialization warehouse/orders",
        "AssetObservation orders",
        "Expectation non_empty passed",
    ]
    assert materialization.asset_key == AssetKey(["warehouse", "orders"])


def test_user_events_yielded_by_a_generator_op_come_before_the_output() -> None:
    @op
    def yielding():
        yield AssetMaterialization("table")
        yield ExpectationResult(success=False, label="fresh")
        yield Output(5)

    @job
    def yielded():
        yielding()

    result = yielded.execute_in_process()

    kinds = [e.event_type.name for e in result.events_for_node("yielding")]
    assert kinds == [
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "STEP_EXPECTATION_RESULT",
        "STEP_OUTPUT",
        "HANDLED_OUTPUT",
        "STEP_SUCCESS",
    ]
    [expectation] = [e for e in result.all_events if e.event_type.name == "STEP_EXPECTATION_RESULT"]
    assert expectation.message == "Expectation fresh failed"
    assert result.output_for_node("yielding") == 5


def test_log_event_rejects_other_objects() -> None:
    @op
    def wrong(context):
        context.log_event("a string")

    @job
    def wrong_job():
        wrong()

    with pytest.raises(
        InvalidContextUseError,
        match=r"context\.log_event got str; expected AssetMaterialization, AssetObservation or "
        r"ExpectationResult\.",
    ):
        wrong_job.execute_in_process()


def test_generator_op_yielding_something_else_fails_clearly() -> None:
    @op
    def odd():
        yield 42

    @job
    def odd_job():
        odd()

    with pytest.raises(TypeError, match=r"Op 'odd' yielded int 42; a generator op yields Output"):
        odd_job.execute_in_process()


@pytest.mark.parametrize(
    "bad", ["", [], ["a", ""], [1]], ids=["empty", "empty-list", "empty-part", "non-string"]
)
def test_asset_key_rejects_bad_paths(bad) -> None:
    with pytest.raises(DefinitionError, match=r"AssetKey\(.*\) is invalid: expected a non-empty"):
        AssetKey(bad)


def test_asset_key_helpers() -> None:
    key = AssetKey("orders")
    assert key.with_prefix("warehouse") == AssetKey(["warehouse", "orders"])
    assert str(key.with_prefix(["a", "b"])) == "a/b/orders"
    assert AssetKey.from_coercible(key) is key


# --- add_output_metadata ---------------------------------------------------------------------


def _output_metadata(result) -> dict[str, dict[str, object]]:
    return {
        e.data.output_name: dict(e.data.metadata)
        for e in result.all_events
        if e.event_type is EventType.STEP_OUTPUT
    }


def test_add_output_metadata_merges_with_output_metadata() -> None:
    @op
    def described(context):
        context.add_output_metadata({"rows": 10})
        return Output([1], metadata={"source": "api"})

    @job
    def metadata_job():
        described()

    result = metadata_job.execute_in_process()
    assert _output_metadata(result) == {"result": {"rows": 10, "source": "api"}}
    [handled] = [e for e in result.all_events if e.event_type is EventType.HANDLED_OUTPUT]
    assert handled.data.metadata == {"rows": 10, "source": "api"}


def test_add_output_metadata_twice_for_one_output_is_an_error() -> None:
    @op
    def twice(context):
        context.add_output_metadata({"a": 1})
        context.add_output_metadata({"b": 2})
        return 1

    @job
    def twice_job():
        twice()

    with pytest.raises(
        InvalidContextUseError,
        match=r"Metadata was already added to output 'result' of op 'twice'; add it once per "
        r"output, all keys together\.",
    ):
        twice_job.execute_in_process()


def test_add_output_metadata_once_per_output_of_a_multi_output_op_is_fine() -> None:
    @op(out={"a": Out(), "b": Out()})
    def both(context):
        context.add_output_metadata({"x": 1}, output_name="a")
        context.add_output_metadata({"y": 2}, output_name="b")
        return 1, 2

    @job
    def both_job():
        both()

    assert _output_metadata(both_job.execute_in_process()) == {"a": {"x": 1}, "b": {"y": 2}}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda context: context.add_output_metadata({"x": 1}),
            r"Op 'two' has outputs \['first', 'second'\]; add_output_metadata needs "
            r"output_name= to say which\.",
        ),
        (
            lambda context: context.add_output_metadata({"x": 1}, output_name="frist"),
            r"Op 'two' has no output 'frist'\. Did you mean 'first'\? Its outputs: "
            r"\['first', 'second'\]\.",
        ),
    ],
    ids=["ambiguous", "unknown-output"],
)
def test_add_output_metadata_needs_a_known_output_name(call, message: str) -> None:
    @op(out={"first": Out(), "second": Out()})
    def two(context):
        call(context)
        return 1, 2

    @job
    def two_job():
        two()

    with pytest.raises(InvalidContextUseError, match=message):
        two_job.execute_in_process()
