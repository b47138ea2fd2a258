"""Jobs: every parameter of seed 004, and what each one does to a run."""

from __future__ import annotations

import logging

import pytest

from nbflow import (
    ConfigMapping,
    ExecutorDefinition,
    JobDefinition,
    RetryPolicy,
    SourceHashVersionStrategy,
    StaticPartitionsDefinition,
    graph,
    job,
    logger,
    multi_or_in_process_executor,
    op,
    resource,
    success_hook,
)
from nbflow.errors import InvalidDefinitionError, PartitionKeyError, RunConfigValidationError


@op
def one():
    return 1


@op(config_schema={"n": int})
def emit(context):
    return context.op_config["n"]


def test_name_defaults_to_the_function_and_can_be_given() -> None:
    @job
    def default_name():
        one()

    @job(name="given_name")
    def other():
        one()

    assert default_name.name == "default_name"
    assert other.name == "given_name"
    assert other.execute_in_process().run.job_name == "given_name"


def test_description_defaults_to_the_docstring() -> None:
    @job
    def documented():
        """Runs one op."""
        one()

    @job(description="Explicit.")
    def explicit():
        """Ignored."""
        one()

    assert documented.description == "Runs one op."
    assert explicit.description == "Explicit."


def test_resource_defs_are_built_for_ops(call_log: list[str]) -> None:
    @resource(config_schema={"greeting": str})
    def greeter(init_context):
        call_log.append("greeter built")
        return init_context.resource_config["greeting"]

    @op(required_resource_keys={"greeter"})
    def greet(context):
        return f"{context.resources.greeter}, world"

    @job(resource_defs={"greeter": greeter})
    def greeting():
        greet()

    result = greeting.execute_in_process(
        run_config={"resources": {"greeter": {"config": {"greeting": "hello"}}}}
    )
    assert result.output_for_node("greet") == "hello, world"
    assert call_log == ["greeter built"]


def test_config_dict_is_the_default_run_config_and_run_config_overrides_it() -> None:
    @job(config={"ops": {"emit": {"config": {"n": 5}}}})
    def defaulted():
        emit()

    assert defaulted.execute_in_process().output_for_node("emit") == 5
    overridden = defaulted.execute_in_process(run_config={"ops": {"emit": {"config": {"n": 6}}}})
    assert overridden.output_for_node("emit") == 6


def test_config_mapping_defines_the_run_config_schema() -> None:
    mapping = ConfigMapping(
        config_fn=lambda c: {"ops": {"emit": {"config": {"n": len(c["word"])}}}},
        config_schema={"word": str},
    )

    @job(config=mapping)
    def mapped():
        emit()

    assert mapped.config is mapping
    assert mapped.execute_in_process(run_config={"word": "four"}).output_for_node("emit") == 4
    with pytest.raises(
        RunConfigValidationError,
        match=r"Run config for job 'mapped' \(its config mapping\) is invalid \(1 problem\):\n"
        r"  - root:word: expected String, got 4 \(int\)",
    ):
        mapped.execute_in_process(run_config={"word": 4})


def test_tags_reach_the_run_and_run_tags_win() -> None:
    @op
    def read_tags(context):
        return {k: context.get_tag(k) for k in ("team", "owner", "attempt")}

    @job(tags={"team": "core", "owner": "job", "attempt": 1})
    def tagged():
        read_tags()

    result = tagged.execute_in_process(tags={"owner": "run"})
    # Non-string tag values are JSON-encoded, as the seed says.
    assert result.output_for_node("read_tags") == {"team": "core", "owner": "run", "attempt": "1"}
    assert result.run.tags == {"team": "core", "owner": "run", "attempt": "1"}


def test_metadata_is_kept_on_the_job() -> None:
    @job(metadata={"owner": "data-team", "sla_minutes": 30})
    def described():
        one()

    assert described.metadata == {"owner": "data-team", "sla_minutes": 30}


def test_logger_defs_receive_context_log_messages(call_log: list[str]) -> None:
    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            call_log.append(record.getMessage())

    @logger(config_schema={"level": str})
    def collecting(init_context):
        target = logging.getLogger("nbflow.tests.collecting")
        target.handlers[:] = [Collect()]
        target.propagate = False
        target.setLevel(init_context.logger_config["level"])
        return target

    @op
    def chatty(context):
        context.log.info("hello from the op")
        context.log.debug("hidden at INFO")

    @job(logger_defs={"collect": collecting})
    def logged():
        chatty()

    result = logged.execute_in_process(
        run_config={"loggers": {"collect": {"config": {"level": "INFO"}}}}, run_id="abcdef123456"
    )
    assert result.success
    assert call_log == ["logged - abcdef12 - chatty - hello from the op"]


