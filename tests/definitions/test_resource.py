"""Resources: config, dependencies between resources, teardown, and failures while building."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest

from nbflow import (
    EventType,
    InitResourceContext,
    Instance,
    ResourceDefinition,
    graph,
    job,
    op,
    resource,
)
from nbflow.errors import InvalidDefinitionError, ResourceInitError

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_resource_config_reaches_the_resource_function() -> None:
    @resource(config_schema={"url": str, "pool": int})
    def database(init_context):
        assert isinstance(init_context, InitResourceContext)
        return f"{init_context.resource_config['url']}?pool={init_context.resource_config['pool']}"

    @op(required_resource_keys={"database"})
    def query(context):
        return context.resources.database

    @job(resource_defs={"database": database})
    def queries():
        query()

    result = queries.execute_in_process(
        run_config={"resources": {"database": {"config": {"url": "pg://db", "pool": 4}}}}
    )
    assert result.output_for_node("query") == "pg://db?pool=4"


def test_resources_depending_on_other_resources_are_built_after_them(call_log: list[str]) -> None:
    @resource(config_schema={"token": str})
    def credentials(init_context):
        call_log.append("credentials")
        return init_context.resource_config["token"]

    @resource(required_resource_keys={"credentials"})
    def client(init_context):
        call_log.append("client")
        return f"client({init_context.resources.credentials})"

    @resource(required_resource_keys={"client", "credentials"})
    def service(init_context):
        call_log.append("service")
        return f"service({init_context.resources.client}, {init_context.resources['credentials']})"

    @op(required_resource_keys={"service"})
    def call(context):
        return context.resources.service

    @job(resource_defs={"service": service, "client": client, "credentials": credentials})
    def calls():
        call()

    result = calls.execute_in_process(
        run_config={"resources": {"credentials": {"config": {"token": "t0k"}}}}
    )
    assert result.output_for_node("call") == "service(client(t0k), t0k)"
    assert call_log == ["credentials", "client", "service"]
    started, succeeded = (
        e
        for e in result.all_events
        if e.event_type in (EventType.RESOURCE_INIT_STARTED, EventType.RESOURCE_INIT_SUCCESS)
    )
    built = ("client", "credentials", "io_manager", "service")
    assert started.data.resource_keys == ("io_manager", "credentials", "client", "service")
    assert started.message == (
        "Starting initialization of resources [io_manager, credentials, client, service]."
    )
    assert succeeded.step_key is None and sorted(succeeded.data.init_ms) == list(built)
    assert all(ms >= 0 for ms in succeeded.data.init_ms.values())


def _teardown_job(call_log: list[str], fail: bool):
    @resource
    def first(_):
        call_log.append("first up")
        yield "first"
        call_log.append("first down")

    @resource(required_resource_keys={"first"})
    def second(init_context):
        call_log.append("second up")
        yield f"second on {init_context.resources.first}"
        call_log.append("second down")

    @op(required_resource_keys={"second"})
    def work(context):
        call_log.append(f"op with {context.resources.second}")
        if fail:
            raise RuntimeError("op failed")

    @job(resource_defs={"first": first, "second": second})
    def torn_down():
        work()

    return torn_down


def test_generator_resources_are_torn_down_after_the_run_in_reverse_order(
    call_log: list[str],
) -> None:
    result = _teardown_job(call_log, fail=False).execute_in_process()

    assert result.success
    assert call_log == [
        "first up",
        "second up",
        "op with second on first",
        "second down",
        "first down",
    ]


@pytest.mark.parametrize("raise_on_error", [True, False], ids=["raising", "not-raising"])
def test_resources_are_torn_down_when_an_op_fails(
    raise_on_error: bool, call_log: list[str]
) -> None:
    torn_down = _teardown_job(call_log, fail=True)
    if raise_on_error:
        with pytest.raises(RuntimeError, match="op failed"):
            torn_down.execute_in_process()
    else:
        assert not torn_down.execute_in_process(raise_on_error=False).success
    assert call_log[-2:] == ["second down", "first down"]


def test_resource_returning_a_context_manager_is_entered_and_exited(call_log: list[str]) -> None:
    @contextlib.contextmanager
    def session() -> Iterator[str]:
        call_log.append("enter")
        yield "session"
        call_log.append("exit")

    @resource
    def session_resource(_):
        return session()

    @op(required_resource_keys={"session"})
    def use(context):
        call_log.append(f"use {context.resources.session}")

    @job(resource_defs={"session": session_resource})
    def sessions():
        use()

    sessions.execute_in_process()
    assert call_log == ["enter", "use session", "exit"]


def test_only_resources_that_selected_ops_need_are_built(call_log: list[str]) -> None:
    @resource
    def expensive(_):
        call_log.append("expensive built")
        return "costly"

    @op(required_resource_keys={"expensive"})
    def needs_it(context):
        return context.resources.expensive

    @op
    def cheap():
        call_log.append("cheap")

    @job(resource_defs={"expensive": expensive})
    def mixed():
        needs_it()
        cheap()

    mixed.execute_in_process(op_selection=["cheap"])
    assert call_log == ["cheap"]


def test_resource_init_failure_raises_a_wrapped_error_and_runs_nothing(
    call_log: list[str],
) -> None:
    cause = ConnectionError("no database")

    @resource
    def database(_):
        raise cause

    @op(required_resource_keys={"database"})
    def query(context):
        call_log.append("query")

    @job(resource_defs={"database": database})
    def broken():
        query()

    with pytest.raises(
        ResourceInitError,
        match=r"Resource 'database' failed to initialise: ConnectionError: no database",
    ) as info:
        broken.execute_in_process()
    assert info.value.__cause__ is cause

    result = broken.execute_in_process(raise_on_error=False)
    assert not result.success
    kinds = [e.event_type for e in result.all_events]
    assert kinds == [
        EventType.RUN_START,
        EventType.RESOURCE_INIT_STARTED,
        EventType.RESOURCE_INIT_FAILURE,
        EventType.RUN_FAILURE,
    ]
    failure = result.all_events[2]
    assert "Resource 'database' failed to initialise" in failure.message
    assert "ConnectionError: no database" in failure.data.error.traceback
    assert call_log == []


def test_resources_that_need_each_other_in_a_cycle_are_rejected() -> None:
    @resource(required_resource_keys={"b"})
    def a(_):
        return "a"

    @resource(required_resource_keys={"a"})
    def b(_):
        return "b"

    @op(required_resource_keys={"a"})
    def use(context):
        return context.resources.a

    @job(resource_defs={"a": a, "b": b})
    def cyclic():
        use()

    with pytest.raises(
        InvalidDefinitionError, match=r"resources depend on each other in a cycle: a → b → a"
    ):
        cyclic.execute_in_process()


def test_init_context_carries_instance_and_run_id(tmp_instance: Instance) -> None:
    seen: dict[str, object] = {}

    @resource
    def probe(init_context):
        seen.update(instance=init_context.instance, run_id=init_context.run_id)
        return None

    @op(required_resource_keys={"probe"})
    def use(context):
        return None

    @job(resource_defs={"probe": probe})
    def probed():
        use()

    probed.execute_in_process(instance=tmp_instance, run_id="probe-run")
    assert seen == {"instance": tmp_instance, "run_id": "probe-run"}


def test_hardcoded_and_none_resources() -> None:
    @op(required_resource_keys={"value", "nothing"})
    def read(context):
        return (context.resources.value, context.resources.nothing)

    @job(
        resource_defs={
            "value": ResourceDefinition.hardcoded_resource({"k": 1}),
            "nothing": ResourceDefinition.none_resource(),
        }
    )
    def constant():
        read()

    assert constant.execute_in_process().output_for_node("read") == ({"k": 1}, None)


def test_graph_execute_in_process_accepts_plain_objects_as_resources() -> None:
    @op(required_resource_keys={"factor"})
    def scale(context):
        return 2 * context.resources.factor

    @graph
    def scaling():
        scale()

    assert scaling.execute_in_process(resources={"factor": 21}).output_for_node("scale") == 42


def test_context_resources_are_read_only_and_suggest_close_keys() -> None:
    @op(required_resource_keys={"database"})
    def misuse(context):
        with pytest.raises(AttributeError, match=r"Resources are read-only\."):
            context.resources.database = "other"
        with pytest.raises(
            AttributeError, match=r"No resource 'databse' here\. Did you mean 'database'\?"
        ):
            context.resources.databse
        return sorted(context.resources)

    @job(resource_defs={"database": ResourceDefinition.hardcoded_resource("db")})
    def misusing():
        misuse()

    assert misusing.execute_in_process().output_for_node("misuse") == ["database", "io_manager"]


def test_failing_teardown_fails_the_run_after_the_ops_ran(call_log: list[str]) -> None:
    @resource
    def leaky(_):
        yield "value"
        raise OSError("close failed")

    @op(required_resource_keys={"leaky"})
    def use(context):
        call_log.append("use")

    @job(resource_defs={"leaky": leaky})
    def leaking():
        use()

    result = leaking.execute_in_process(raise_on_error=False)
    assert not result.success
    assert call_log == ["use"]
    engine = [e for e in result.all_events if e.event_type is EventType.ENGINE_EVENT]
    assert [e.message for e in engine] == ["Resource teardown failed: OSError: close failed"]
    with pytest.raises(OSError, match="close failed"):
        leaking.execute_in_process()
