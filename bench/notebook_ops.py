"""Costs of running notebooks through nbflow, against a bare papermill API call.

Prints one JSON object per measurement:

- per-notebook overhead of a notebook op (a one-op job, parameters injected, results read
  back, executed notebook kept) against ``papermill.execute_notebook`` on the same notebook
  with the same parameter (budget: within 10 %). Runs alternate, so drift in machine load
  hits both sides alike; medians are reported. Kernel start-up varies by a few hundred ms
  from run to run, so the op run's time outside ``papermill.execute_notebook`` (nbflow's
  own cost: the job, reading and hashing the notebook, injecting parameters, reading
  results back, recording metadata) is reported too; it is the stable figure.
- sweep throughput: 8 parameter sets at max_concurrent 2 (notebooks/s, wall time including
  worker start), the same sweep again (all memoized), and 8 sequential bare papermill runs
  for scale.

Run: ``python bench/notebook_ops.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill

from nbflow import job
from nbflow.notebook import define_notebook_op, sweep

KERNEL = "python3"


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def write_notebook(folder: Path) -> Path:
    """A small notebook: a parameters cell, a little work, one yielded result."""
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Bench notebook"),
            parameters,
            nbformat.v4.new_code_cell("total = sum(i * x for i in range(10_000))"),
            nbformat.v4.new_code_cell(
                "from nbflow.notebook import yield_result\nyield_result(total)"
            ),
        ],
        metadata={"kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"}},
    )
    path = folder / "bench.ipynb"
    nbformat.write(nb, path)
    return path


def bare_papermill(notebook: Path, output: Path, x: int) -> float:
    started = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(output), parameters={"x": x}, kernel_name=KERNEL, progress_bar=False
    )
    return time.perf_counter() - started


def per_notebook_overhead(notebook: Path, folder: Path, pairs: int) -> None:
    bench_op = define_notebook_op(
        notebook, config_schema={"x": int}, output_notebook_dir=folder / "op"
    )

    @job
    def one_notebook() -> None:
        bench_op()

    inside: list[float] = []  # seconds spent inside papermill.execute_notebook, per op run
    own: list[float] = []  # the rest of each op run: nbflow's own cost per notebook

    def op_run(x: int) -> float:
        inside.clear()
        started = time.perf_counter()
        config = {"ops": {"bench": {"config": {"x": x}}}}
        result = one_notebook.execute_in_process(run_config=config)
        seconds = time.perf_counter() - started
        assert result.success and result.output_for_node("bench") == 49_995_000 * x
        own.append(seconds - sum(inside))
        return seconds

    real_execute = papermill.execute_notebook

    def timed_execute(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_execute(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - started)

    papermill.execute_notebook = timed_execute  # nbflow.notebook.papermill calls it from here

    bare_papermill(notebook, folder / "warm.ipynb", 1)  # imports and caches, both sides
    op_run(1)
    own.clear()
    bare: list[float] = []
    ours: list[float] = []
    for i in range(pairs):
        first, second = (bare, ours) if i % 2 == 0 else (ours, bare)
        for side in (first, second):
            x = i + 2
            if side is bare:
                bare.append(bare_papermill(notebook, folder / f"bare-{i}.ipynb", x))
            else:
                ours.append(op_run(x))
    bare_s, ours_s = statistics.median(bare), statistics.median(ours)
    emit(
        workload="notebook op vs bare papermill.execute_notebook, one small notebook",
        pairs=pairs,
        papermill_median_s=round(bare_s, 3),
        notebook_op_median_s=round(ours_s, 3),
        overhead_ms=round((ours_s - bare_s) * 1000, 1),
        overhead_pct=round((ours_s / bare_s - 1) * 100, 1),
        budget_pct=10.0,
        nbflow_own_ms_median=round(statistics.median(own) * 1000, 1),
        nbflow_own_pct_of_papermill=round(statistics.median(own) / bare_s * 100, 2),
    )
    papermill.execute_notebook = real_execute


def sweep_throughput(notebook: Path, folder: Path) -> None:
    grid = {"x": list(range(1, 9))}
    started = time.perf_counter()
    result = sweep(notebook, grid, max_concurrent=2, output_dir=folder / "sweep")
    wall = time.perf_counter() - started
    assert result.success and result.count("ran") == 8, result
    started = time.perf_counter()
    again = sweep(notebook, grid, max_concurrent=2, output_dir=folder / "sweep")
    memoized = time.perf_counter() - started
    assert again.count("memoized") == 8
    sequential = sum(bare_papermill(notebook, folder / f"seq-{x}.ipynb", x) for x in grid["x"])
    emit(
        workload="sweep, 8 parameter sets, max_concurrent 2",
        seconds=round(wall, 3),
        notebooks_per_s=round(8 / wall, 2),
        memoized_resweep_seconds=round(memoized, 3),
        sequential_bare_papermill_seconds=round(sequential, 3),
        speedup_vs_sequential=round(sequential / wall, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=6, help="alternating run pairs (default 6)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-") as tmp:
        folder = Path(tmp)
        notebook = write_notebook(folder)
        per_notebook_overhead(notebook, folder, args.pairs)
        sweep_throughput(notebook, folder)


if __name__ == "__main__":
    main()
