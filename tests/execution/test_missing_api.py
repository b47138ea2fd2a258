"""Smaller names of the seed system: InputMapping descriptions, the JSON console logger,
time windows per output."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from nbflow import (
    DailyPartitionsDefinition,
    GraphDefinition,
    In,
    InputMapping,
    job,
    json_console_logger,
    op,
)


def test_input_mapping_describes_the_graph_input() -> None:
    @op(ins={"x": In(int, description="inner words")})
    def take(x: int) -> int:
        return x

    described = GraphDefinition(
        name="described",
        node_defs=[take],
        input_mappings=[InputMapping("n", "take", "x", graph_input_description="how many")],
    )
    plain = GraphDefinition(
        name="plain", node_defs=[take], input_mappings=[InputMapping("n", "take", "x")]
    )
    assert described.input_defs[0].description == "how many"
    assert plain.input_defs[0].description == "inner words"


def test_json_console_logger_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    @op
    def speak(context: Any) -> None:
        context.log.info("hello there")

    @job(logger_defs={"json": json_console_logger})
    def talking() -> None:
        speak()

    talking.execute_in_process(run_config={"loggers": {"json": {"config": {"name": "talk"}}}})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    spoken = [entry for entry in lines if entry["msg"].endswith("hello there")]
    assert len(spoken) == 1
    assert spoken[0]["level"] == "INFO"
    assert spoken[0]["name"] == "talk"


def test_time_window_for_output_is_the_run_partition_window() -> None:
    windows = []

    @op
    def dated(context: Any) -> None:
        windows.append(context.asset_partitions_time_window_for_output())

    @job(partitions_def=DailyPartitionsDefinition(start_date="2024-01-01"))
    def daily() -> None:
        dated()

    daily.execute_in_process(partition_key="2024-01-02")
    (window,) = windows
    assert (window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)) == (
        datetime(2024, 1, 2),
        datetime(2024, 1, 3),
    )
