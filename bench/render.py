"""DAG drawing: building the view and the DOT text, and each engine of the drawing chain.

A 500- and a 1,000-op DAG (a layered "mesh": each op reads two ops of earlier layers) and the 500-op
chain and fan of ``workloads.py``. Prints one JSON object per measurement, best of the
repetitions. Budgets: view + DOT well under 50 ms; a drawing with ``dot`` at most 1 s;
showing a 1,000-step job inline (summarised) at most 1 s with ``dot``, 0.3 s built-in.
Run: ``python bench/render.py``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from workloads import add, chain, fan, source

from nbflow import DependencyDefinition, GraphDefinition, JobDefinition, NodeInvocation
from nbflow.execution import graph_view, to_dot
from nbflow.notebook import draw_svg, show_graph, summarize


def mesh(n: int, width: int = 12, seed: int = 7) -> JobDefinition:
    """``n`` ops in layers of ``width``; each op adds two ops of the layers above it."""
    rng = random.Random(seed)
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    names = ["source"]
    for i in range(1, n):
        a, b = (names[rng.randrange(max(0, i - 3 * width), i)] for _ in range(2))
        name = f"op_{i}"
        deps[NodeInvocation("add", alias=name)] = {
            "a": DependencyDefinition(a),
            "b": DependencyDefinition(b),
        }
        names.append(name)
    graph = GraphDefinition(f"mesh_{n}", node_defs=[source, add], dependencies=deps)
    return graph.to_job()


def best_of(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def emit(workload: str, shape: str, seconds: float, **extra: object) -> None:
    record = {"workload": workload, "shape": shape, "ms": round(seconds * 1000, 2), **extra}
    print(json.dumps(record), flush=True)


def main() -> None:
    engines = ["builtin"]
    if shutil.which("dot"):
        engines.insert(0, "dot")
    if importlib.util.find_spec("pygraphviz") is not None:
        engines.insert(-1, "pygraphviz")
    shapes = [("mesh", mesh(n)) for n in (500, 1000)] + [("chain", chain(499)), ("fan", fan(250))]
    for shape, job in shapes:
        steps = len(list(job.graph_def.iter_ops()))
        view = graph_view(job)
        emit("graph_view", shape, best_of(lambda: graph_view(job), 7), steps=steps)  # noqa: B023
        emit("to_dot", shape, best_of(lambda: to_dot(view), 7), steps=steps)  # noqa: B023
        result = job.execute_in_process()
        emit("graph_view of a result", shape, best_of(lambda: graph_view(result), 5), steps=steps)  # noqa: B023
        emit("summarize to 200", shape, best_of(lambda: summarize(view, 200), 5), steps=steps)  # noqa: B023
        for engine in engines:
            drawing = draw_svg(view, engine)
            assert drawing.engine == engine, drawing.note
            seconds = best_of(lambda: draw_svg(view, engine), 3 if engine != "builtin" else 7)  # noqa: B023
            emit(f"draw {engine}", shape, seconds, steps=steps, svg_kb=len(drawing.svg) // 1024)
        shown = summarize(view, 200)
        for engine in engines:
            display = show_graph(job, engine=engine)
            seconds = best_of(lambda: show_graph(job, engine=engine)._repr_mimebundle_(), 3)  # noqa: B023
            emit(f"show_graph {engine}, inline", shape, seconds, steps=steps)
            assert "text/html" in display._repr_mimebundle_()
        for engine in engines:
            seconds = best_of(lambda: draw_svg(shown, engine), 3)  # noqa: B023
            emit(f"draw {engine}, summarised", shape, seconds, nodes=len(shown.nodes))


if __name__ == "__main__":
    main()
