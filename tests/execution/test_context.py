"""OpExecutionContext: every property and method of seed 003 that nbflow implements."""

from __future__ import annotations

import logging
import pdb
from typing import Any

import pytest

from nbflow import (
    AssetMaterialization,
    AssetObservation,
    ExpectationResult,
    Field,
    Instance,
    OpExecutionContext,
    ResourceDefinition,
    StaticPartitionsDefinition,
    build_op_context,
    job,
    op,
    resource,
)
from nbflow.errors import InvalidContextUseError, InvalidInvocationError, PartitionKeyError


def _run_and_capture(tmp_instance: Instance) -> tuple[dict[str, Any], Any]:
    seen: dict[str, Any] = {}

    @op(
        config_schema={"threshold": Field(int, default_value=7)},
        required_resource_keys={"store"},
        tags={"kind": "probe"},
    )
    def probe(context):
        seen.update(
            context=context,
            resources_store=context.resources.store,
            op_config=context.op_config,
            solid_config=context.solid_config,
            run_id=context.run_id,
            run_config=context.run_config,
            job_name=context.job_name,
            pipeline_name=context.pipeline_name,
            job_def=context.job_def,
            pipeline_def=context.pipeline_def,
            op_def=context.op_def,
            solid_def=context.solid_def,
            retry_number=context.retry_number,
            owner=context.get_tag("owner"),
            team=context.get_tag("team"),
            missing_tag=context.get_tag("missing"),
            has_owner=context.has_tag("owner"),
            has_missing=context.has_tag("missing"),
            has_partition_key=context.has_partition_key,
            instance=context.instance,
            mapping_key=context.get_mapping_key(),
            pdb=context.pdb,
            run=context.run,
            step_launcher=context.step_launcher,
        )
        return 1

    @job(
        resource_defs={"store": ResourceDefinition.hardcoded_resource("the store")},
        tags={"team": "core", "owner": "job"},
    )
    def probing():
        probe()

    result = probing.execute_in_process(
        instance=tmp_instance, run_id="ctx-run", tags={"owner": "run"}
    )
    return seen, result


def test_context_properties_in_a_run(tmp_instance: Instance) -> None:
    seen, result = _run_and_capture(tmp_instance)
    probing = result.job_def

    assert isinstance(seen["context"], OpExecutionContext)
    assert seen["resources_store"] == "the store"
    assert seen["op_config"] == {"threshold": 7}
    assert seen["solid_config"] == {"threshold": 7}
    assert seen["run_id"] == "ctx-run"
    assert seen["run_config"]["ops"] == {"probe": {"config": {"threshold": 7}}}
    assert seen["job_name"] == seen["pipeline_name"] == "probing"
    assert seen["job_def"] is seen["pipeline_def"] is probing
    assert seen["op_def"] is seen["solid_def"]
    assert seen["op_def"].name == "probe"
    assert seen["retry_number"] == 0
    assert seen["instance"] is tmp_instance
    assert seen["mapping_key"] is None
    assert isinstance(seen["pdb"], pdb.Pdb)
    assert seen["run"].run_id == "ctx-run"
    assert seen["step_launcher"] is None


def test_get_tag_and_has_tag_see_job_tags_and_run_tags(tmp_instance: Instance) -> None:
    seen, _ = _run_and_capture(tmp_instance)

    assert seen["owner"] == "run"  # run tags passed to execute_in_process win
    assert seen["team"] == "core"
    assert seen["missing_tag"] is None
    assert seen["has_owner"] is True
    assert seen["has_missing"] is False


def test_partition_key_in_partitioned_and_unpartitioned_runs() -> None:
    @op
    def partitioned(context):
        return (
            context.has_partition_key,
            context.partition_key,
            context.asset_partition_key_for_output(),
        )

    @job(partitions_def=StaticPartitionsDefinition(["x", "y"]))
    def with_partitions():
        partitioned()

    result = with_partitions.execute_in_process(partition_key="y")
    assert result.output_for_node("partitioned") == (True, "y", "y")

    @op
    def unpartitioned(context):
        assert context.has_partition_key is False
        return context.partition_key

    @job
    def without_partitions():
        unpartitioned()

    with pytest.raises(
        PartitionKeyError,
        match=r"Op 'unpartitioned' asked for context\.partition_key, but this run is not "
        r"partitioned\. Fix: give the job a partitions_def",
    ):
        without_partitions.execute_in_process()


