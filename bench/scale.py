"""How each phase's cost per op grows from 1,000 to 20,000 ops (target: within 1.5x).

Two shapes: a *wide* job (one source feeding ``n`` independent ops) and a *chain* of ``n``
ops declared leaf-first (the order that once hit Python's recursion limit); and ``n``
independent assets. Phases: build the job, plan it, validate its run config, list its
versions, execute it, re-run it fully memoized (in memory), ``materialize_to_memory`` of the
assets, and 1,000 lookups in a result (``output_for_node``, ``asset_value``).

Prints one JSON object per phase and size (best of ``REPEAT``, microseconds per op) and a
summary line per phase with the growth factor.
Run: ``python bench/scale.py [small] [large]`` (defaults 1000 and 20000).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any

from nbflow import (
    MEMOIZED_RUN_TAG,
    AssetsDefinition,
    DependencyDefinition,
    GraphDefinition,
    NodeInvocation,
    asset,
    list_versions,
    materialize_to_memory,
    op,
    validate_run_config,
)
from nbflow.execution.engine.plan import build_plan
from nbflow.storage import clear_memoized_values

SMALL = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
LARGE = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
REPEAT = 3
LOOKUPS = 1_000


@op(version="1")
def source() -> int:
    return 0


@op(version="1")
def step(x: int) -> int:
    return x + 1


def wide(n: int) -> Any:
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    for i in range(n):
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition("source")}
    graph = GraphDefinition(f"wide_{n}", node_defs=[source, step], dependencies=deps)
    return graph.to_job(tags={MEMOIZED_RUN_TAG: "true"})


def chain_leaf_first(n: int) -> Any:
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    for i in reversed(range(n)):
        upstream = "source" if i == 0 else f"step_{i - 1}"
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition(upstream)}
    graph = GraphDefinition(f"chain_{n}", node_defs=[source, step], dependencies=deps)
    return graph.to_job(tags={MEMOIZED_RUN_TAG: "true"})


def assets(n: int) -> list[AssetsDefinition]:
    made = []
    for i in range(n):

        @asset(name=f"a_{i}")
        def one() -> int:
            return 1

        made.append(one)
    return made


def best_seconds(fn: Any, setup: Any = None) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        if setup is not None:
            setup()
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def phases(n: int) -> dict[str, float]:
    """Seconds per op for every phase at ``n`` ops."""
    out: dict[str, float] = {}
    for shape, build in (("wide", wide), ("chain", chain_leaf_first)):
        out[f"{shape}: build"] = best_seconds(lambda b=build: b(n)) / n
        job = build(n)
        out[f"{shape}: plan"] = best_seconds(lambda j=job: build_plan(j)) / n
        out[f"{shape}: validate config"] = best_seconds(lambda j=job: validate_run_config(j)) / n
        out[f"{shape}: execute"] = (
            best_seconds(lambda j=job: j.execute_in_process(), clear_memoized_values) / n
        )
        job.execute_in_process()
        out[f"{shape}: memoized re-run"] = best_seconds(lambda j=job: j.execute_in_process()) / n
        out[f"{shape}: list_versions"] = best_seconds(lambda j=job: list_versions(j)) / n
        clear_memoized_values()
    result = wide(n).execute_in_process()
    names = [f"step_{i * (n // LOOKUPS)}" for i in range(LOOKUPS)]
    out["result: output_for_node"] = (
        best_seconds(lambda: [result.output_for_node(name) for name in names]) / LOOKUPS
    )
    defs = assets(n)
    out["assets: materialize_to_memory"] = best_seconds(lambda: materialize_to_memory(defs)) / n
    materialized = materialize_to_memory(defs)
    keys = [f"a_{i * (n // LOOKUPS)}" for i in range(LOOKUPS)]
    out["result: asset_value"] = (
        best_seconds(lambda: [materialized.asset_value(key) for key in keys]) / LOOKUPS
    )
    return out


def main() -> None:
    sys.setrecursionlimit(1_000)  # the default: a deep chain must not need more
    small, large = phases(SMALL), phases(LARGE)
    for name in small:
        factor = large[name] / small[name]
        row = {
            "phase": name,
            f"us_per_op_{SMALL}": round(small[name] * 1e6, 2),
            f"us_per_op_{LARGE}": round(large[name] * 1e6, 2),
            "growth": round(factor, 2),
            "target": "met" if factor <= 1.5 else "NOT met (> 1.5x)",
        }
        print(json.dumps(row))


if __name__ == "__main__":
    main()
