"""What recording ``context.log`` messages as events costs an in-process run.

A chain of 500 ops run with ``execute_in_process``, three ways, alternating so that machine
load cannot favour one: ``no_logs`` (the trivial ops of ``workloads.chain``: the run as it was
before log events existed), ``context_only`` (each op takes ``context`` but logs nothing) and
``log_info`` (each op calls ``context.log.info`` once, which the run records as a LOG_MESSAGE
event). Prints one JSON object: the median seconds of each side and the overhead of
``log_info`` over ``no_logs`` (the issue's budget: at most 10 %).
Run: ``python bench/log_overhead.py [REPEATS]``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from workloads import chain

from nbflow import (
    DependencyDefinition,
    EventType,
    GraphDefinition,
    JobDefinition,
    NodeInvocation,
    op,
)

STEPS = 500


@op(name="source")
def context_source(context) -> int:  # type: ignore[no-untyped-def]
    return 0


@op(name="step")
def quiet_step(context, x: int) -> int:  # type: ignore[no-untyped-def]
    return x + 1


@op(name="step")
def logging_step(context, x: int) -> int:  # type: ignore[no-untyped-def]
    context.log.info("step got %d", x)
    return x + 1


def context_chain(n: int, step_op: object) -> JobDefinition:
    """Like ``workloads.chain``, with ops that take a context (``step_op`` for the steps)."""
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    previous = "source"
    for i in range(n):
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition(previous)}
        previous = f"step_{i}"
    graph = GraphDefinition(
        f"chain_{n}",
        node_defs=[context_source, step_op],  # type: ignore[list-item]
        dependencies=deps,
    )
    return graph.to_job()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 41
    sides = {
        "no_logs": chain(STEPS),
        "context_only": context_chain(STEPS, quiet_step),
        "log_info": context_chain(STEPS, logging_step),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    logged = 0
    for job in sides.values():
        job.execute_in_process()  # warm up
    for _ in range(repeats):
        for name, job in sides.items():
            started = time.perf_counter()
            result = job.execute_in_process()
            times[name].append(time.perf_counter() - started)
            if name == "log_info":
                logged = len(result.filter_events(EventType.LOG_MESSAGE))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        json.dumps(
            {
                "workload": f"execute_in_process chain of {STEPS}, one context.log.info per step",
                "repeats": repeats,
                "log_message_events": logged,
                "median_seconds": {name: round(value, 5) for name, value in medians.items()},
                "overhead_vs_no_logs_pct": round(
                    100 * (medians["log_info"] / medians["no_logs"] - 1), 1
                ),
                "overhead_vs_context_only_pct": round(
                    100 * (medians["log_info"] / medians["context_only"] - 1), 1
                ),
                "budget_pct": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
