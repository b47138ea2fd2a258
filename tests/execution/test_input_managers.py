"""Input managers: In(input_manager_key=...) loads an input through the manager, with versions."""

from __future__ import annotations

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    In,
    InputManager,
    InputManagerDefinition,
    input_manager,
    job,
    list_versions,
    op,
)
from nbflow.definitions.io_manager import InputContext
from nbflow.errors import UnversionedInputError


@op(version="1")
def emit():
    return 10


def test_input_manager_loads_an_input_instead_of_the_upstream_io_manager() -> None:
    seen: list[tuple[str, str]] = []

    @input_manager
    def doubled_loader(context):
        up = context.upstream_output
        seen.append((up.step_key, up.name))
        return 99

    @op(ins={"x": In(input_manager_key="loader")})
    def use(x):
        return x + 1

    @job(resource_defs={"loader": doubled_loader})
    def loaded():
        use(emit())

    result = loaded.execute_in_process()
    assert result.output_for_node("use") == 100
    assert seen == [("emit", "result")]


def test_input_manager_supplies_a_root_input_with_its_config() -> None:
    @input_manager(config_schema={"table": str}, version="1")
    def table_loader(context):
        return f"rows of {context.resource_config['table']}"

    @op(ins={"rows": In(input_manager_key="tables")})
    def count(rows):
        return rows

    @job(resource_defs={"tables": table_loader})
    def counting():
        count()

    run_config = {"resources": {"tables": {"config": {"table": "a"}}}}
    result = counting.execute_in_process(run_config=run_config)
    assert result.output_for_node("count") == "rows of a"


class _Constant(InputManager):
    def __init__(self, value: int) -> None:
        self.value = value

    def load_input(self, context: InputContext) -> int:
        assert context.upstream_output is None
        return self.value


def _root_job(manager: InputManagerDefinition, version: str | None = "1"):
    @op(ins={"x": In(input_manager_key="source")}, version="1")
    def plus(x):
        return x + 1

    @job(resource_defs={"source": manager}, tags={MEMOIZED_RUN_TAG: "true"})
    def rooted():
        plus()

    return rooted


def test_root_input_version_is_the_input_manager_version() -> None:
    def build(version: str) -> InputManagerDefinition:
        return InputManagerDefinition(lambda: _Constant(4), version=version)

    first = _root_job(build("1"))
    assert first.execute_in_process().output_for_node("plus") == 5
    one = [r.version for r in list_versions(first)]
    assert one == [r.version for r in list_versions(_root_job(build("1")))]
    assert one != [r.version for r in list_versions(_root_job(build("2")))]


def test_loaded_input_version_is_the_upstream_output_version() -> None:
    @input_manager(version="7")
    def passthrough(context):
        return 1

    @op(ins={"x": In(input_manager_key="pass")}, version="1")
    def use(x):
        return x

    @job(resource_defs={"pass": passthrough}, tags={MEMOIZED_RUN_TAG: "true"})
    def loaded():
        use(emit())

    rows = {r.step_output: r for r in list_versions(loaded)}
    assert rows["use.result"].version  # versioned through emit.result, the upstream output

    @op(version="2")
    def emit_changed():
        return 10

    @job(resource_defs={"pass": passthrough}, tags={MEMOIZED_RUN_TAG: "true"})
    def loaded_changed():
        use(emit_changed())

    changed = {r.step_output: r for r in list_versions(loaded_changed)}
    assert changed["use.result"].version != rows["use.result"].version


def test_unversioned_input_manager_for_a_root_input_is_named_when_memoizing() -> None:
    unversioned = InputManagerDefinition(lambda: _Constant(4))
    with pytest.raises(UnversionedInputError, match=r"plus\.x.*'source'"):
        _root_job(unversioned).execute_in_process()
    memo_off = _root_job(unversioned).execute_in_process(tags={MEMOIZED_RUN_TAG: "false"})
    assert memo_off.output_for_node("plus") == 5


def test_missing_input_manager_resource_is_reported() -> None:
    @op(ins={"x": In(input_manager_key="absent")})
    def use(x):
        return x

    with pytest.raises(Exception, match="absent"):

        @job
        def broken():
            use()

        broken.execute_in_process()
