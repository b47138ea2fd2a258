"""execute_job as the seeds call it: argument order, context manager, partitions, assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbflow import (
    AssetKey,
    EventType,
    Instance,
    OpExecutionContext,
    StaticPartitionsDefinition,
    asset,
    define_asset_job,
    execute_job,
    in_process_executor,
    job,
    op,
)
from nbflow.errors import InvalidDefinitionError, PartitionKeyError


@op(config_schema={"factor": int})
def scaled(context: OpExecutionContext) -> int:
    return 2 * context.op_config["factor"]


@job(executor_def=in_process_executor)
def scaling() -> None:
    scaled()


@op
def which_partition(context: OpExecutionContext) -> str:
    return context.partition_key


@job(executor_def=in_process_executor, partitions_def=StaticPartitionsDefinition(["eu", "us"]))
def regional() -> None:
    which_partition()


@asset
def upstream() -> int:
    return 3


@asset
def downstream(upstream: int) -> int:
    return upstream * 10


assets_job = define_asset_job(
    "assets_job", [upstream, downstream], executor_def=in_process_executor
)


def test_instance_then_run_config_positionally(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    result = execute_job(scaling, instance, {"ops": {"scaled": {"config": {"factor": 21}}}})
    assert result.output_for_node("scaled") == 42
    assert instance.get_run(result.run_id) is not None
    assert result.run.parent_run_id is None
    assert result.run.root_run_id is None


def test_the_result_is_a_context_manager(tmp_path: Path) -> None:
    config = {"ops": {"scaled": {"config": {"factor": 1}}}}
    with execute_job(scaling, Instance.local(tmp_path), run_config=config) as result:
        assert result.success
        assert result.output_for_node("scaled") == 2


def test_a_partitioned_job_runs_one_partition(tmp_path: Path) -> None:
    result = execute_job(regional, Instance.local(tmp_path), partition_key="us")
    assert result.output_for_node("which_partition") == "us"
    assert result.run.tags["nbflow/partition"] == "us"
    with pytest.raises(PartitionKeyError, match="asia"):
        execute_job(regional, Instance.local(tmp_path), partition_key="asia")


def test_asset_selection_materializes_the_selected_assets(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    first = execute_job(assets_job, instance)
    assert first.output_for_node("downstream") == 30
    only = execute_job(assets_job, instance, asset_selection=[AssetKey("downstream")])
    started = {e.step_key for e in only.all_events if e.event_type is EventType.STEP_START}
    assert started == {"downstream"}
    assert only.output_for_node("downstream") == 30
    with pytest.raises(InvalidDefinitionError, match="'nope' is not an asset of job"):
        execute_job(assets_job, instance, asset_selection=["nope"])
