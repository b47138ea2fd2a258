"""Hooks: success and failure hooks on jobs and on single op invocations, and their events."""

from __future__ import annotations

import pytest

from nbflow import (
    EventType,
    HookDefinition,
    ResourceDefinition,
    failure_hook,
    graph,
    job,
    op,
    success_hook,
)


@op
def good():
    return 1


@op
def bad():
    raise ValueError("bad op")


def _hook_events(result) -> list[tuple[str, str, str]]:
    kinds = {EventType.HOOK_COMPLETED, EventType.HOOK_SKIPPED, EventType.HOOK_ERRORED}
    return [
        (e.event_type.name, e.step_key, e.data.hook_name)
        for e in result.all_events
        if e.event_type in kinds
    ]


def test_hook_decorators_build_hook_definitions() -> None:
    @success_hook
    def bare(context):
        return None

    @failure_hook(name="renamed", required_resource_keys={"slack"})
    def original(context):
        return None

    assert isinstance(bare, HookDefinition)
    assert bare.name == "bare"
    assert bare.fires_on(True) and not bare.fires_on(False)
    assert original.name == "renamed"
    assert original.required_resource_keys == {"slack"}
    assert original.fires_on(False) and not original.fires_on(True)


def test_job_with_hooks_fires_success_and_failure_hooks(call_log: list[str]) -> None:
    @success_hook
    def on_success(context):
        call_log.append(f"success {context.step_key}")

    @failure_hook
    def on_failure(context):
        call_log.append(f"failure {context.step_key}: {context.op_exception}")

    @job
    def mixed():
        good()
        bad()

    result = mixed.with_hooks({on_success, on_failure}).execute_in_process(raise_on_error=False)

    assert call_log == ["success good", "failure bad: bad op"]
    assert _hook_events(result) == [
        ("HOOK_SKIPPED", "good", "on_failure"),
        ("HOOK_COMPLETED", "good", "on_success"),
        ("HOOK_COMPLETED", "bad", "on_failure"),
        ("HOOK_SKIPPED", "bad", "on_success"),
    ]


def test_op_with_hooks_inside_a_graph_applies_to_that_invocation_only(
    call_log: list[str],
) -> None:
    @success_hook
    def on_success(context):
        call_log.append(context.step_key)

    @graph
    def partly_hooked():
        good.with_hooks({on_success})()
        good.alias("unhooked")()

    result = partly_hooked.execute_in_process()

    assert call_log == ["good"]
    assert _hook_events(result) == [("HOOK_COMPLETED", "good", "on_success")]


def test_hook_that_raises_emits_hook_errored_and_the_run_still_succeeds() -> None:
    @success_hook
    def explode(context):
        raise RuntimeError("hook broke")

    @job(hooks={explode})
    def hooked():
        good()

    result = hooked.execute_in_process()

    assert result.success
    [errored] = [e for e in result.all_events if e.event_type is EventType.HOOK_ERRORED]
    assert errored.step_key == "good"
    assert errored.message == "Hook 'explode' raised"
    assert errored.data.error.cls_name == "RuntimeError"
    assert errored.data.error.message == "hook broke"


def test_hook_context_carries_outputs_config_and_resources() -> None:
    seen: dict[str, object] = {}

    @success_hook(required_resource_keys={"channel"})
    def report(context):
        seen.update(
            outputs=context.op_output_values,
            config=context.op_config,
            channel=context.resources.channel,
            op=context.op_def.name,
            job=context.job_name,
            run_id=context.run_id,
            hook=context.hook_name,
            exception=context.op_exception,
        )

    @op(config_schema={"n": int})
    def configured(context):
        return context.op_config["n"] * 2

    @job(resource_defs={"channel": ResourceDefinition.hardcoded_resource("#alerts")})
    def reporting():
        configured.with_hooks({report})()

    reporting.execute_in_process(
        run_config={"ops": {"configured": {"config": {"n": 4}}}}, run_id="hook-run"
    )
    assert seen == {
        "outputs": {"result": 8},
        "config": {"n": 4},
        "channel": "#alerts",
        "op": "configured",
        "job": "reporting",
        "run_id": "hook-run",
        "hook": "report",
        "exception": None,
    }


@pytest.mark.parametrize("raise_on_error", [True, False], ids=["raising", "not-raising"])
def test_failure_hook_runs_before_the_error_is_raised(
    raise_on_error: bool, call_log: list[str]
) -> None:
    @failure_hook
    def on_failure(context):
        call_log.append(type(context.op_exception).__name__)

    @job(hooks={on_failure})
    def failing():
        bad()

    if raise_on_error:
        with pytest.raises(ValueError, match="bad op"):
            failing.execute_in_process()
    else:
        failing.execute_in_process(raise_on_error=False)
    assert call_log == ["ValueError"]
