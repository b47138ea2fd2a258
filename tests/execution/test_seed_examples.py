"""Every code example of seeds 003 and 004, with ``dagster`` replaced by ``nbflow``.

Reconstructable jobs (``reconstructable``, ``build_reconstructable_job``) are out of scope
here. Each test runs the example as written (or as close as the example allows) and checks
what the seed says it does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING

import pytest

from nbflow import (
    AssetKey,
    AssetMaterialization,
    ConfigMapping,
    DependencyDefinition,
    Event,
    EventType,
    ExecuteInProcessResult,
    Field,
    GraphDefinition,
    Instance,
    JobDefinition,
    Out,
    RetryPolicy,
    SourceHashVersionStrategy,
    StaticPartitionsDefinition,
    build_op_context,
    graph,
    in_process_executor,
    job,
    logger,
    op,
    resource,
    success_hook,
    validate_run_config,
)
from nbflow.errors import InvalidContextUseError, ResultLookupError, RunConfigValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator

# --- GraphDefinition: the basic example ------------------------------------------------------


@op
def return_one():
    return 1


@op
def add_one(num):
    return num + 1


def test_graph_definition_basic_example_runs() -> None:
    graph_def = GraphDefinition(
        name="basic",
        node_defs=[return_one, add_one],
        dependencies={"add_one": {"num": DependencyDefinition("return_one")}},
    )

    result = graph_def.execute_in_process()

    assert result.success
    assert result.output_for_node("return_one") == 1
    assert result.output_for_node("add_one") == 2
    assert graph_def.to_job().execute_in_process().output_for_node("add_one") == 2


# --- OpExecutionContext.add_output_metadata --------------------------------------------------


def test_add_output_metadata_example_with_a_set_literal_is_rejected_clearly() -> None:
    # The seed writes {"foo", "bar"}: a set, not a dict. nbflow says so instead of guessing.
    @op
    def add_metadata(context):
        context.add_output_metadata({"foo", "bar"})
        return 5

    @job
    def metadata_job():
        add_metadata()

    with pytest.raises(
        InvalidContextUseError, match=r"add_output_metadata got set .*expected a dict"
    ):
        metadata_job.execute_in_process()


def test_add_output_metadata_attaches_to_the_only_output_result() -> None:
    @op
    def add_metadata(context):
        context.add_output_metadata({"foo": "bar"})
        return 5  # the default output is called "result": the metadata goes there

    @job
    def metadata_job():
        add_metadata()

    result = metadata_job.execute_in_process()

    [output_event] = [e for e in result.all_events if e.event_type is EventType.STEP_OUTPUT]
    assert output_event.data.output_name == "result"
    assert output_event.data.metadata == {"foo": "bar"}
    assert result.output_for_node("add_metadata") == 5


def test_add_output_metadata_two_outputs_example() -> None:
    @op(out={"a": Out(), "b": Out()})
    def add_metadata_two_outputs(context) -> tuple[str, int]:
        context.add_output_metadata({"foo": "bar"}, output_name="b")
        context.add_output_metadata({"baz": "bat"}, output_name="a")

        return ("dog", 5)

    @job
    def two_outputs_job():
        add_metadata_two_outputs()

    result = two_outputs_job.execute_in_process()

    metadata = {
        e.data.output_name: e.data.metadata
        for e in result.all_events
        if e.event_type is EventType.STEP_OUTPUT
    }
    assert metadata == {"a": {"baz": "bat"}, "b": {"foo": "bar"}}
    assert result.output_for_node("add_metadata_two_outputs", "a") == "dog"
    assert result.output_for_node("add_metadata_two_outputs", "b") == 5


# --- OpExecutionContext.log_event ------------------------------------------------------------


def test_log_event_asset_materialization_example() -> None:
    @op
    def log_materialization(context):
        context.log_event(AssetMaterialization("foo"))

    @job
    def materialize_job():
        log_materialization()

    result = materialize_job.execute_in_process()

    [event] = [e for e in result.all_events if e.event_type is EventType.ASSET_MATERIALIZATION]
    assert event.step_key == "log_materialization"
    assert event.data.asset_key == AssetKey("foo")
    assert result.asset_materializations_for_node("log_materialization") == [event.data]


# --- build_op_context ------------------------------------------------------------------------


def test_build_op_context_as_a_function(call_log: list[str]) -> None:
    @op
    def op_to_invoke(context):
        call_log.append(context.run_id)
        return "invoked"

    context = build_op_context()
    assert op_to_invoke(context) == "invoked"
    assert call_log == ["EPHEMERAL"]


def test_build_op_context_as_a_context_manager_with_a_context_manager_resource(
    call_log: list[str],
) -> None:
    @resource
    def context_manager_resource(_init_context) -> Iterator[str]:
        call_log.append("set up")
        yield "foo value"
        call_log.append("torn down")

    @op(required_resource_keys={"foo"})
    def op_to_invoke(context):
        call_log.append(f"op saw {context.resources.foo}")
        return context.resources.foo

    with build_op_context(resources={"foo": context_manager_resource}) as context:
        assert op_to_invoke(context) == "foo value"
        assert call_log == ["set up", "op saw foo value"]

    assert call_log == ["set up", "op saw foo value", "torn down"]


def test_build_op_context_accepts_a_contextlib_context_manager_as_resource(
    call_log: list[str],
) -> None:
    @contextlib.contextmanager
    def connection() -> Iterator[str]:
        call_log.append("open")
        yield "conn"
        call_log.append("close")

    @op(required_resource_keys={"foo"})
    def op_to_invoke(context):
        return context.resources.foo

    with build_op_context(resources={"foo": connection()}) as context:
        assert op_to_invoke(context) == "conn"
    assert call_log == ["open", "close"]


# --- @job: every parameter of seed 004 -------------------------------------------------------


def test_job_decorator_takes_every_parameter_of_seed_004(call_log: list[str]) -> None:
    @op(config_schema={"greeting": str}, required_resource_keys={"name"})
    def greet(context, punctuation):
        context.log.info("greeting")
        return f"{context.op_config['greeting']} {context.resources.name}{punctuation}"

    @resource
    def name_resource(_):
        return "nbflow"

    @logger
    def quiet_logger(_init_context):
        return logging.getLogger("nbflow.tests.quiet")

    @success_hook
    def record_success(context):
        call_log.append(f"hook {context.step_key}")

    partitions = StaticPartitionsDefinition(["a", "b"])
    strategy = SourceHashVersionStrategy()
    policy = RetryPolicy(max_retries=2)

    @job(
        name="greeting_job",
        description="Says hello.",
        resource_defs={"name": name_resource},
        tags={"team": "core"},
        metadata={"owner": "tests"},
        logger_defs={"quiet": quiet_logger},
        executor_def=in_process_executor,
        hooks={record_success},
        op_retry_policy=policy,
        version_strategy=strategy,
        partitions_def=partitions,
        input_values={"punctuation": "!"},
    )
    def greeting(punctuation):
        return greet(punctuation)

    assert isinstance(greeting, JobDefinition)
    assert greeting.name == "greeting_job"
    assert greeting.description == "Says hello."
    assert greeting.tags["team"] == "core"
    assert greeting.metadata == {"owner": "tests"}
    assert set(greeting.logger_defs) == {"quiet"}
    assert greeting.executor_def is in_process_executor
    assert greeting.hook_defs == {record_success}
    assert greeting.op_retry_policy is policy
    assert greeting.version_strategy is strategy
    assert greeting.partitions_def is partitions
    assert dict(greeting.input_values) == {"punctuation": "!"}


def test_job_decorator_config_parameter_as_dict_and_as_config_mapping() -> None:
    @op(config_schema={"n": int})
    def emit(context):
        return context.op_config["n"]

    @job(config={"ops": {"emit": {"config": {"n": 3}}}})
    def with_default_config():
        emit()

    @job(
        config=ConfigMapping(
            config_fn=lambda simple: {"ops": {"emit": {"config": {"n": simple["half"] * 2}}}},
            config_schema={"half": int},
        )
    )
    def with_config_mapping():
        emit()

    assert with_default_config.execute_in_process().output_for_node("emit") == 3
    mapped = with_config_mapping.execute_in_process(run_config={"half": 21})
    assert mapped.output_for_node("emit") == 42


# --- execute_in_process parameters -----------------------------------------------------------


def _selection_job(call_log: list[str]) -> JobDefinition:
    def make(name: str, arity: int):
        if arity == 0:

            @op(name=name)
            def source():
                call_log.append(name)
                return 1

            return source

        @op(name=name)
        def step(x):
            call_log.append(name)
            return x + 1

        return step

    root, before, some_op = make("root", 0), make("before", 1), make("some_op", 1)
    down1, down2, down3, down4 = (make(f"down{i}", 1) for i in range(1, 5))
    other_op_a, other_op_b = make("other_op_a", 0), make("other_op_b", 0)
    child_b, grandchild_b = make("child_b", 1), make("grandchild_b", 1)

    @job
    def selection_job():
        down4(down3(down2(down1(some_op(before(root()))))))
        other_op_a()
        grandchild_b(child_b(other_op_b()))

    return selection_job


@pytest.mark.parametrize(
    ("op_selection", "expected"),
    [
        (["some_op"], {"some_op"}),
        (["*some_op"], {"root", "before", "some_op"}),
        (["*some_op+++"], {"root", "before", "some_op", "down1", "down2", "down3"}),
        (
            ["*some_op", "other_op_a", "other_op_b+"],
            {"root", "before", "some_op", "other_op_a", "other_op_b", "child_b"},
        ),
    ],
    ids=["itself", "ancestors", "ancestors-and-3-levels-down", "union"],
)
def test_execute_in_process_op_selection_examples(
    op_selection: list[str], expected: set[str], call_log: list[str]
) -> None:
    selection_job = _selection_job(call_log)
    # some_op's input is cut off when its upstream is not selected: give it through run config.
    run_config = {"ops": {"some_op": {"inputs": {"x": 10}}}} if "some_op" in op_selection else None

    result = selection_job.execute_in_process(op_selection=op_selection, run_config=run_config)

    assert result.success
    assert set(call_log) == expected
    assert len(call_log) == len(expected)
    ran = {e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS}
    assert ran == expected


def test_execute_in_process_with_every_parameter(tmp_instance: Instance) -> None:
    @op(config_schema={"factor": int})
    def scale(context, x):
        return x * context.op_config["factor"]

    @op
    def part(context):
        return context.partition_key

    @job(partitions_def=StaticPartitionsDefinition(["2024", "2025"]), input_values={"x": 1})
    def parameterized(x):
        part()
        return scale(x)

    result = parameterized.execute_in_process(
        run_config={"ops": {"scale": {"config": {"factor": 3}}}},
        instance=tmp_instance,
        partition_key="2025",
        raise_on_error=True,
        op_selection=["scale", "part"],
        run_id="run-with-every-parameter",
        input_values={"x": 5},  # overrides the job's input_values
    )

    assert result.run_id == "run-with-every-parameter"
    assert result.output_value() == 15
    assert result.output_for_node("part") == "2025"
    assert tmp_instance.get_run("run-with-every-parameter") is not None


def test_graph_execute_in_process_with_every_parameter(tmp_instance: Instance) -> None:
    @op(required_resource_keys={"offset"})
    def shift(context, x):
        return x + context.resources.offset

    @op(config_schema={"label": str})
    def label(context):
        return context.op_config["label"]

    @graph
    def shifter(x):
        label()
        return shift(x)

    result = shifter.execute_in_process(
        run_config={"ops": {"label": {"config": {"label": "L"}}}},
        instance=tmp_instance,
        resources={"offset": 100},
        raise_on_error=True,
        op_selection=["shift"],
        run_id="graph-run",
        input_values={"x": 1},
    )

    assert result.run_id == "graph-run"
    assert result.output_value() == 101
    with pytest.raises(ResultLookupError, match=r"Output label\.result was not produced .*was not"):
        result.output_for_node("label")


def test_execute_in_process_input_values_feed_top_level_inputs() -> None:
    @op
    def double(x):
        return x * 2

    @graph
    def doubler(x):
        return double(x)

    assert doubler.execute_in_process(input_values={"x": 4}).output_value() == 8
    job_def = doubler.to_job(input_values={"x": 1})
    assert job_def.execute_in_process().output_value() == 2
    assert job_def.execute_in_process(input_values={"x": 10}).output_value() == 20


# --- ExecuteInProcessResult ------------------------------------------------------------------


@op
def emit_two():
    return 2


@op
def times_ten(n):
    return n * 10


@graph
def inner(n):
    return times_ten(n)


@graph
def outer(n):
    return inner(n)


@job
def nested_job():
    return outer(emit_two())


def test_result_success_run_id_and_run() -> None:
    result = nested_job.execute_in_process(run_id="fixed-id")

    assert isinstance(result, ExecuteInProcessResult)
    assert result.success is True
    assert result.run_id == "fixed-id"
    assert result.run.run_id == "fixed-id"
    assert result.run.job_name == "nested_job"
    assert result.run.is_success


def test_result_all_events_and_all_node_events() -> None:
    result = nested_job.execute_in_process()

    kinds = [e.event_type for e in result.all_events]
    assert kinds[0] is EventType.RUN_START
    assert kinds[-1] is EventType.RUN_SUCCESS
    assert all(isinstance(e, Event) for e in result.all_events)
    node_events = result.all_node_events
    assert node_events == [e for e in result.all_events if e.step_key is not None]
    assert EventType.RUN_START not in {e.event_type for e in node_events}
    assert {e.step_key for e in node_events} == {"emit_two", "outer.inner.times_ten"}


def test_result_events_for_node_by_name_and_nested_handle() -> None:
    result = nested_job.execute_in_process()

    emit_events = result.events_for_node("emit_two")
    assert [e.event_type for e in emit_events] == [
        EventType.STEP_START,
        EventType.STEP_OUTPUT,
        EventType.HANDLED_OUTPUT,
        EventType.STEP_SUCCESS,
    ]
    inner_events = result.events_for_node("outer.inner.times_ten")
    assert inner_events
    assert {e.step_key for e in inner_events} == {"outer.inner.times_ten"}
    assert result.events_for_node("outer") == inner_events  # a graph's events are its ops'


def test_result_output_for_node_with_nested_handles_and_graph_outputs() -> None:
    result = nested_job.execute_in_process()

    assert result.output_for_node("emit_two") == 2
    assert result.output_for_node("outer.inner.times_ten") == 20
    assert result.output_for_node("outer.inner") == 20  # graph output, one level in
    assert result.output_for_node("outer") == 20  # graph output of the outer graph
    assert result.output_value() == 20  # the job's own output
    assert result.output_value("result") == 20


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda r: r.output_for_node("emit_tw"), r"no node 'emit_tw'\. Did you mean 'emit_two'\?"),
        (
            lambda r: r.output_for_node("outer.inner.times_tne"),
            r"no node 'outer\.inner\.times_tne'\. Did you mean 'times_ten'\?",
        ),
        (
            lambda r: r.output_for_node("emit_two", "reslt"),
            r"has no output 'reslt'\. Did you mean 'result'\?",
        ),
        (lambda r: r.output_value("reslt"), r"no output 'reslt'; its outputs are \['result'\]"),
    ],
    ids=["unknown-node", "unknown-nested-node", "unknown-output", "unknown-job-output"],
)
def test_result_lookups_of_unknown_names_suggest_close_ones(lookup, message: str) -> None:
    result = nested_job.execute_in_process()
    with pytest.raises(ResultLookupError, match=message):
        lookup(result)


def test_output_value_of_a_job_without_outputs_says_how_to_get_values() -> None:
    @job
    def no_outputs():
        emit_two()

    with pytest.raises(
        ResultLookupError, match=r"its function returns nothing\. Fix: use output_for_node"
    ):
        no_outputs.execute_in_process().output_value()


def test_get_job_success_event_and_missing_failure_event() -> None:
    result = nested_job.execute_in_process()

    success = result.get_job_success_event()
    assert success.event_type is EventType.RUN_SUCCESS
    assert success.event_type_value == "PIPELINE_SUCCESS"
    with pytest.raises(ResultLookupError, match=r"has no RUN_FAILURE event \(it succeeded\)"):
        result.get_job_failure_event()


def test_get_job_failure_event_and_missing_success_event() -> None:
    @op
    def broken():
        raise ValueError("broken on purpose")

    @job
    def failing():
        broken()

    result = failing.execute_in_process(raise_on_error=False)

    failure = result.get_job_failure_event()
    assert failure.event_type is EventType.RUN_FAILURE
    assert failure.event_type_value == "PIPELINE_FAILURE"
    with pytest.raises(ResultLookupError, match=r"has no RUN_SUCCESS event \(it failed\)"):
        result.get_job_success_event()


# --- Event and EventType ---------------------------------------------------------------------

SEED_EVENT_TYPES = {
    "ALERT_FAILURE": "ALERT_FAILURE",
    "ALERT_START": "ALERT_START",
    "ALERT_SUCCESS": "ALERT_SUCCESS",
    "ASSET_MATERIALIZATION": "ASSET_MATERIALIZATION",
    "ASSET_MATERIALIZATION_PLANNED": "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_OBSERVATION": "ASSET_OBSERVATION",
    "ASSET_STORE_OPERATION": "ASSET_STORE_OPERATION",
    "ENGINE_EVENT": "ENGINE_EVENT",
    "HANDLED_OUTPUT": "HANDLED_OUTPUT",
    "HOOK_COMPLETED": "HOOK_COMPLETED",
    "HOOK_ERRORED": "HOOK_ERRORED",
    "HOOK_SKIPPED": "HOOK_SKIPPED",
    "LOADED_INPUT": "LOADED_INPUT",
    "LOGS_CAPTURED": "LOGS_CAPTURED",
    "OBJECT_STORE_OPERATION": "OBJECT_STORE_OPERATION",
    "PIPELINE_CANCELED": "PIPELINE_CANCELED",
    "PIPELINE_CANCELING": "PIPELINE_CANCELING",
    "PIPELINE_DEQUEUED": "PIPELINE_DEQUEUED",
    "PIPELINE_ENQUEUED": "PIPELINE_ENQUEUED",
    "PIPELINE_FAILURE": "PIPELINE_FAILURE",
    "PIPELINE_START": "PIPELINE_START",
    "PIPELINE_STARTING": "PIPELINE_STARTING",
    "PIPELINE_SUCCESS": "PIPELINE_SUCCESS",
    "RESOURCE_INIT_FAILURE": "RESOURCE_INIT_FAILURE",
    "RESOURCE_INIT_STARTED": "RESOURCE_INIT_STARTED",
    "RESOURCE_INIT_SUCCESS": "RESOURCE_INIT_SUCCESS",
    "RUN_CANCELED": "PIPELINE_CANCELED",
    "RUN_CANCELING": "PIPELINE_CANCELING",
    "RUN_DEQUEUED": "PIPELINE_DEQUEUED",
    "RUN_ENQUEUED": "PIPELINE_ENQUEUED",
    "RUN_FAILURE": "PIPELINE_FAILURE",
    "RUN_START": "PIPELINE_START",
    "RUN_STARTING": "PIPELINE_STARTING",
    "RUN_SUCCESS": "PIPELINE_SUCCESS",
    "STEP_EXPECTATION_RESULT": "STEP_EXPECTATION_RESULT",
    "STEP_FAILURE": "STEP_FAILURE",
    "STEP_INPUT": "STEP_INPUT",
    "STEP_OUTPUT": "STEP_OUTPUT",
    "STEP_RESTARTED": "STEP_RESTARTED",
    "STEP_SKIPPED": "STEP_SKIPPED",
    "STEP_START": "STEP_START",
    "STEP_SUCCESS": "STEP_SUCCESS",
    "STEP_UP_FOR_RETRY": "STEP_UP_FOR_RETRY",
    "STEP_WORKER_STARTED": "STEP_WORKER_STARTED",
    "STEP_WORKER_STARTING": "STEP_WORKER_STARTING",
}


@pytest.mark.parametrize(("name", "value"), sorted(SEED_EVENT_TYPES.items()), ids=str)
def test_event_type_has_every_member_of_the_seed_with_its_value(name: str, value: str) -> None:
    assert EventType[name].value == value
    assert EventType(value) is EventType[name]


@pytest.mark.parametrize(
    "suffix",
    ["CANCELED", "CANCELING", "DEQUEUED", "ENQUEUED", "FAILURE", "START", "STARTING", "SUCCESS"],
)
def test_pipeline_members_are_aliases_of_run_members(suffix: str) -> None:
    assert EventType[f"PIPELINE_{suffix}"] is EventType[f"RUN_{suffix}"]


def test_pipeline_success_is_run_success() -> None:
    assert EventType.PIPELINE_SUCCESS is EventType.RUN_SUCCESS
    assert EventType.RUN_SUCCESS.value == "PIPELINE_SUCCESS"
    assert len({m.value for m in EventType}) == len(EventType)


def test_event_has_the_attributes_of_the_seed() -> None:
    before = time.time()
    result = nested_job.execute_in_process(run_id="attrs-run")

    event = next(
        e
        for e in result.all_events
        if e.event_type is EventType.STEP_OUTPUT and e.step_key == "outer.inner.times_ten"
    )
    assert event.event_type_value == "STEP_OUTPUT"
    assert event.pipeline_name == "nested_job"
    assert event.job_name == "nested_job"
    assert event.solid_handle == "outer.inner.times_ten"
    assert event.node_name == "times_ten"
    assert event.step_kind_value == "COMPUTE"
    assert event.logging_tags == {
        "job_name": "nested_job",
        "run_id": "attrs-run",
        "step_key": "outer.inner.times_ten",
    }
    assert event.event_specific_data is event.data
    assert event.data.output_name == "result"
    assert event.message == "Yielded output 'result'"
    assert event.pid == os.getpid()
    assert before <= event.timestamp <= time.time()
    assert event.is_step_event and event.is_successful_output
    run_start = result.all_events[0]
    assert run_start.step_key is None and run_start.step_kind_value is None
    assert not run_start.is_step_event


# --- validate_run_config ---------------------------------------------------------------------


def test_validate_run_config_returns_resolved_config_with_defaults() -> None:
    @op(config_schema={"dog_breed": str, "count": Field(int, default_value=1)})
    def emit_dog(context):
        return context.op_config

    @resource(config_schema={"url": Field(str, default_value="sqlite://")})
    def database(init_context):
        return init_context.resource_config["url"]

    @job(resource_defs={"database": database})
    def dogs():
        emit_dog()

    resolved = validate_run_config(dogs, {"ops": {"emit_dog": {"config": {"dog_breed": "pug"}}}})

    assert resolved["ops"] == {"emit_dog": {"config": {"dog_breed": "pug", "count": 1}}}
    assert resolved["resources"]["database"] == {"config": {"url": "sqlite://"}}
    with pytest.raises(RunConfigValidationError, match=r"root:ops:emit_dog:config:dog_breed"):
        validate_run_config(dogs, {"ops": {"emit_dog": {"config": {"dog_breed": 1}}}})


def test_validate_run_config_applies_the_job_config_mapping() -> None:
    @op(config_schema={"n": int})
    def emit(context):
        return context.op_config["n"]

    @job(
        config=ConfigMapping(
            config_fn=lambda c: {"ops": {"emit": {"config": {"n": c["m"] + 1}}}},
            config_schema={"m": int},
        )
    )
    def mapped():
        emit()

    assert validate_run_config(mapped, {"m": 1})["ops"] == {"emit": {"config": {"n": 2}}}
    with pytest.raises(RunConfigValidationError, match=r"root:m: expected Int, got 'x' \(str\)"):
        validate_run_config(mapped, {"m": "x"})
