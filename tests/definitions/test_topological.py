"""The topological order: a depth-first walk's post-order, cycles named, any depth or width."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nbflow.definitions.topological import topological_order

SIZE = 20_000


def _post_order(upstream: dict[str, list[str]]) -> list[str]:
    """The order a recursive depth-first walk gives (the definition; small graphs only)."""
    order: list[str] = []

    def visit(node: str) -> None:
        if node in order:
            return
        for dep in upstream[node]:
            visit(dep)
        order.append(node)

    for node in upstream:
        visit(node)
    return order


@st.composite
def acyclic_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """Up to 9 nodes in a random key order; each depends on nodes earlier in a random
    ranking, in a random order, sometimes listing one twice."""
    count = draw(st.integers(1, 9))
    ranking = draw(st.permutations([f"n{i}" for i in range(count)]))
    keys = draw(st.permutations(ranking))
    upstream: dict[str, list[str]] = {}
    for node in keys:
        earlier = ranking[: ranking.index(node)]
        deps = draw(st.lists(st.sampled_from(earlier), max_size=4) if earlier else st.just([]))
        upstream[node] = deps
    return upstream


@given(acyclic_graphs())
def test_the_order_is_the_post_order_of_a_depth_first_walk(upstream: dict[str, list[str]]) -> None:
    order, cycles = topological_order(upstream)
    assert cycles == []
    assert order == _post_order(upstream)


def test_ties_follow_the_keys_and_each_node_s_listed_dependencies() -> None:
    upstream = {"report": ["clean", "fetch"], "fetch": [], "clean": ["fetch"], "other": []}
    assert topological_order(upstream) == (["fetch", "clean", "report", "other"], [])


def test_a_cycle_is_named_from_the_node_the_walk_reaches_first() -> None:
    upstream = {"a": ["b"], "b": ["c"], "c": ["b"], "d": ["d"]}
    assert topological_order(upstream) == ([], [["b", "c", "b"], ["d", "d"]])


def test_a_cycle_at_the_far_end_of_a_long_chain_is_named() -> None:
    """The walk keeps its own stack: 20,000 links deep, a cycle is found and named."""
    upstream = {f"n{i}": [f"n{i + 1}"] for i in range(SIZE)}
    upstream[f"n{SIZE}"] = [f"n{SIZE - 1}"]
    order, cycles = topological_order(upstream)
    assert order == []
    assert cycles == [[f"n{SIZE - 1}", f"n{SIZE}", f"n{SIZE - 1}"]]


def test_a_long_chain_and_a_wide_fan_order_upstream_first() -> None:
    chain = {f"n{i}": [f"n{i - 1}"] if i else [] for i in reversed(range(SIZE))}
    assert topological_order(chain) == ([f"n{i}" for i in range(SIZE)], [])
    fan = {f"n{i}": ["source"] for i in range(SIZE)} | {"source": []}
    assert topological_order(fan) == (["source", *(f"n{i}" for i in range(SIZE))], [])