def test_executor_def_is_kept_and_execute_in_process_runs_in_process() -> None:
    custom = ExecutorDefinition(
        name="custom",
        config_schema=None,
        implementation="nbflow.execution.engine.in_process:InProcessExecutor",
    )

    @job(executor_def=custom)
    def with_executor():
        one()

    @job
    def default_executor():
        one()

    assert with_executor.executor_def is custom
    assert default_executor.executor_def is multi_or_in_process_executor  # seed 003
    assert with_executor.execute_in_process().success


def test_hooks_apply_to_every_op(call_log: list[str]) -> None:
    @success_hook
    def record(context):
        call_log.append(context.step_key)

    @op
    def two(x):
        return x + 1

    @job(hooks={record})
    def hooked():
        two(one())

    hooked.execute_in_process()
    assert call_log == ["one", "two"]


def test_op_retry_policy_applies_to_ops_without_their_own(call_log: list[str]) -> None:
    @op
    def flaky(context):
        call_log.append(f"attempt {context.retry_number}")
        if context.retry_number < 2:
            raise ValueError("not yet")
        return "done"

    @job(op_retry_policy=RetryPolicy(max_retries=2))
    def retried():
        flaky()

    assert retried.execute_in_process().output_for_node("flaky") == "done"
    assert call_log == ["attempt 0", "attempt 1", "attempt 2"]


def test_version_strategy_is_kept() -> None:
    strategy = SourceHashVersionStrategy()

    @job(version_strategy=strategy)
    def versioned():
        one()

    assert versioned.version_strategy is strategy
    assert graph(lambda: one(), name="g").to_job(version_strategy=strategy).version_strategy is (
        strategy
    )


def test_partitions_def_gives_ops_a_partition_key() -> None:
    @op
    def which(context):
        return (context.has_partition_key, context.partition_key)

    @job(partitions_def=StaticPartitionsDefinition(["2024-01", "2024-02"]))
    def monthly():
        which()

    result = monthly.execute_in_process(partition_key="2024-02")
    assert result.output_for_node("which") == (True, "2024-02")
    assert result.run.tags["nbflow/partition"] == "2024-02"


@pytest.mark.parametrize(
    ("partition_key", "message"),
    [
        (
            None,
            r"This run is partitioned, but no partition key was given\. Valid keys: "
            r"'2024-01', '2024-02'\. Fix: pass partition_key=\.\.\.",
        ),
        (
            "2024-03",
            r"Unknown partition key '2024-03'\. Did you mean '2024-02', '2024-01'\? "
            r"Valid keys: '2024-01', '2024-02'\.",
        ),
    ],
    ids=["missing", "unknown"],
)
def test_partitioned_job_rejects_missing_or_unknown_keys(
    partition_key: str | None, message: str, call_log: list[str]
) -> None:
    @op
    def record():
        call_log.append("ran")

    @job(partitions_def=StaticPartitionsDefinition(["2024-01", "2024-02"]))
    def monthly():
        record()

    with pytest.raises(PartitionKeyError, match=message):
        monthly.execute_in_process(partition_key=partition_key)
    assert call_log == []


def test_partition_key_on_an_unpartitioned_job_is_rejected() -> None:
    @job
    def plain():
        one()

    with pytest.raises(
        PartitionKeyError,
        match=r"Job 'plain' is not partitioned, but partition_key='a' was given\.",
    ):
        plain.execute_in_process(partition_key="a")


def test_input_values_feed_the_job_inputs_and_run_values_override_them() -> None:
    @op
    def square(x):
        return x * x

    @job(input_values={"x": 3})
    def squaring(x):
        return square(x)

    assert squaring.execute_in_process().output_value() == 9
    assert squaring.execute_in_process(input_values={"x": 4}).output_value() == 16


def test_with_hooks_returns_a_copy_with_every_other_parameter_kept(call_log: list[str]) -> None:
    @success_hook
    def record(context):
        call_log.append(context.step_key)

    @job(tags={"t": "1"}, metadata={"m": 1}, config={"ops": {"emit": {"config": {"n": 2}}}})
    def plain():
        emit()

    hooked = plain.with_hooks({record})

    assert isinstance(hooked, JobDefinition)
    assert hooked is not plain
    assert plain.hook_defs == frozenset()
    assert hooked.hook_defs == {record}
    assert (hooked.name, dict(hooked.tags), dict(hooked.metadata)) == (
        "plain",
        {"t": "1"},
        {"m": 1},
    )
    assert hooked.execute_in_process().output_for_node("emit") == 2
    assert call_log == ["emit"]
    plain.execute_in_process()
    assert call_log == ["emit"]


def test_unknown_run_input_values_are_rejected_with_suggestions(call_log: list[str]) -> None:
    @op
    def square(value):
        call_log.append("square")
        return value * value

    @job
    def squaring(value):
        square(value)

    with pytest.raises(
        InvalidDefinitionError,
        match=r"input_values for job 'squaring' is invalid \(1 problem\):\n"
        r"  - 'valeu' is not an input of the job\. Did you mean 'value'\? "
        r"Its inputs: \['value'\]\.",
    ):
        squaring.execute_in_process(input_values={"valeu": 2})
    assert call_log == []
