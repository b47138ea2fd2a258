"""Run-time semantics aligned with the seed system (issue #13)."""

from __future__ import annotations

import pytest

from nbflow import ConfigMapping, In, Out, graph, job, op
from nbflow.errors import (
    InvalidSubsetError,
    NbflowError,
    OutputError,
    RunConfigValidationError,
    TypeCheckError,
)


def test_op_without_config_schema_accepts_any_config() -> None:
    @op
    def reads_config(context):
        return context.op_config

    @job
    def free_config():
        reads_config()

    result = free_config.execute_in_process(
        run_config={"ops": {"reads_config": {"config": {"anything": [1, 2]}}}}
    )
    assert result.output_for_node("reads_config") == {"anything": [1, 2]}
    assert free_config.execute_in_process().output_for_node("reads_config") is None


def test_config_for_ops_left_out_by_op_selection_is_ignored() -> None:
    @op(config_schema={"rate": int})
    def left_out(context):
        return context.op_config["rate"]

    @op
    def kept():
        return 2

    @job
    def two_ops():
        left_out()
        kept()

    result = two_ops.execute_in_process(
        run_config={"ops": {"left_out": {"config": {"rate": 1}}}}, op_selection=["kept"]
    )
    assert result.output_for_node("kept") == 2


def test_execute_in_process_ignores_execution_config() -> None:
    @op
    def one():
        return 1

    @job
    def simple():
        one()

    result = simple.execute_in_process(
        run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    )
    assert result.output_for_node("one") == 1


def test_selection_naming_nothing_raises_invalid_subset_error() -> None:
    @op
    def one():
        return 1

    @job
    def simple():
        one()

    with pytest.raises(InvalidSubsetError, match="'nothing_here' names no node"):
        simple.execute_in_process(op_selection=["nothing_here"])
    assert issubclass(InvalidSubsetError, NbflowError)


def test_config_mapping_returning_a_non_dict_raises_a_config_error() -> None:
    @op(config_schema={"rate": int})
    def scaled(context):
        return context.op_config["rate"]

    @graph(config=ConfigMapping(config_fn=lambda _: 5))
    def mapped():
        scaled()

    with pytest.raises(RunConfigValidationError, match="returned int 5, not a dict"):
        mapped.to_job().execute_in_process()

    @job
    def outer():
        mapped()

    with pytest.raises(RunConfigValidationError, match="returned int 5, not a dict"):
        outer.execute_in_process()


def test_input_type_mismatch_raises_type_check_error_with_a_fix() -> None:
    @op
    def text():
        return "s"

    @op(ins={"n": In(int)})
    def needs_int(n):
        return n

    @job
    def mismatched():
        needs_int(text())

    with pytest.raises(TypeCheckError, match=r"Input needs_int\.n .* Fix: ") as info:
        mismatched.execute_in_process()
    assert type(info.value) is TypeCheckError


def test_out_type_mismatch_raises_type_check_error_with_a_fix() -> None:
    @op(out=Out(int))
    def text():
        return "s"

    @job
    def mismatched():
        text()

    with pytest.raises(TypeCheckError, match=r"Output text\.result .* Fix: return a value"):
        mismatched.execute_in_process()
    with pytest.raises(TypeCheckError, match="Fix: return a value"):
        text()
    # the existing error type still catches it
    assert issubclass(TypeCheckError, OutputError)
