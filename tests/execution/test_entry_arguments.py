"""Bad arguments to the run entry points and bad config values: clear nbflow errors, no run."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import AssetKey, Field, StaticPartitionsDefinition, asset, job, materialize, op
from nbflow.config import Float, String, validate_config
from nbflow.config._problems import safe_repr
from nbflow.errors import (
    DefinitionError,
    InvalidArgumentError,
    RunConfigValidationError,
)
from nbflow.storage.instance import Instance

CALLS: list[str] = []


@op(config_schema={"x": Field(float, is_required=False)})
def step(context: Any) -> None:
    CALLS.append("step")


@job
def one_step() -> None:
    step()


def _nested(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"run_config": 5}, "run_config must be a dict, got 5"),
        ({"op_selection": "step"}, r"a str is not read as one query per character"),
        ({"op_selection": ["step", 3]}, "op_selection entries must be non-empty str"),
        ({"tags": [1]}, "tags must be a dict of str to str"),
        ({"tags": {1: "a"}}, "tags key 1 \\(int\\)"),
        ({"tags": {"a": object()}}, "cannot be written as JSON"),
        ({"tags": {"a": 10**5000}}, "an int of 5,001 digits"),
        ({"run_id": 5}, "run_id must be a str"),
        ({"run_id": "r" * 300}, "run_id is 300 bytes long"),
        ({"partition_key": 5}, "partition_key must be a str"),
        ({"partition_key": "p" * 256}, "partition_key is 256 bytes long"),
        ({"instance": "here"}, "instance must be an nbflow Instance"),
        ({"raise_on_error": "yes"}, "raise_on_error must be True or False"),
        ({"run_config": {"ops": _nested(200)}}, "nested more than 100 levels"),
    ],
    ids=lambda v: safe_repr(v, 30),
)
def test_execute_in_process_refuses_bad_arguments_before_running(
    arguments: dict[str, Any], match: str
) -> None:
    CALLS.clear()
    instance = Instance.ephemeral()
    with pytest.raises(InvalidArgumentError, match=match) as info:
        one_step.execute_in_process(**{"instance": instance, **arguments})
    assert "nothing was run or recorded" in str(info.value)
    assert CALLS == []
    if "instance" not in arguments:
        assert instance.get_runs() == []


def test_a_cyclic_run_config_is_refused() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["ops"] = cyclic
    with pytest.raises(InvalidArgumentError, match="contains itself"):
        one_step.execute_in_process(run_config=cyclic)


def test_unknown_retries_keys_are_refused_in_process() -> None:
    CALLS.clear()
    config = {"execution": {"config": {"retries": {"bogus": {}}}}}
    with pytest.raises(RunConfigValidationError, match="retries: unknown field 'bogus'"):
        one_step.execute_in_process(run_config=config)
    assert CALLS == []
    one_step.execute_in_process(run_config={"execution": {"config": {"retries": {"disabled": {}}}}})
    assert CALLS == ["step"]


def test_huge_values_are_described_without_failing() -> None:
    with pytest.raises(RunConfigValidationError, match="got <an int of 5,001 digits> \\(int\\)"):
        validate_config(String, 10**5000)
    with pytest.raises(RunConfigValidationError, match="an int of 401 digits, too large for a"):
        validate_config(Float, 10**400)
    with pytest.raises(RunConfigValidationError) as info:
        validate_config(Float, "s" * 1_000_000)
    assert len(str(info.value)) < 300
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(RunConfigValidationError, match=r"got \[\[\[\[…\]\]\]\] \(list\)"):
        validate_config(String, deep)


def test_a_float_field_given_a_huge_int_in_a_run_is_a_config_error() -> None:
    CALLS.clear()
    with pytest.raises(RunConfigValidationError, match="too large for a float"):
        one_step.execute_in_process(run_config={"ops": {"step": {"config": {"x": 10**400}}}})
    assert CALLS == []


@pytest.mark.parametrize("key", ["../x", "a/b", "a\\b", "..", "k" * 256, "\udcff"])
def test_unsafe_static_partition_keys_are_refused_at_definition(key: str) -> None:
    with pytest.raises(DefinitionError, match="cannot name a stored partition"):
        StaticPartitionsDefinition(["ok", key])


@pytest.mark.parametrize("part", ["k" * 256, "\udcff"])
def test_asset_key_parts_must_be_short_utf8(part: str) -> None:
    with pytest.raises(DefinitionError, match=r"255 UTF-8 bytes|not valid UTF-8"):
        AssetKey(["warehouse", part])


def test_materialize_refuses_a_str_selection_and_non_list_assets() -> None:
    @asset
    def orders() -> int:
        CALLS.append("orders")
        return 1

    CALLS.clear()
    with pytest.raises(InvalidArgumentError, match="selection must be a list"):
        materialize([orders], selection="orders")
    with pytest.raises(InvalidArgumentError, match="assets must be a list"):
        materialize(orders)  # type: ignore[arg-type]
    assert CALLS == []
