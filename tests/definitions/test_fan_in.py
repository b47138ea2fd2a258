"""Fan-in inputs: a list of node outputs feeds one list input, in order."""

from __future__ import annotations

import pytest

from nbflow import (
    DependencyDefinition,
    GraphDefinition,
    In,
    Instance,
    MultiDependencyDefinition,
    Nothing,
    execute_job,
    graph,
    job,
    list_versions,
    op,
)
from nbflow.errors import InvalidDefinitionError, OutputError


@op
def one() -> int:
    return 1


@op
def two() -> int:
    return 2


@op
def three() -> int:
    return 3


@op(ins={"values": In(list[int])})
def total(values: list[int]) -> int:
    return sum(values)


@op
def listing(values: list[int]) -> list[int]:
    return values


def test_fan_in_gives_the_list_of_upstream_values_in_order() -> None:
    @job
    def fan() -> None:
        listing([three(), one(), two()])

    result = fan.execute_in_process()
    assert result.output_for_node("listing") == [3, 1, 2]


def test_fan_in_in_a_nested_graph_and_typed_list_input() -> None:
    @graph
    def inner() -> int:
        return total([one(), two(), three()])

    @job
    def outer() -> None:
        inner()

    assert outer.execute_in_process().output_for_node("inner.total") == 6


def test_fan_in_into_an_input_not_typed_as_a_list_is_an_nbflow_error() -> None:
    @op
    def double(value: int) -> int:
        return 2 * value

    @job
    def bad() -> None:
        double([one(), two()])

    with pytest.raises(OutputError, match=r"double\.value expected a value of type int"):
        bad.execute_in_process()


def test_multi_dependency_definition_builds_the_same_graph() -> None:
    g = GraphDefinition(
        "g",
        node_defs=[one, two, listing],
        dependencies={
            "listing": {
                "values": MultiDependencyDefinition(
                    [DependencyDefinition("two"), DependencyDefinition("one")]
                )
            }
        },
    )
    assert g.to_job().execute_in_process().output_for_node("listing") == [2, 1]


def test_fan_in_naming_an_unknown_node_is_reported() -> None:
    with pytest.raises(InvalidDefinitionError, match="'nope'"):
        GraphDefinition(
            "g",
            node_defs=[one, listing],
            dependencies={
                "listing": {
                    "values": MultiDependencyDefinition(
                        [DependencyDefinition("one"), DependencyDefinition("nope")]
                    )
                }
            },
        )


@op(version="1")
def v_one() -> int:
    return 1


@op(version="1")
def v_two() -> int:
    return 2


@op(version="1")
def v_listing(values: list[int]) -> list[int]:
    return values


def _fan_in_version(order: str) -> str:
    @job(tags={"nbflow/is_memoized_run": "true"})
    def fan() -> None:
        ups = {"a": v_one(), "b": v_two()}
        v_listing([ups[k] for k in order])

    (row,) = [r for r in list_versions(fan) if r.step_output == "v_listing.result"]
    return str(row.version)


def test_fan_in_version_combines_upstream_versions_in_order() -> None:
    assert _fan_in_version("ab") == _fan_in_version("ab")
    assert _fan_in_version("ab") != _fan_in_version("ba")
    assert _fan_in_version("ab") != _fan_in_version("a")


def test_memoized_fan_in_rerun_skips_every_step() -> None:
    @job(tags={"nbflow/is_memoized_run": "true"})
    def fan() -> None:
        v_listing([v_one(), v_two()])

    instance = Instance.ephemeral()
    first = fan.execute_in_process(instance=instance)
    assert first.output_for_node("v_listing") == [1, 2]
    second = fan.execute_in_process(instance=instance)
    skipped = {e.step_key for e in second.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert skipped == {"v_one", "v_two", "v_listing"}
    assert second.output_for_node("v_listing") == [1, 2]


@op(ins={"start": In(Nothing)})
def after() -> int:
    return 7


def test_nothing_input_passed_positionally_orders_the_steps() -> None:
    @job
    def ordered() -> None:
        after(one())

    result = ordered.execute_in_process()
    assert result.output_for_node("after") == 7
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert steps == ["one", "after"]


@job
def fan_in_job() -> None:
    listing([three(), one(), two()])


def test_fan_in_runs_with_the_multiprocess_executor() -> None:
    result = execute_job(fan_in_job)
    assert result.success
    assert result.output_for_node("listing") == [3, 1, 2]
