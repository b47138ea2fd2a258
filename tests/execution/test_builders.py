"""Builders for tests: IO manager, resource and hook contexts outside a run; a temp instance."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    AssetKey,
    InputContext,
    IOManager,
    OutputContext,
    build_hook_context,
    build_init_resource_context,
    build_input_context,
    build_output_context,
    failure_hook,
    instance_for_test,
    job,
    op,
    resource,
)


class _DictIOManager(IOManager):
    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[tuple(context.get_identifier())] = obj

    def load_input(self, context: InputContext) -> Any:
        assert context.upstream_output is not None
        return self.values[tuple(context.upstream_output.get_identifier())]


def test_an_io_manager_round_trips_through_built_contexts() -> None:
    manager = _DictIOManager()
    out = build_output_context(step_key="emit", name="result", version="v1")
    manager.handle_output(out, 42)
    assert manager.values == {("emit", "result", "v1"): 42}
    assert manager.load_input(build_input_context(upstream_output=out)) == 42


def test_output_context_defaults_and_metadata() -> None:
    out = build_output_context(
        name="out", definition_metadata={"a": 1}, asset_key="tree", partition_key="p1"
    )
    assert out.run_id == "EPHEMERAL"
    assert out.metadata == {"a": 1}
    assert out.asset_key == AssetKey("tree")
    assert out.get_identifier() == ["tree", "p1"]
    mapped = build_output_context(mapping_key="k")
    assert mapped.step_key == "step[k]"


def test_input_context_takes_its_asset_key_from_upstream() -> None:
    upstream = build_output_context(asset_key=["a", "b"])
    context = build_input_context(name="x", upstream_output=upstream, metadata={"m": 2})
    assert context.name == "x"
    assert context.asset_key == AssetKey(["a", "b"])
    assert context.metadata == {"m": 2}


def test_builders_build_resource_definitions_and_tear_them_down(call_log: list[str]) -> None:
    @resource
    def conn() -> Any:
        call_log.append("up")
        yield "connection"
        call_log.append("down")

    with build_input_context(resources={"conn": conn, "plain": 3}) as context:
        assert context.resources.conn == "connection"
        assert context.resources.plain == 3
        assert call_log == ["up"]
    assert call_log == ["up", "down"]


def test_a_resource_function_called_with_a_built_init_context() -> None:
    @resource(config_schema={"url": str}, required_resource_keys={"token"})
    def client(init_context: Any) -> str:
        return f"{init_context.resource_config['url']}?{init_context.resources.token}"

    context = build_init_resource_context(config={"url": "db://x"}, resources={"token": "t"})
    assert client.resource_fn(context) == "db://x?t"


def test_a_failure_hook_called_with_a_built_hook_context(call_log: list[str]) -> None:
    @failure_hook(required_resource_keys={"pager"})
    def page(context: Any) -> None:
        call_log.append(f"{context.resources.pager}:{context.op_exception}:{context.job_name}")

    @op
    def flaky() -> None:
        pass

    context = build_hook_context(
        resources={"pager": "p"}, op=flaky, op_exception=ValueError("boom"), job_name="j"
    )
    page.hook_fn(context)
    assert call_log == ["p:boom:j"]
    assert context.op is flaky
    assert context.run_id == "EPHEMERAL"
    assert context.instance is not None


def test_instance_for_test_is_a_temporary_persistent_instance() -> None:
    home_before = os.environ.get("NBFLOW_HOME")

    @op
    def one() -> int:
        return 1

    @job
    def tiny() -> None:
        one()

    with instance_for_test() as instance:
        assert instance.is_persistent
        folder = Path(instance.root)
        result = tiny.execute_in_process(instance=instance)
        assert result.success
        run = instance.get_run(result.run_id)
        assert run is not None
        assert (folder / "runs.db").exists()
    assert not folder.exists()
    assert os.environ.get("NBFLOW_HOME") == home_before


def test_instance_for_test_cleans_up_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="inside"), instance_for_test() as instance:
        folder = Path(instance.root)
        raise RuntimeError("inside")
    assert not folder.exists()
