"""How each phase's cost per op grows from 1,000 to 20,000 ops (target: within 1.5x).

Two shapes: a *wide* job (one source feeding ``n`` independent ops) and a *chain* of ``n``
ops declared leaf-first (the order that once hit Python's recursion limit); and ``n``
independent assets. Phases: build the job, plan it, validate its run config, compute its
versions, list its versions, execute it, re-run it fully memoized (in memory),
``materialize_to_memory`` of the assets, and 1,000 lookups in a result (``output_for_node``,
``asset_value``).

Times are CPU time (``time.process_time``: the machine is shared, and CPU time is what
others' work disturbs least), the median of ``REPEAT`` runs, the small and the large size
alternating so that a change in load touches both alike; each size lives in a process of its
own (a worker the main process asks to run one phase at a time). Each phase is also timed
with the garbage collector paused (``growth_gc_paused``): the part of the growth that is not
the collector's (what is left is mostly CPU caches missed in larger dicts). Peak memory is the
peak that ``tracemalloc`` traces during one run of the phase (a separate run: tracing slows
it), per op.

Prints one JSON object per phase (microseconds per op at both sizes and the growth factor),
then one per phase whose peak memory is measured (bytes per op at both sizes and its growth).
Run: ``python bench/scale.py [small] [large] [repeat]`` (defaults 1000, 20000 and 5).
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

import floor_row

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
from nbflow.execution.engine.memo import compute_versions
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.run import in_process_resource_defs
from nbflow.execution.engine.run_config import resolve_run_config
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Callable

_ARGS = [] if sys.argv[1:2] == ["--worker"] else sys.argv[1:]
SMALL = int(_ARGS[0]) if len(_ARGS) > 0 else 1_000
LARGE = int(_ARGS[1]) if len(_ARGS) > 1 else 20_000
REPEAT = int(_ARGS[2]) if len(_ARGS) > 2 else 5
LOOKUPS = 1_000
TARGET = 1.5


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


def versions(job: Any) -> Any:
    """The step output versions of ``job`` from its plan (what a memoized run computes first)."""
    plan = build_plan(job)
    resource_defs = in_process_resource_defs(job)
    config = resolve_run_config(plan, resource_defs, None)
    return lambda: compute_versions(plan, plan, config, resource_defs)


class Phase:
    """One phase at one size: ``run`` is timed; ``setup`` (untimed) runs before each run and
    ``prepare`` (untimed) once before the phase's runs at both sizes."""

    def __init__(
        self,
        per: int,
        run: Callable[[], Any],
        setup: Callable[[], Any] | None = None,
        prepare: Callable[[], Any] | None = None,
    ) -> None:
        self.per, self.run, self.setup, self.prepare = per, run, setup, prepare

    def cpu_seconds(self, gc_paused: bool = False) -> float:
        """CPU seconds of one run, per op (with the garbage collector paused if asked)."""
        if self.setup is not None:
            self.setup()
        gc.collect()
        if gc_paused:
            gc.disable()
        try:
            started = time.process_time()
            self.run()
            return (time.process_time() - started) / self.per
        finally:
            gc.enable()

    def peak_bytes(self) -> float:
        """Peak traced bytes of one run, per op."""
        if self.setup is not None:
            self.setup()
        gc.collect()
        tracemalloc.start()
        try:
            self.run()
            return tracemalloc.get_traced_memory()[1] / self.per
        finally:
            tracemalloc.stop()


def phases(n: int) -> dict[str, Phase]:
    """Every phase at ``n`` ops, ready to run (jobs built, results made)."""
    out: dict[str, Phase] = {}
    for shape, build in (("wide", wide), ("chain", chain_leaf_first)):
        job = build(n)
        plan, resource_defs = build_plan(job), in_process_resource_defs(job)
        out[f"{shape}: build"] = Phase(n, lambda b=build: b(n))
        out[f"{shape}: plan"] = Phase(n, lambda j=job: build_plan(j))
        out[f"{shape}: validate config"] = Phase(n, lambda j=job: validate_run_config(j))
        out[f"{shape}: config (plan given)"] = Phase(
            n, lambda p=plan, r=resource_defs: resolve_run_config(p, r, None)
        )
        out[f"{shape}: versions"] = Phase(n, versions(job))
        out[f"{shape}: list_versions"] = Phase(n, lambda j=job: list_versions(j))
        out[f"{shape}: execute"] = Phase(
            n, lambda j=job: j.execute_in_process(), clear_memoized_values
        )
        out[f"{shape}: memoized re-run"] = Phase(
            n, lambda j=job: j.execute_in_process(), prepare=lambda j=job: j.execute_in_process()
        )
    lookup_job, made = wide(n), {}
    names = [f"step_{i * (n // LOOKUPS)}" for i in range(LOOKUPS)]
    out["result: output_for_node"] = Phase(
        LOOKUPS,
        lambda: [made["result"].output_for_node(name) for name in names],
        prepare=lambda: made.update(result=lookup_job.execute_in_process()),
    )
    defs = assets(n)
    out["assets: materialize_to_memory"] = Phase(n, lambda: materialize_to_memory(defs))
    keys = [f"a_{i * (n // LOOKUPS)}" for i in range(LOOKUPS)]
    out["result: asset_value"] = Phase(
        LOOKUPS,
        lambda: [made["materialized"].asset_value(key) for key in keys],
        prepare=lambda: made.update(materialized=materialize_to_memory(defs)),
    )
    return out


