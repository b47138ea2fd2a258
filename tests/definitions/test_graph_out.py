"""Graph outputs declared with GraphOut and returned as a dict from the graph body."""

from __future__ import annotations

import pytest

from nbflow import GraphOut, graph, job, op
from nbflow.errors import InvalidDefinitionError


@op
def one() -> int:
    return 1


@op
def two() -> int:
    return 2


@op
def add(x: int, y: int) -> int:
    return x + y


@graph(out={"a": GraphOut(), "b": GraphOut(description="the second")})
def pair() -> dict[str, object]:
    return {"a": one(), "b": two()}


def test_graph_outs_declared_with_graph_out_feed_downstream_nodes() -> None:
    @job
    def uses_pair() -> None:
        a, b = pair()
        add(a, b)

    assert list(pair.outs) == ["a", "b"]
    assert pair.outs["b"].description == "the second"
    result = uses_pair.execute_in_process()
    assert result.output_for_node("add") == 3
    assert result.output_for_node("pair", "a") == 1
    assert result.output_for_node("pair", "b") == 2


def test_a_single_graph_out() -> None:
    @graph(out=GraphOut())
    def single() -> object:
        return one()

    @job
    def uses_single() -> None:
        single()

    assert uses_single.execute_in_process().output_for_node("single") == 1


def test_returning_a_dict_that_misses_a_declared_output_is_an_nbflow_error() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"missing: \['b'\]"):

        @graph(out={"a": GraphOut(), "b": GraphOut()})
        def half() -> dict[str, object]:
            return {"a": one()}
