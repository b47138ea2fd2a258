"""``ConfigMapping(receive_processed_config_values=...)``: resolved or raw config for config_fn."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import ConfigMapping, Enum, EnumValue, Field, graph, job, op
from nbflow.errors import RunConfigValidationError

COLOR = Enum("Color", [EnumValue("RED", python_value=(255, 0, 0)), EnumValue("BLUE")])
SCHEMA = {"color": COLOR, "times": Field(int, default_value=2)}


@op(config_schema={"seen": Field(dict)})
def report(context: Any) -> Any:
    return context.op_config["seen"]


def _job(processed: bool | None) -> Any:
    extra = {} if processed is None else {"receive_processed_config_values": processed}
    mapping = ConfigMapping(
        config_fn=lambda c: {"ops": {"report": {"config": {"seen": dict(c)}}}},
        config_schema=SCHEMA,
        **extra,
    )

    @job(config=mapping)
    def mapped() -> None:
        report()

    return mapped


def test_config_fn_receives_processed_values_by_default() -> None:
    assert ConfigMapping(config_fn=dict).receive_processed_config_values is True
    result = _job(None).execute_in_process(run_config={"color": "RED"})
    assert result.output_for_node("report") == {"color": (255, 0, 0), "times": 2}


def test_config_fn_receives_raw_values_when_asked() -> None:
    result = _job(False).execute_in_process(run_config={"color": "RED"})
    assert result.output_for_node("report") == {"color": "RED"}


def test_raw_values_are_still_checked_against_the_schema() -> None:
    with pytest.raises(RunConfigValidationError, match=r"root:color"):
        _job(False).execute_in_process(run_config={"color": "GREEN"})


def test_a_graph_config_mapping_can_receive_raw_values() -> None:
    @graph(
        config=ConfigMapping(
            config_fn=lambda c: {"report": {"config": {"seen": dict(c)}}},
            config_schema=SCHEMA,
            receive_processed_config_values=False,
        )
    )
    def inner() -> Any:
        return report()

    @job
    def outer() -> None:
        inner()

    result = outer.execute_in_process(run_config={"ops": {"inner": {"config": {"color": "BLUE"}}}})
    assert result.output_for_node("inner") == {"color": "BLUE"}