def test_context_log_sends_messages_to_the_nbflow_logger(caplog: pytest.LogCaptureFixture) -> None:
    @op
    def chatty(context):
        context.log.debug("debug line")
        context.log.info("info line")
        context.log.warning("warning line")
        context.log.error("error line")

    @job
    def chatting():
        chatty()

    with caplog.at_level(logging.DEBUG, logger="nbflow"):
        chatting.execute_in_process(run_id="0123456789")

    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "nbflow"]
    assert messages == [
        ("DEBUG", "chatting - 01234567 - chatty - debug line"),
        ("INFO", "chatting - 01234567 - chatty - info line"),
        ("WARNING", "chatting - 01234567 - chatty - warning line"),
        ("ERROR", "chatting - 01234567 - chatty - error line"),
    ]


def test_retry_number_counts_attempts() -> None:
    from nbflow import RetryPolicy

    numbers: list[int] = []

    @op(retry_policy=RetryPolicy(max_retries=2))
    def retried(context):
        numbers.append(context.retry_number)
        if context.retry_number < 2:
            raise RuntimeError("again")

    @job
    def retrying():
        retried()

    retrying.execute_in_process()
    assert numbers == [0, 1, 2]


def test_consume_events_pops_logged_events() -> None:
    @op
    def direct(context):
        materialization = AssetMaterialization("a")
        observation = AssetObservation("b")
        expectation = ExpectationResult(True)
        context.log_event(materialization)
        context.log_event(observation)
        first = list(context.consume_events())
        context.log_event(expectation)
        second = list(context.consume_events())
        third = list(context.consume_events())
        return first == [materialization, observation] and second == [expectation] and third == []

    assert direct(build_op_context()) is True


def test_consumed_events_are_not_emitted_again() -> None:
    @op
    def consumer(context):
        context.log_event(AssetMaterialization("consumed"))
        list(context.consume_events())
        context.log_event(AssetMaterialization("kept"))

    @job
    def consuming():
        consumer()

    result = consuming.execute_in_process()
    assert [
        m.asset_key.to_user_string() for m in result.asset_materializations_for_node("consumer")
    ] == ["kept"]


# --- build_op_context ------------------------------------------------------------------------


def test_build_op_context_defaults() -> None:
    @op
    def inspect_context(context):
        return {
            "run_id": context.run_id,
            "job_name": context.job_name,
            "has_partition_key": context.has_partition_key,
            "mapping_key": context.get_mapping_key(),
            "instance": type(context.instance).__name__,
            "retry_number": context.retry_number,
            "tags": context.has_tag("anything"),
        }

    assert inspect_context(build_op_context()) == {
        "run_id": "EPHEMERAL",
        "job_name": None,
        "has_partition_key": False,
        "mapping_key": None,
        "instance": "Instance",
        "retry_number": 0,
        "tags": False,
    }


def test_build_op_context_parameters(tmp_instance: Instance) -> None:
    @resource(config_schema={"prefix": str})
    def prefixer(init_context):
        return init_context.resource_config["prefix"]

    @op(required_resource_keys={"prefixer"}, config_schema={"name": str})
    def named(context):
        return (
            f"{context.resources.prefixer}{context.op_config['name']}",
            context.partition_key,
            context.get_mapping_key(),
            context.instance,
        )

    context = build_op_context(
        resources={"prefixer": prefixer},
        resources_config={"prefixer": {"prefix": "dr. "}},
        op_config={"name": "who"},
        instance=tmp_instance,
        partition_key="2024",
        mapping_key="chunk_3",
    )
    assert named(context) == ("dr. who", "2024", "chunk_3", tmp_instance)
    assert context.get_mapping_key() == "chunk_3"


def test_build_op_context_rejects_both_op_config_and_config() -> None:
    with pytest.raises(
        InvalidInvocationError, match=r"Pass op_config or config to build_op_context, not both"
    ):
        build_op_context(op_config={"a": 1}, config={"a": 1})


def test_build_op_context_with_a_teardown_resource_must_be_a_context_manager() -> None:
    @resource
    def needs_teardown(_):
        yield "value"

    @op(required_resource_keys={"res"})
    def use(context):
        return context.resources.res

    with pytest.raises(
        InvalidContextUseError,
        match=r"Resources \['res'\] need teardown, so the context must be used as a context "
        r"manager\. Fix: `with build_op_context\(resources=\.\.\.\) as context:`",
    ):
        use(build_op_context(resources={"res": needs_teardown}))


def test_build_op_context_config_defaults_are_filled_in() -> None:
    @op(config_schema={"n": Field(int, default_value=4)})
    def defaulted(context):
        return context.op_config

    assert defaulted(build_op_context()) == {"n": 4}
