""".configured(...) on resources, IO managers, ops and graphs; resource helpers for tests."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    InitResourceContext,
    Instance,
    IOManager,
    IOManagerDefinition,
    ResourceDefinition,
    graph,
    job,
    list_versions,
    op,
    resource,
    versioned_filesystem_io_manager,
)
from nbflow.definitions.io_manager import InputContext, OutputContext
from nbflow.errors import DefinitionError, RunConfigValidationError
from nbflow.execution.engine.resources import Resources


@resource(config_schema={"url": str, "pool": int}, version="1")
def database(init_context):
    config = init_context.resource_config
    return f"{config['url']}?pool={config['pool']}"


@op(required_resource_keys={"database"}, version="1")
def query(context):
    return context.resources.database


@op(config_schema={"n": int}, version="1")
def count(context):
    return context.op_config["n"]


def _query_job(database_def: ResourceDefinition):
    @job(resource_defs={"database": database_def}, tags={MEMOIZED_RUN_TAG: "true"})
    def queries():
        query()

    return queries


def test_configured_resource_with_a_fixed_config_needs_no_run_config() -> None:
    result = _query_job(database.configured({"url": "db://x", "pool": 2})).execute_in_process()
    assert result.output_for_node("query") == "db://x?pool=2"


def test_configured_resource_with_a_function_maps_the_new_config() -> None:
    small = database.configured(
        lambda outer: {"url": f"db://{outer['host']}", "pool": 4}, config_schema={"host": str}
    )
    result = _query_job(small).execute_in_process(
        run_config={"resources": {"database": {"config": {"host": "h"}}}}
    )
    assert result.output_for_node("query") == "db://h?pool=4"
    with pytest.raises(RunConfigValidationError, match="host"):
        _query_job(small).execute_in_process()


def test_configured_config_that_does_not_fit_the_schema_is_an_error_at_once() -> None:
    with pytest.raises(RunConfigValidationError, match="pool"):
        database.configured({"url": "db://x"})
    with pytest.raises(DefinitionError, match="config_schema"):
        database.configured({"url": "db://x", "pool": 1}, config_schema={"a": int})


def test_fixed_config_takes_no_run_config() -> None:
    fixed = database.configured({"url": "db://x", "pool": 2})
    with pytest.raises(RunConfigValidationError, match=r"configured"):
        _query_job(fixed).execute_in_process(
            run_config={"resources": {"database": {"config": {"url": "db://y", "pool": 1}}}}
        )


def test_configured_resource_version_follows_its_config_like_run_config() -> None:
    as_run_config = list_versions(
        _query_job(database),
        run_config={"resources": {"database": {"config": {"url": "db://x", "pool": 2}}}},
    )
    fixed = list_versions(_query_job(database.configured({"url": "db://x", "pool": 2})))
    other = list_versions(_query_job(database.configured({"url": "db://x", "pool": 3})))
    assert [r.version for r in fixed] == [r.version for r in as_run_config]
    assert [r.version for r in fixed] != [r.version for r in other]


def test_configured_op_runs_with_its_config_under_a_new_name() -> None:
    five = count.configured({"n": 5}, name="five")
    doubled = count.configured(lambda c: {"n": 2 * c["m"]}, "doubled", config_schema={"m": int})

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def counts():
        five()
        doubled()
        count()

    run_config = {"ops": {"doubled": {"config": {"m": 4}}, "count": {"config": {"n": 5}}}}
    result = counts.execute_in_process(run_config=run_config)
    assert result.output_for_node("five") == 5
    assert result.output_for_node("doubled") == 8
    assert five.name == "five"
    versions = {r.step_output: r.version for r in list_versions(counts, run_config=run_config)}
    # config given through .configured counts in the version exactly as run config would
    assert versions["five.result"] == versions["count.result"]
    assert versions["doubled.result"] != versions["five.result"]


def test_configured_graph_fixes_its_nodes_config() -> None:
    @graph
    def counting():
        return count()

    @graph
    def mapped():
        return count()

    fixed = counting.configured({"count": {"config": {"n": 7}}}, name="seven")
    scaled = mapped.configured(
        lambda c: {"count": {"config": {"n": c["x"] * 10}}}, "tens", config_schema={"x": int}
    )

    @job
    def outer():
        fixed()
        scaled()

    result = outer.execute_in_process(run_config={"ops": {"tens": {"config": {"x": 3}}}})
    assert result.output_for_node("seven") == 7
    assert result.output_for_node("tens") == 30


def test_seed_002_versioned_filesystem_io_manager_configured(tmp_path: Path) -> None:
    manager = versioned_filesystem_io_manager.configured({"base_dir": str(tmp_path / "store")})
    assert isinstance(manager, IOManagerDefinition)
    calls: list[int] = []

    @op(version="1")
    def emit():
        calls.append(1)
        return 41

    @op(version="1")
    def add_one(x):
        return x + 1

    @job(resource_defs={"io_manager": manager}, tags={MEMOIZED_RUN_TAG: "true"})
    def memoized():
        add_one(emit())

    instance = Instance.local(tmp_path / "home")
    assert memoized.execute_in_process(instance=instance).output_for_node("add_one") == 42
    assert any((tmp_path / "store").rglob("*"))
    second = memoized.execute_in_process(instance=instance)
    assert second.output_for_node("add_one") == 42
    assert calls == [1]


class _Dict(IOManager):
    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def handle_output(self, context: OutputContext, obj: object) -> None:
        self.values[f"{context.step_key}.{context.name}"] = obj

    def load_input(self, context: InputContext) -> object:
        assert context.upstream_output is not None
        up = context.upstream_output
        return self.values[f"{up.step_key}.{up.name}"]


def test_hardcoded_io_manager_is_the_given_manager() -> None:
    store = _Dict()

    @op
    def emit():
        return 3

    @job(resource_defs={"io_manager": IOManagerDefinition.hardcoded_io_manager(store)})
    def stored():
        emit()

    assert stored.execute_in_process().success
    assert store.values == {"emit.result": 3}
    with pytest.raises(DefinitionError, match="IO manager"):
        IOManagerDefinition.hardcoded_io_manager(object())  # type: ignore[arg-type]


def test_mock_and_none_resources() -> None:
    @op(required_resource_keys={"client", "nothing"})
    def call(context):
        context.resources.client.send("hi")
        return context.resources.nothing

    mocked = ResourceDefinition.mock_resource()

    @job(resource_defs={"client": mocked, "nothing": ResourceDefinition.none_resource()})
    def calls():
        call()

    result = calls.execute_in_process()
    assert result.output_for_node("call") is None
    assert isinstance(mocked(), mock.MagicMock)
    mocked().send.assert_called_once_with("hi")


def test_resource_definition_called_with_an_init_context() -> None:
    context = InitResourceContext(
        resource_config={"url": "db://z", "pool": 1}, resource_def=database, resources=Resources({})
    )
    assert database(context) == "db://z?pool=1"

    @resource
    def plain():
        yield "set up"

    assert plain() == "set up"
    assert ResourceDefinition.hardcoded_resource(5)() == 5
