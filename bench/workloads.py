"""Job shapes the benchmarks run: chains and fan-out/fan-in of trivial ops."""

from __future__ import annotations

from nbflow import (
    DependencyDefinition,
    Field,
    GraphDefinition,
    JobDefinition,
    NodeInvocation,
    op,
)


@op
def source() -> int:
    return 0


@op
def step(x: int) -> int:
    return x + 1


@op
def add(a: int, b: int) -> int:
    return a + b


_SEED = {"seed": Field(int, default_value=0)}


@op(name="source", version="1", config_schema=_SEED)
def versioned_source(context) -> int:  # type: ignore[no-untyped-def]
    return int(context.op_config["seed"])


@op(name="step", version="1", config_schema=_SEED)
def versioned_step(context, x: int) -> int:  # type: ignore[no-untyped-def]
    return x + 1


def chain(n: int, versioned: bool = False, **job_kwargs: object) -> JobDefinition:
    """``source`` followed by ``n`` ``step`` ops, each feeding the next.

    ``versioned`` uses ops with ``version="1"`` and an optional ``seed`` config.
    """
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    previous = "source"
    for i in range(n):
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition(previous)}
        previous = f"step_{i}"
    node_defs = [versioned_source, versioned_step] if versioned else [source, step]
    graph = GraphDefinition(f"chain_{n}", node_defs=node_defs, dependencies=deps)
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
