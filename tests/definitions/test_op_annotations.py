"""Op annotations type inputs and outputs: a value of the wrong type fails its step."""

from __future__ import annotations

import collections.abc
import importlib
import typing
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, Optional, Protocol, TypeVar, Union, runtime_checkable

import pytest

from nbflow import In, Out, Output, asset, job, materialize_to_memory, op
from nbflow.definitions.specs import Nothing
from nbflow.errors import InvalidInvocationError, OutputError

if typing.TYPE_CHECKING:
    from nbflow import JobDefinition, OpDefinition
    from nbflow.execution.engine.result import ExecuteInProcessResult

annotated_ops: Any = importlib.import_module("annotated_ops")

T = TypeVar("T")


class Plain(Protocol):
    def close(self) -> None: ...


@runtime_checkable
class Closeable(Protocol):
    def close(self) -> None: ...


class Resource:
    def close(self) -> None:
        pass


def feeding(consumer: OpDefinition, value: object) -> JobDefinition:
    """A job in which an untyped op hands ``value`` to ``consumer``'s only input."""

    @op
    def upstream():
        return value

    @job
    def fed():
        consumer(upstream())

    return fed


def run(job_def: JobDefinition) -> ExecuteInProcessResult:
    return job_def.execute_in_process(raise_on_error=False)


def failure_message(result: ExecuteInProcessResult) -> str:
    assert result.success is False
    [failure] = result.get_step_failure_events()
    return failure.message


def taking(annotation: object) -> OpDefinition:
    """An op whose one input ``x`` is annotated with ``annotation`` (an evaluated object)."""

    def take(x):
        return x

    take.__annotations__ = {"x": annotation}
    return op(take)


# --- failing steps -----------------------------------------------------------------------------


def test_input_of_the_wrong_type_fails_the_step_naming_op_input_and_types(
    call_log: list[str],
) -> None:
    @op
    def double(x: int) -> int:
        call_log.append("double")
        return x * 2

    message = failure_message(run(feeding(double, "3")))

    assert (
        "Input double.x expected a value of type int (from the annotation `x: int`), "
        "got str '3'. Fix: pass a value of that type (correct the upstream op or input value), "
        "or change the annotation if it is wrong." in message
    )
    assert call_log == []


def test_output_of_the_wrong_type_fails_the_step() -> None:
    @op
    def count() -> int:
        return "three"

    @job
    def counting():
        count()

    message = failure_message(run(counting))

    assert (
        "Output count.result expected a value of type int (from the annotation `-> int`), got "
        "str 'three'. Fix: return a value of that type, or change the annotation if it is wrong."
        in message
    )


def test_values_of_the_annotated_types_pass() -> None:
    @op
    def double(x: int) -> int:
        return x * 2

    result = run(feeding(double, 3))

    assert result.success
    assert result.output_for_node("double") == 6


# --- which values an annotation accepts -------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "accepted", "rejected"),
    [
        (float, [1.5, 2, True], ["1.5", 1j]),
        (complex, [1j, 1.5, 2], ["1j"]),
        (int, [2, True], [2.0, "2"]),
        (Optional[int], [None, 3], ["3"]),  # noqa: UP045 - the typing spelling is under test
        (int | None, [None, 3], [3.0]),
        (Union[int, str], [3, "3"], [3.0, None]),  # noqa: UP007
        (Union[float, str], [3, "3"], [None]),  # noqa: UP007 - the tower applies in unions
        (list[int], [[], ["not", "ints"]], [(1,), {1}]),
        (typing.List[int], [["a"]], [(1,)]),  # noqa: UP006
        (dict[str, Any], [{}, {1: 2}], [[("a", 1)]]),
        (Mapping[str, int], [{}, MappingProxyType({})], [[]]),
        (collections.abc.Mapping[str, int], [{"a": 1}], ["a"]),
        (tuple[int, ...], [(), (1, "a")], [[1]]),
        (Closeable, [Resource()], [object()]),
        (typing.Annotated[int, "metres"], [3], ["3"]),
        (typing.NewType("UserId", int), [3], ["3"]),
    ],
    ids=[
        "float-tower",
        "complex-tower",
        "int",
        "Optional",
        "pipe-None",
        "Union",
        "Union-tower",
        "list-origin",
        "typing-List-origin",
        "dict-origin",
        "Mapping-origin",
        "abc-Mapping-origin",
        "variadic-tuple",
        "runtime-protocol",
        "Annotated",
        "NewType",
    ],
)
def test_annotation_accepts_and_rejects(
    annotation: object, accepted: list[object], rejected: list[object]
) -> None:
    take = taking(annotation)
    for value in accepted:
        assert run(feeding(take, value)).success, f"{annotation} should accept {value!r}"
    for value in rejected:
        message = failure_message(run(feeding(take, value)))
        assert f"Input take.x expected a value of type {take.ins['x'].type_label}" in message
        assert f"got {type(value).__name__}" in message


