"""Job shapes the benchmarks run: chains and fan-out/fan-in of trivial ops."""

from __future__ import annotations

from nbflow import DependencyDefinition, GraphDefinition, JobDefinition, NodeInvocation, op


@op
def source() -> int:
    return 0


@op
def step(x: int) -> int:
    return x + 1


@op
def add(a: int, b: int) -> int:
    return a + b


def chain(n: int, **job_kwargs: object) -> JobDefinition:
    """``source`` followed by ``n`` ``step`` ops, each feeding the next."""
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    previous = "source"
    for i in range(n):
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition(previous)}
        previous = f"step_{i}"
    graph = GraphDefinition(f"chain_{n}", node_defs=[source, step], dependencies=deps)
    return graph.to_job(**job_kwargs)  # type: ignore[arg-type]


def fan(n: int) -> JobDefinition:
    """``source`` fanned out to ``n`` ``step`` ops, folded back pairwise into one result."""
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    layer = []
    for i in range(n):
        deps[NodeInvocation("step", alias=f"out_{i}")] = {"x": DependencyDefinition("source")}
        layer.append(f"out_{i}")
    k = 0
    while len(layer) > 1:
        nxt = []
        for a, b in zip(layer[0::2], layer[1::2], strict=False):
            name = f"add_{k}"
            k += 1
            deps[NodeInvocation("add", alias=name)] = {
                "a": DependencyDefinition(a),
                "b": DependencyDefinition(b),
            }
            nxt.append(name)
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    graph = GraphDefinition(f"fan_{n}", node_defs=[source, step, add], dependencies=deps)
    return graph.to_job()

