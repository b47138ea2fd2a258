"""A long chain of ops declared last-first builds, plans and runs (no recursion on its length)."""

from __future__ import annotations

from nbflow import DependencyDefinition, GraphDefinition, In, NodeInvocation, op
from nbflow.execution.engine.plan import build_plan

LENGTH = 20_000


@op
def start() -> int:
    return 0


@op(ins={"x": In()})
def step(x: int) -> int:
    return x + 1


def _reversed_chain() -> GraphDefinition:
    """``link_0`` ← ``link_1`` ← … ← ``link_{LENGTH-1}``, declared from the last link."""
    names = [f"link_{i}" for i in range(LENGTH)]
    dependencies: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {
        NodeInvocation("step", alias=names[i]): {"x": DependencyDefinition(names[i - 1])}
        for i in range(LENGTH - 1, 0, -1)
    }
    dependencies[NodeInvocation("start", alias=names[0])] = {}
    return GraphDefinition(name="long_chain", node_defs=[step, start], dependencies=dependencies)


def test_a_chain_declared_in_reverse_builds_plans_and_runs_in_process() -> None:
    chain = _reversed_chain()
    expected = [f"link_{i}" for i in range(LENGTH)]
    assert list(chain.topological_order) == expected

    job = chain.to_job(name="long_chain_job")
    assert list(build_plan(job).steps) == expected

    result = job.execute_in_process()
    assert result.success
    assert result.output_for_node(f"link_{LENGTH - 1}") == LENGTH - 1