@pytest.mark.parametrize(
    "annotation",
    [
        Any,
        object,
        T,
        Literal["a", "b"],
        Callable[[int], int],
        collections.abc.Callable,
        Plain,
        Nothing,
        Output,
        Union[int, Any],  # noqa: UP007 - one unchecked member disables the check
        int | T,
        "NotDefinedAnywhere",
        "int +",
        typing.TypedDict("Point", {"x": int}),
    ],
    ids=[
        "Any",
        "object",
        "TypeVar",
        "Literal",
        "Callable",
        "abc-Callable",
        "plain-protocol",
        "Nothing",
        "Output",
        "Union-with-Any",
        "Union-with-TypeVar",
        "unresolvable-name",
        "syntax-error",
        "TypedDict",
    ],
)
def test_annotations_isinstance_cannot_check_are_not_checked(annotation: object) -> None:
    take = taking(annotation)

    assert take.ins["x"].python_type is None
    assert not take.ins["x"].is_nothing
    assert run(feeding(take, "anything")).success


def test_parameter_defaulting_to_none_accepts_none() -> None:
    @op
    def maybe(x: int = None) -> int:  # noqa: RUF013 - implicit Optional is under test
        return 0 if x is None else x

    @job
    def defaulted():
        maybe()

    assert run(defaulted).success
    assert not run(feeding(maybe, "1")).success


# --- where annotations come from ---------------------------------------------------------------


def test_future_annotations_module_is_checked() -> None:
    assert annotated_ops.double.ins["x"].python_type is int
    assert annotated_ops.double.outs["result"].python_type is int

    message = failure_message(run(feeding(annotated_ops.double, "3")))

    assert "Input double.x expected a value of type int (from the annotation `x: int`)" in message


def test_unresolvable_annotations_are_skipped_one_parameter_at_a_time() -> None:
    mixed = annotated_ops.mixed

    assert mixed.ins["good"].python_type is int
    assert mixed.ins["hidden"].python_type is None  # imported only under TYPE_CHECKING
    assert mixed.ins["ahead"].python_type is None  # class defined after the op
    assert mixed.outs["result"].python_type is None
    assert annotated_ops.halve.ins["x"].python_type == (float, int)
    assert annotated_ops.halve.outs["result"].python_type is None


def test_explicit_in_and_out_types_win_over_annotations() -> None:
    @op(ins={"x": In(str)}, out=Out(str))
    def shout(x: int) -> int:
        return x.upper()

    assert shout.ins["x"].type_label is None
    assert run(feeding(shout, "hey")).success
    message = failure_message(run(feeding(shout, 3)))
    assert "Input shout.x expected a value of type str, got int 3." in message


def test_untyped_in_takes_the_annotation_and_keeps_its_other_fields() -> None:
    @op(ins={"x": In(description="a count", default_value=1)})
    def count(x: int) -> int:
        return x

    spec = count.ins["x"]
    assert (spec.python_type, spec.description, spec.default_value) == (int, "a count", 1)


def test_context_parameter_is_not_an_input() -> None:
    @op(config_schema={"n": int})
    def scaled(context: Any, x: int) -> int:
        return x * context.op_config["n"]

    assert list(scaled.ins) == ["x"]


