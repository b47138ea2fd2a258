"""Partitioned config: a job's run config (and tags) derived from a run's partition key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nbflow import (
    DailyPartitionsDefinition,
    Instance,
    PartitionedConfig,
    StaticPartitionsDefinition,
    daily_partitioned_config,
    execute_job,
    in_process_executor,
    job,
    op,
    static_partitioned_config,
)
from nbflow.errors import DefinitionError, InvalidDefinitionError, PartitionKeyError

calls: list[str] = []


@op(config_schema={"value": str})
def load(context: Any) -> str:
    calls.append(context.op_config["value"])
    return f"{context.op_config['value']}@{context.partition_key}"


@static_partitioned_config(
    partition_keys=["us", "eu"], tags_for_partition_key_fn=lambda key: {"region": key}
)
def region_config(partition_key: str) -> dict[str, Any]:
    return {"ops": {"load": {"config": {"value": partition_key.upper()}}}}


@job(config=region_config, executor_def=in_process_executor)
def regional() -> None:
    load()


@daily_partitioned_config(start_date="2024-03-30", timezone="Europe/Paris", end_offset=1)
def day_config(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"ops": {"load": {"config": {"value": f"{start.isoformat()}/{end.isoformat()}"}}}}


@job(config=day_config)
def daily() -> None:
    load()


def test_static_partitioned_config_gives_the_job_its_partitions() -> None:
    assert isinstance(region_config, PartitionedConfig)
    assert isinstance(regional.partitions_def, StaticPartitionsDefinition)
    assert list(regional.partitions_def.get_partition_keys()) == ["us", "eu"]
    assert region_config("us") == {"ops": {"load": {"config": {"value": "US"}}}}


def test_a_run_for_a_partition_key_takes_its_config_and_tags() -> None:
    result = regional.execute_in_process(partition_key="eu")
    assert result.output_for_node("load") == "EU@eu"
    assert result.run.tags["region"] == "eu"
    assert result.run.tags["nbflow/partition"] == "eu"


def test_run_config_and_tags_given_win_over_the_partition_s() -> None:
    result = regional.execute_in_process(
        run_config={"ops": {"load": {"config": {"value": "given"}}}},
        partition_key="us",
        tags={"region": "mine"},
    )
    assert result.output_for_node("load") == "given@us"
    assert result.run.tags["region"] == "mine"


def test_an_unknown_partition_key_fails_before_anything_runs() -> None:
    calls.clear()
    with pytest.raises(PartitionKeyError, match=r"Unknown partition key 'asia'"):
        regional.execute_in_process(partition_key="asia")
    assert calls == []


def test_execute_job_derives_the_config_from_the_partition_key(tmp_path: Path) -> None:
    result = execute_job(regional, Instance.local(tmp_path), partition_key="us")
    assert result.output_for_node("load") == "US@us"
    assert result.run.tags["region"] == "us"
    with pytest.raises(PartitionKeyError):
        execute_job(regional, Instance.local(tmp_path), partition_key="asia")


def test_daily_partitioned_config_passes_the_day_s_time_window() -> None:
    assert isinstance(daily.partitions_def, DailyPartitionsDefinition)
    assert daily.partitions_def.timezone == "Europe/Paris"
    # the day summer time starts in Paris is 23 hours long
    result = daily.execute_in_process(partition_key="2024-03-31")
    assert result.output_for_node("load") == (
        "2024-03-31T00:00:00+01:00/2024-04-01T00:00:00+02:00@2024-03-31"
    )
    keys = daily.partitions_def.get_partition_keys()
    assert keys[0] == "2024-03-30"
    today_in_paris = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    assert keys[-1] == today_in_paris.strftime("%Y-%m-%d")  # end_offset=1 reaches today


def test_daily_partitioned_config_tags_come_from_the_window() -> None:
    @daily_partitioned_config(
        start_date=dt.date(2024, 1, 1), tags_for_partition_fn=lambda s, e: {"day": s.strftime("%d")}
    )
    def cfg(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        return {"ops": {"load": {"config": {"value": start.strftime("%m")}}}}

    @job(config=cfg)
    def tagged() -> None:
        load()

    result = tagged.execute_in_process(partition_key="2024-02-09")
    assert result.output_for_node("load") == "02@2024-02-09"
    assert result.run.tags["day"] == "09"


def test_a_partitioned_config_and_another_partitions_def_are_refused() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"config and partitions_def"):

        @job(config=region_config, partitions_def=StaticPartitionsDefinition(["x"]))
        def both() -> None:
            load()


def test_bad_partitioned_config_arguments_are_clear_errors() -> None:
    with pytest.raises(DefinitionError, match=r"not a partitions definition"):
        PartitionedConfig("us", lambda key: {})  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match=r"end_offset=-1"):
        daily_partitioned_config(start_date="2024-01-01", end_offset=-1)
