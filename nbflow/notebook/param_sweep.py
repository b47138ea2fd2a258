"""Parameter sweeps: run a notebook once per point of a parameter grid, memoized per point.

``sweep(path, {"x": [1, 2, 3], "y": ["a", "b"]})`` runs the cartesian product (6 runs) in at
most ``max_concurrent`` worker processes (forkserver on Linux, spawn elsewhere; a single
pending run goes in this process), each run in its own kernel. Executed notebooks are
kept under ``<output_dir>/<notebook>-<code version>/<key>.ipynb`` where ``key`` hashes the
parameter set and the kernel name; a point whose notebook is already there is not run
again, so repeating a sweep runs nothing, widening it runs only the new points, and editing
the notebook's code (not its markdown or outputs) starts a fresh folder. A failed run is
kept as ``<key>.failed.ipynb`` and retried by the next sweep.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import reprlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbflow.notebook.papermill as _papermill
from nbflow.errors import InvalidNotebookError, NotebookError, NotebookRunError
from nbflow.execution.views.table import format_table
from nbflow.notebook.code_version import notebook_code_version, resolve_notebook
from nbflow.notebook.injection import check_parameters, load_notebook
from nbflow.notebook.results import read_results
from nbflow.notebook.runner import notebooks_home, parameters_key, run_notebook
from nbflow.versioning import hash_parts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

RAN, MEMOIZED, FAILED = "ran", "memoized", "failed"
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40


@dataclass(frozen=True)
class SweepRow:
    """One point of a sweep.

    Attributes:
        parameters: the parameter set.
        status: ``"ran"``, ``"memoized"`` (an earlier sweep ran it) or ``"failed"``.
        output_path: the executed notebook.
        results: what the notebook yielded (empty when it failed).
        error: what went wrong, for failed points.
        duration_s: wall time of the run (0 when memoized).
    """

    parameters: dict[str, Any]
    status: str
    output_path: str
    results: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0


@dataclass(frozen=True)
class SweepResult:
    """All points of a sweep, in grid order."""

    notebook_path: str
    code_version: str
    folder: str
    rows: list[SweepRow]
    duration_s: float = 0.0

    @property
    def success(self) -> bool:
        return all(row.status != FAILED for row in self.rows)

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    def table(self) -> str:
        """One row per parameter set: parameters, yielded results, status."""
        params = list(dict.fromkeys(k for row in self.rows for k in row.parameters))
        outputs = list(dict.fromkeys(k for row in self.rows for k in row.results))
        headers = [*params, *outputs, "status"]
        body = [
            [
                *(_cell(row.parameters.get(k, "")) for k in params),
                *(_cell(row.results[k]) if k in row.results else "" for k in outputs),
                _status(row),
            ]
            for row in self.rows
        ]
        return format_table(headers, body)

    def summary(self) -> str:
        return (
            f"Sweep of {Path(self.notebook_path).name}: {len(self.rows)} parameter set(s), "
            f"{self.count(RAN)} ran, {self.count(MEMOIZED)} memoized, {self.count(FAILED)} "
            f"failed in {self.duration_s:.2f} s. Executed notebooks: {self.folder}"
        )

    def __str__(self) -> str:
        return f"{self.table()}\n{self.summary()}"

    def _repr_markdown_(self) -> str:
        """Jupyter shows the table (pipe tables are Markdown) and the summary."""
        return f"{self.table()}\n\n{self.summary()}"


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return _SHORT.repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _status(row: SweepRow) -> str:
    if row.status == RAN:
        return f"ran ({row.duration_s:.1f} s)"
    if row.status == FAILED:
        return f"failed: {row.error}"
    return row.status


def parameter_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in ``grid``, the first name varying slowest.

    Examples:
        >>> parameter_grid({"x": [1, 2], "y": ["a"]})
        [{'x': 1, 'y': 'a'}, {'x': 2, 'y': 'a'}]

    Raises:
        NotebookError: a name has no values, or a string instead of a list of values.
    """
    problems = [
        f"{name!r} has {'a single string' if isinstance(values, str) else 'no values'}"
        for name, values in grid.items()
        if isinstance(values, str | bytes) or not list(values)
    ]
    if problems:
        raise NotebookError(
            f"Cannot build the parameter grid: {'; '.join(problems)}. Expected each name to "
            'map to a list of values.\nFix: sweep(path, {"x": [1, 2, 3], "label": ["a"]}).'
        )
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


@dataclass(frozen=True)
class _Job:
    index: int
    notebook: str
    parameters: dict[str, Any]
    target: str
    kernel_name: str


