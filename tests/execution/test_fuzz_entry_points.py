"""Fuzzed run configs and odd entry-point arguments end in an NbflowError, with no op run."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbflow import Field, In, asset, job, materialize_to_memory, op
from nbflow.config._problems import safe_repr
from nbflow.errors import NbflowError
from nbflow.execution.execute_job import execute_job

CALLS: list[str] = []


class UserError(Exception):
    """Raised by the op itself: the one non-nbflow error a run may end in."""


@op(config_schema={"n": Field(int, is_required=False), "x": Field(float, is_required=False)})
def counted(context: Any) -> int:
    CALLS.append("counted")
    if context.op_config.get("n") == -1:
        raise UserError("the user's own error")
    return 1


@op(ins={"value": In(int)})
def sink(value: int) -> int:
    CALLS.append("sink")
    return value


@job
def tiny() -> None:
    sink(counted())


@asset
def leaf() -> int:
    CALLS.append("leaf")
    return 1


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4300, max_value=10**4400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(10**400),
    st.just(1e308 * 10),
    st.text(max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
    st.binary(max_size=5),
)
keys = st.one_of(
    st.sampled_from(["ops", "counted", "sink", "config", "inputs", "n", "x", "value"]),
    st.sampled_from(["execution", "resources", "loggers", "retries", "enabled", "disabled"]),
    st.text(max_size=8),
    st.integers(),
    st.none(),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


def _deep(levels: int) -> Any:
    value: Any = {"n": 1}
    for _ in range(levels):
        value = {"config": value}
    return value


run_configs = st.one_of(
    json_like,
    st.builds(lambda ops: {"ops": ops}, json_like),
    st.builds(lambda cfg: {"ops": {"counted": {"config": cfg}}}, json_like),
    st.builds(lambda v: {"ops": {"sink": {"inputs": {"value": v}}}}, json_like),
    st.builds(lambda e: {"execution": {"config": e}}, json_like),
    st.builds(_deep, st.integers(min_value=90, max_value=3000)),
)


def _allowed(exc: BaseException) -> bool:
    return isinstance(exc, NbflowError | UserError)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(run_config=run_configs)
def test_fuzzed_run_config_ends_in_an_nbflow_error_or_runs(run_config: Any) -> None:
    CALLS.clear()
    try:
        tiny.execute_in_process(run_config=run_config)
    except BaseException as exc:
        assert _allowed(exc), f"{type(exc).__name__}: {safe_repr(str(exc), 300)}"
        if not isinstance(exc, UserError) and not isinstance(exc.__cause__, UserError):
            assert "counted" not in CALLS or "op" in type(exc).__name__.lower()


odd = st.one_of(
    json_like,
    st.text(max_size=5),
    st.integers(),
    st.just(10**5000),
    st.just(object()),
    st.just(math.inf),
)

ARGUMENTS = ["run_config", "op_selection", "tags", "run_id", "partition_key", "instance"]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from([*ARGUMENTS, "raise_on_error", "input_values", "resources"]), value=odd)
def test_odd_execute_in_process_arguments_are_refused_before_any_op_runs(
    name: str, value: Any
) -> None:
    CALLS.clear()
    try:
        tiny.execute_in_process(**{name: value})
    except BaseException as exc:
        assert _allowed(exc), (
            f"{name}={safe_repr(value)}: {type(exc).__name__}: {safe_repr(str(exc), 300)}"
        )
        if not isinstance(exc, UserError):
            assert CALLS == [], f"{name}={safe_repr(value)} was refused after {CALLS} ran"


MATERIALIZE_ARGUMENTS = [
    *("run_config", "tags", "run_id", "partition_key", "instance"),
    *("raise_on_error", "selection", "resources"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(MATERIALIZE_ARGUMENTS), value=odd)
def test_odd_materialize_arguments_are_refused_before_any_asset_runs(name: str, value: Any) -> None:
    CALLS.clear()
    try:
        materialize_to_memory([leaf], **{name: value})
    except BaseException as exc:
        assert _allowed(exc), (
            f"{name}={safe_repr(value)}: {type(exc).__name__}: {safe_repr(str(exc), 300)}"
        )
        assert CALLS == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("run_config", 5),
        ("op_selection", "counted"),
        ("op_selection", [1]),
        ("tags", [1]),
        ("tags", {"a": object()}),
        ("tags", {"ops": {"ops": None, 0: None}}),  # keys JSON cannot sort
        ("run_id", 5),
        ("partition_key", 5),
        ("instance", "here"),
        ("asset_selection", "a/b"),
    ],
)
def test_execute_job_refuses_odd_arguments_before_running(name: str, value: Any) -> None:
    CALLS.clear()
    with pytest.raises(NbflowError, match="execute_job\\(\\) was given invalid arguments"):
        execute_job(tiny, **{name: value})
    assert CALLS == []
