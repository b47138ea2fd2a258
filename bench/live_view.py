"""The live run view's cost: ``nbflow.notebook.run`` against a plain ``execute_in_process``.

Two 500-step chains: trivial steps (the run takes ~0.1 s, so the view's fixed cost shows:
preparing the DAG and drawing the final state with its summary table), and steps that sleep
2 ms (the run takes ~1.2 s, so the redraws while it runs show too). IPython's display is
replaced by a counter, as in a notebook without a front end; the drawing chain is the
machine's (``dot`` when installed). Prints one JSON object per workload with the medians of
wall time and of CPU time (this process plus its children, such as ``dot``), which busy
machines disturb less. Run: ``python bench/live_view.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from workloads import chain

from nbflow import DependencyDefinition, GraphDefinition, JobDefinition, NodeInvocation, op
from nbflow.notebook import live


@op
def first() -> int:
    return 0


@op
def nap(x: int) -> int:
    time.sleep(0.002)
    return x + 1


def napping_chain(n: int) -> JobDefinition:
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    previous = "first"
    for i in range(n):
        deps[NodeInvocation("nap", alias=f"nap_{i}")] = {"x": DependencyDefinition(previous)}
        previous = f"nap_{i}"
    return GraphDefinition(f"naps_{n}", node_defs=[first, nap], dependencies=deps).to_job()


class Counter:
    """Stands in for IPython's ``display``: counts outputs and their updates."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Counter:
        self.calls += 1
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1


def cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Any) -> tuple[float, float]:
    wall, used = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - wall, cpu() - used


def measure(job: JobDefinition, reps: int) -> dict[str, Any]:
    counter = Counter()
    live.display = counter  # type: ignore[assignment]
    live.in_ipython = lambda: True  # type: ignore[assignment]
    job.execute_in_process()  # warm up both paths
    live.run(job)
    plain, shown, plain_cpu, shown_cpu, draws = [], [], [], [], []
    for _ in range(reps):
        wall, used = timed(job.execute_in_process)
        plain.append(wall)
        plain_cpu.append(used)
        counter.calls = 0
        wall, used = timed(lambda: live.run(job))
        shown.append(wall)
        shown_cpu.append(used)
        draws.append(counter.calls)
    p, s = statistics.median(plain), statistics.median(shown)
    pc, sc = statistics.median(plain_cpu), statistics.median(shown_cpu)
    return {
        "workload": job.name,
        "steps": len(job.graph_def.nodes),
        "plain_s": round(p, 4),
        "live_s": round(s, 4),
        "overhead_s": round(s - p, 4),
        "overhead_pct": round(100 * (s - p) / p, 1),
        "plain_cpu_s": round(pc, 4),
        "live_cpu_s": round(sc, 4),
        "cpu_overhead_s": round(sc - pc, 4),
        "displays_per_run": statistics.median(draws),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    reps = parser.parse_args().reps
    for job in (chain(499), napping_chain(499)):
        print(json.dumps(measure(job, reps)))


if __name__ == "__main__":
    main()