def _run_job(job: _Job) -> tuple[int, str, str, str | None, float]:
    """Run one point (in a worker process): (index, status, path, error, seconds)."""
    target = Path(job.target)
    partial = target.with_name(f"{target.stem}.partial-{os.getpid()}.ipynb")
    started = time.perf_counter()
    try:
        run_notebook(job.notebook, job.parameters, partial, job.kernel_name, warn=False)
    except NotebookRunError as exc:
        failed = target.with_name(f"{target.stem}.failed.ipynb")
        if partial.is_file():
            os.replace(partial, failed)
        where = f" in cell {exc.cell_index}" if exc.cell_index is not None else ""
        error = f"{exc.ename}: {exc.evalue}{where}"
        return job.index, FAILED, str(failed), error, time.perf_counter() - started
    except Exception as exc:
        partial.unlink(missing_ok=True)
        error = f"{type(exc).__name__}: {exc}"
        return job.index, FAILED, str(target), error, time.perf_counter() - started
    os.replace(partial, target)
    return job.index, RAN, str(target), None, time.perf_counter() - started


def _point_key(parameters: Mapping[str, Any], kernel_name: str) -> str:
    return hash_parts("nbflow.notebook.sweep.v1", kernel_name, parameters_key(parameters))[:16]


def _stored_results(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return read_results(path)
    except InvalidNotebookError:
        return None


def sweep(
    path: str | os.PathLike[str],
    grid: Mapping[str, Sequence[Any]],
    *,
    max_concurrent: int = 2,
    output_dir: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    on_point: Callable[[SweepRow], None] | None = None,
) -> SweepResult:
    """Run the notebook at ``path`` for every parameter set of ``grid``, memoized per set.

    Args:
        path: the notebook.
        grid: parameter name → the values to try; the sweep runs their cartesian product.
        max_concurrent: how many notebooks run at once, each in a worker process.
        output_dir: where executed notebooks are kept; default ``notebooks_home()/sweeps``
            (``./.nbflow/notebooks/sweeps`` unless ``$NBFLOW_HOME`` is set).
        kernel_name: the Jupyter kernel; default ``"python3"``.
        on_point: called with each parameter set's row as soon as it is known: memoized
            ones first, then each run as it ends (the order runs finish in).

    Returns:
        A :class:`SweepResult`; ``print(result)`` shows one row per parameter set. Failed
        points are rows with status ``"failed"``; the sweep itself does not raise for them.

    Raises:
        NotebookNotFoundError, KernelNotFoundError, NotebookParameterError: before any run.
    """
    if max_concurrent < 1:
        raise NotebookError(
            f"max_concurrent={max_concurrent} leaves no worker to run notebooks; expected 1 or "
            "more.\nFix: pass max_concurrent=2 (or the number of notebooks to run at once)."
        )
    started = time.perf_counter()
    source = resolve_notebook(path)
    points = parameter_grid(grid)
    kernel = _papermill.kernel_record(kernel_name or _papermill.DEFAULT_KERNEL)
    check_parameters(load_notebook(source), dict.fromkeys(grid), source.name)
    code_version = notebook_code_version(source)
    base = Path(output_dir) if output_dir is not None else notebooks_home() / "sweeps"
    folder = base.expanduser().absolute() / f"{source.stem}-{code_version[:12]}"
    folder.mkdir(parents=True, exist_ok=True)

    rows: dict[int, SweepRow] = {}
    todo: list[_Job] = []
    for index, params in enumerate(points):
        target = folder / f"{_point_key(params, kernel['name'])}.ipynb"
        stored = _stored_results(target)
        if stored is not None:
            rows[index] = SweepRow(params, MEMOIZED, str(target), stored)
            if on_point is not None:
                on_point(rows[index])
        else:
            todo.append(_Job(index, str(source), params, str(target), kernel["name"]))
    for index, status, output, error, seconds in _execute(todo, max_concurrent):
        params = points[index]
        results = (_stored_results(Path(output)) or {}) if status == RAN else {}
        rows[index] = SweepRow(params, status, output, results, error, seconds)
        if on_point is not None:
            on_point(rows[index])
    return SweepResult(
        notebook_path=str(source),
        code_version=code_version,
        folder=str(folder),
        rows=[rows[i] for i in range(len(points))],
        duration_s=time.perf_counter() - started,
    )


def _pool_context() -> Any:
    """forkserver on Linux, with this module (papermill, nbformat) imported once in the
    server so workers start warm; spawn elsewhere. Both are safe inside a Jupyter kernel."""
    if sys.platform.startswith("linux"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _execute(
    jobs: list[_Job], max_concurrent: int
) -> Iterator[tuple[int, str, str, str | None, float]]:
    """Run ``jobs`` and yield each outcome as it ends: in this process when one worker would
    do, else in a process pool."""
    workers = min(max_concurrent, len(jobs))
    if workers <= 1:
        yield from (_run_job(job) for job in jobs)
        return
    context = _pool_context()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = {pool.submit(_run_job, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker process died
                yield job.index, FAILED, job.target, f"{type(exc).__name__}: {exc}", 0.0
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