# --- outputs -------------------------------------------------------------------------------------


def test_tuple_annotation_types_several_outputs_in_order() -> None:
    @op(out={"n": Out(), "label": Out()})
    def split() -> tuple[int, str]:
        return 1, 2

    @job
    def splitting():
        split()

    assert (split.outs["n"].python_type, split.outs["label"].python_type) == (int, str)
    message = failure_message(run(splitting))
    assert (
        "Output split.label expected a value of type str (from the annotation "
        "`-> tuple[int, str]`), got int 2." in message
    )


@pytest.mark.parametrize(
    "returns",
    [tuple[int, str, float], tuple[int, ...], list[int], int],
    ids=["wrong-length", "variadic", "not-a-tuple", "single-type"],
)
def test_other_return_shapes_leave_several_outputs_unchecked(returns: object) -> None:
    def pair():
        return "a", "b"

    pair.__annotations__ = {"return": returns}
    pair_op = op(out={"a": Out(), "b": Out()})(pair)

    assert [spec.python_type for spec in pair_op.outs.values()] == [None, None]


def test_generator_op_return_annotation_is_not_an_output_type() -> None:
    @op(out={"a": Out(), "b": Out()})
    def gen() -> Iterator[Output]:
        yield Output(1, "a")
        yield Output("two", "b")

    @op
    def single() -> Iterator[int]:
        yield Output(1)

    @job
    def generating():
        gen()
        single()

    assert [spec.python_type for spec in gen.outs.values()] == [None, None]
    assert single.outs["result"].python_type is None
    assert run(generating).success


def test_op_annotated_none_may_return_none() -> None:
    @op
    def side_effect() -> None:
        return None

    @job
    def effects():
        side_effect()

    assert side_effect.outs["result"].python_type is None
    assert run(effects).success


def test_output_wrapper_annotation_is_not_checked_but_the_value_of_a_typed_output_is() -> None:
    @op
    def wrapped() -> Output:
        return Output("text")

    @op
    def wrapped_but_typed() -> int:
        return Output("text")

    @job
    def wrapping():
        wrapped()
        wrapped_but_typed()

    assert wrapped.outs["result"].python_type is None
    result = run(wrapping)
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "wrapped_but_typed"


# --- assets ------------------------------------------------------------------------------------


def test_asset_annotations_type_its_inputs_and_output() -> None:
    @asset
    def a():
        return "not an int"

    @asset
    def b(a: int) -> int:
        return a + 1

    @asset
    def c() -> int:
        return "not an int"

    result = materialize_to_memory([a, b, c], raise_on_error=False)

    assert result.success is False
    messages = {e.step_key: e.message for e in result.get_step_failure_events()}
    assert "Input b.a expected a value of type int (from the annotation `a: int`)" in messages["b"]
    expected_c = "Output c.result expected a value of type int (from the annotation `-> int`)"
    assert expected_c in messages["c"]


def test_assets_with_deps_and_annotations_still_run() -> None:
    @asset
    def upstream() -> int:
        return 1

    @asset(deps=[upstream])
    def after() -> str:
        return "ran"

    @asset
    def reader(upstream: int, after: str) -> float:
        return upstream

    result = materialize_to_memory([upstream, after, reader])

    assert result.success
    assert after.op.ins["_dep_upstream"].is_nothing
    assert result.asset_value("reader") == 1


# --- direct invocation -------------------------------------------------------------------------


def test_direct_invocation_checks_annotated_inputs_and_outputs() -> None:
    @op
    def double(x: int) -> int:
        return x * 2

    @op
    def broken(x: int) -> str:
        return x

    assert double(3) == 6
    with pytest.raises(
        InvalidInvocationError,
        match=r"input 'x' expected a value of type int \(from the annotation `x: int`\), got str",
    ):
        double("3")
    with pytest.raises(
        OutputError,
        match=r"Output broken\.result expected a value of type str \(from the annotation "
        r"`-> str`\), got int 3\.",
    ):
        broken(3)
