"""Ops and resources called directly with built contexts: config, events, output metadata."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import (
    AssetMaterialization,
    AssetObservation,
    ExpectationResult,
    Field,
    Out,
    Output,
    build_init_resource_context,
    build_op_context,
    op,
    resource,
)
from nbflow.errors import RunConfigValidationError


@resource(config_schema={"url": str, "timeout": Field(int, default_value=5)})
def configured_db(init_context: Any) -> dict[str, Any]:
    return dict(init_context.resource_config)


@op(required_resource_keys={"db"})
def read_db(context: Any) -> dict[str, Any]:
    return dict(context.resources.db)


# --- resources_config -------------------------------------------------------------------------


def test_resources_config_in_run_config_shape_gets_defaults() -> None:
    context = build_op_context(
        resources={"db": configured_db}, resources_config={"db": {"config": {"url": "u"}}}
    )
    assert read_db(context) == {"url": "u", "timeout": 5}


def test_resources_config_given_bare_gets_defaults_too() -> None:
    context = build_op_context(
        resources={"db": configured_db}, resources_config={"db": {"url": "u"}}
    )
    assert read_db(context) == {"url": "u", "timeout": 5}


def test_bad_resources_config_is_rejected_by_build_op_context() -> None:
    with pytest.raises(RunConfigValidationError) as caught:
        build_op_context(
            resources={"db": configured_db}, resources_config={"db": {"config": {"timeout": "x"}}}
        )
    assert caught.value.problems == [
        "root:resources:db:config: missing required field 'url' (String)",
        "root:resources:db:config:timeout: expected Int, got 'x' (str)",
    ]


def test_resources_config_for_an_unknown_resource_is_rejected() -> None:
    with pytest.raises(RunConfigValidationError, match=r"root:resources:dbb: no resource 'dbb'"):
        build_op_context(resources={"db": configured_db}, resources_config={"dbb": {}})


def test_a_resource_schema_with_a_field_named_config_takes_it_bare() -> None:
    @resource(config_schema={"config": Field(str, default_value="d")})
    def nested(init_context: Any) -> Any:
        return init_context.resource_config

    context = build_op_context(resources={"db": nested}, resources_config={"db": {"config": "x"}})
    assert read_db(context) == {"config": "x"}


def test_a_resource_called_with_a_built_init_context_gets_defaults() -> None:
    assert configured_db(build_init_resource_context(config={"url": "u"})) == {
        "url": "u",
        "timeout": 5,
    }
    with pytest.raises(RunConfigValidationError, match=r"root:config:timeout: expected Int"):
        configured_db(build_init_resource_context(config={"url": "u", "timeout": "x"}))


# --- events and output metadata after a direct call ------------------------------------------


def test_consume_events_after_the_call_returns_logged_events_in_order() -> None:
    materialization = AssetMaterialization("table", metadata={"rows": 3})
    observation = AssetObservation("source")
    expectation = ExpectationResult(True, label="non_empty")

    @op
    def logs(context: Any) -> int:
        context.log_event(materialization)
        context.log_event(observation)
        context.log_event(expectation)
        return 1

    context = build_op_context()
    assert logs(context) == 1
    assert list(context.consume_events()) == [materialization, observation, expectation]
    assert list(context.consume_events()) == []


def test_events_consumed_inside_the_op_are_not_returned_again() -> None:
    @op
    def consumes(context: Any) -> None:
        context.log_event(AssetMaterialization("first"))
        list(context.consume_events())
        context.log_event(AssetMaterialization("second"))

    context = build_op_context()
    consumes(context)
    assert [e.asset_key.to_user_string() for e in context.consume_events()] == ["second"]


def test_a_generator_op_called_directly_records_yielded_events_and_metadata() -> None:
    @op(out={"a": Out(), "b": Out()})
    def emits(context: Any):  # type: ignore[no-untyped-def]
        yield AssetMaterialization("a_table")
        yield Output(1, "a", metadata={"rows": 1})
        context.add_output_metadata({"source": "x", "rows": 0}, output_name="b")
        yield Output(2, "b", metadata={"rows": 2})
        yield ExpectationResult(True, label="done")

    context = build_op_context()
    assert emits(context) == (1, 2)
    assert [type(e).__name__ for e in context.consume_events()] == [
        "AssetMaterialization",
        "ExpectationResult",
    ]
    assert context.get_output_metadata("a") == {"rows": 1}
    assert context.get_output_metadata("b") == {"source": "x", "rows": 2}


def test_output_metadata_of_a_returned_output_and_of_add_output_metadata() -> None:
    @op
    def returns_output(context: Any) -> Output:
        return Output(5, metadata={"kind": "count"})

    @op
    def adds(context: Any) -> int:
        context.add_output_metadata({"rows": 7})
        return 7

    @op
    def plain(context: Any) -> int:
        return 0

    first = build_op_context()
    assert returns_output(first) == 5
    assert first.get_output_metadata("result") == {"kind": "count"}
    second = build_op_context()
    assert adds(second) == 7
    assert second.get_output_metadata("result") == {"rows": 7}
    assert second.get_output_metadata("result", mapping_key=None) == {"rows": 7}
    third = build_op_context()
    assert plain(third) == 0
    assert third.get_output_metadata("result") is None


def test_each_direct_call_starts_with_fresh_events_and_metadata() -> None:
    @op
    def once(context: Any) -> int:
        context.log_event(AssetObservation("seen"))
        context.add_output_metadata({"n": 1})
        return 1

    context = build_op_context()
    once(context)
    once(context)
    assert len(list(context.consume_events())) == 1
    assert context.get_output_metadata("result") == {"n": 1}
