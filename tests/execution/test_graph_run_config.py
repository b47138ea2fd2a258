"""The seed system's run-config shapes for a job's root graph: its config mapping under
``ops.config`` and its own inputs under ``inputs``; nbflow's own shapes keep working."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import ConfigMapping, graph, op, resource
from nbflow.errors import RunConfigValidationError


@op
def double(x: int) -> int:
    return 2 * x


@graph
def inner(y: Any) -> Any:
    return double(y)


@graph
def doubled(x: Any) -> None:
    double(x)
    inner(x)


@resource(config_schema={"k": int})
def offset(init: Any) -> int:
    return int(init.resource_config["k"])


@op(config_schema={"n": int}, required_resource_keys={"offset"})
def emit(context: Any) -> int:
    return int(context.op_config["n"]) + int(context.resources.offset)


@graph(
    config=ConfigMapping(
        config_schema={"m": int}, config_fn=lambda c: {"emit": {"config": {"n": c["m"] * 10}}}
    )
)
def mapped() -> None:
    emit()


@pytest.mark.parametrize("value", [{"value": 3}, 3])
def test_top_level_graph_inputs_feed_every_op_they_reach(value: Any) -> None:
    result = doubled.to_job().execute_in_process(run_config={"inputs": {"x": value}})

    assert result.output_for_node("double") == 6
    assert result.output_for_node("inner.double") == 6


def test_op_inputs_in_nbflow_shape_still_work() -> None:
    run_config = {
        "ops": {"double": {"inputs": {"x": 3}}, "inner": {"ops": {"double": {"inputs": {"x": 4}}}}}
    }
    result = doubled.to_job().execute_in_process(run_config=run_config)

    assert (result.output_for_node("double"), result.output_for_node("inner.double")) == (6, 8)


def test_an_unknown_graph_input_is_named_with_the_inputs_there_are() -> None:
    with pytest.raises(RunConfigValidationError, match=r"'z' is not an input of graph 'doubled'"):
        doubled.to_job().execute_in_process(run_config={"inputs": {"z": 1}})


def test_the_root_graph_config_mapping_takes_ops_config_and_keeps_resources() -> None:
    job = mapped.to_job(resource_defs={"offset": offset})
    run_config = {"ops": {"config": {"m": 2}}, "resources": {"offset": {"config": {"k": 1}}}}

    assert job.execute_in_process(run_config=run_config).output_for_node("emit") == 21


def test_the_root_graph_config_mapping_still_takes_its_config_at_the_top() -> None:
    job = mapped.to_job(resource_defs={"offset": offset.configured({"k": 5})})

    assert job.execute_in_process(run_config={"m": 2}).output_for_node("emit") == 25