def prepare(phase: Phase) -> None:
    """Nothing memoized but what the phase prepares."""
    clear_memoized_values()
    if phase.prepare is not None:
        phase.prepare()


MEMORY_PHASES = (
    "wide: build",
    "wide: execute",
    "wide: memoized re-run",
    "chain: build",
    "chain: execute",
    "chain: memoized re-run",
    "assets: materialize_to_memory",
)


def worker(n: int) -> None:
    """Answer the main process's requests, one a line, for the phases at ``n`` ops.

    Each size runs in a process of its own, so that neither size's objects weigh on the
    other's garbage collections; the main process alternates between the two.
    """
    sys.setrecursionlimit(1_000)  # the default: a deep chain must not need more
    ready = phases(n)
    for line in sys.stdin:
        what, _, name = line.rstrip("\n").partition(" ")
        phase = ready.get(name)
        if what == "names":
            answer: Any = list(ready)
        elif phase is None:
            answer = f"no phase {name!r}"
        elif what == "prepare":
            answer = prepare(phase)
        elif what == "time":
            answer = phase.cpu_seconds()
        elif what == "time-gc-paused":
            answer = phase.cpu_seconds(gc_paused=True)
        else:
            answer = phase.peak_bytes()
        print(json.dumps(answer), flush=True)


class Worker:
    """A process holding the phases at one size."""

    def __init__(self, n: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, what: str, name: str = "") -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{what} {name}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    small, large = Worker(SMALL), Worker(LARGE)
    try:
        for name in small.ask("names"):
            times: dict[tuple[str, int], list[float]] = {}
            small.ask("prepare", name)
            large.ask("prepare", name)
            for _ in range(REPEAT):  # alternate the sizes, and GC on and paused
                for what in ("time", "time-gc-paused"):
                    for size, side in ((SMALL, small), (LARGE, large)):
                        times.setdefault((what, size), []).append(side.ask(what, name))
            med = {key: statistics.median(values) for key, values in times.items()}
            low, high = med["time", SMALL], med["time", LARGE]
            row = {
                "phase": name,
                f"cpu_us_per_op_{SMALL}": round(low * 1e6, 2),
                f"cpu_us_per_op_{LARGE}": round(high * 1e6, 2),
                "growth": round(high / low, 2),
                "target": "met" if high / low <= TARGET else f"NOT met (> {TARGET}x)",
                "growth_gc_paused": round(
                    med["time-gc-paused", LARGE] / med["time-gc-paused", SMALL], 2
                ),
            }
            print(json.dumps(row), flush=True)
            paused = row["growth_gc_paused"]
            floor_row.emit(
                f"{name}: cost per op at {LARGE:,} ops",
                high * 1e6,
                low * 1e6,
                "µs/op (CPU)",
                f"the same at {SMALL:,} ops",
                target=TARGET,
                note=f"{paused:.2f}x with the garbage collector paused",
            )
        for name in MEMORY_PHASES:
            small.ask("prepare", name)
            large.ask("prepare", name)
            low, high = small.ask("peak", name), large.ask("peak", name)
            row = {
                "peak memory": name,
                f"bytes_per_op_{SMALL}": round(low),
                f"bytes_per_op_{LARGE}": round(high),
                "growth": round(high / low, 2),
            }
            print(json.dumps(row), flush=True)
            floor_row.emit(
                f"{name}: peak memory per op at {LARGE:,} ops",
                high / 1000,
                low / 1000,
                "kB/op",
                f"the same at {SMALL:,} ops",
                target=TARGET,
            )
    finally:
        small.close()
        large.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(int(sys.argv[2]))
    else:
        main()
