"""What following redefined ops costs: ``current_job`` on a job of 500 distinct ops.

The ops are defined at the top level of a generated module, as in a notebook, and chained by
an ``@job``. Rows: the first look at a job (finding the definitions it follows, once per
job), the check when nothing was redefined (every run pays it), the check when
the rebuilt job is cached (one op redefined earlier), rebuilding after one op is redefined,
rebuilding after a re-run of the same definition (a cell run again without edits), and
``list_versions`` on the job with and without a redefined op. Prints one JSON object per row.
Run: ``python bench/redefinition.py``.
"""

from __future__ import annotations

import itertools
import json
import linecache
import sys
import time
import types
from typing import Any

from nbflow import SourceHashVersionStrategy, list_versions
from nbflow.definitions.redefinition import current_job

N = 500


_cells = itertools.count()


def _run_cell(source: str, module: types.ModuleType) -> None:
    """Run ``source`` in ``module`` as IPython runs a cell: its own file name, in linecache."""
    filename = f"<bench cell {next(_cells)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)


def _module(n: int) -> types.ModuleType:
    lines = ["from nbflow import job, op", "", "@op", "def op_0():", "    return 0", ""]
    for i in range(1, n):
        lines += ["@op", f"def op_{i}(x):", f"    return x + {i}", ""]
    calls = "\n".join(f"    x = op_{i}(x)" for i in range(1, n))
    lines += ["@job(version_strategy=STRATEGY)", "def chain():", "    x = op_0()", calls, ""]
    module = types.ModuleType("bench_redefinition_ops")
    module.STRATEGY = SourceHashVersionStrategy()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    _run_cell("\n".join(lines), module)
    return module


def _redefine(module: types.ModuleType, i: int, body: str) -> None:
    _run_cell(f"@op\ndef op_{i}(x):\n    return {body}\n", module)


def best(fn: Any, setup: Any = lambda: None, repeat: int = 7, number: int = 1) -> float:
    times = []
    for _ in range(repeat):
        setup()
        started = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - started) / number)
    return min(times)


def report(workload: str, seconds: float) -> None:
    row = {
        "workload": workload,
        "seconds": round(seconds, 7),
        "ops": N,
        "us_per_op": round(seconds / N * 1e6, 4),
    }
    print(json.dumps(row))


def main() -> None:
    module = _module(N)
    job = module.chain
    copies = iter([job.with_hooks(()) for _ in range(7)])  # new jobs: nothing known about them
    report("current_job, first look at a job", best(lambda: current_job(next(copies))))
    current_job(job)
    report("current_job, nothing redefined", best(lambda: current_job(job), number=200))
    listed = best(lambda: list_versions(job))
    report("list_versions, nothing redefined", listed)

    counter = iter(range(10**6))

    def redefine_one() -> None:
        _redefine(module, N // 2, f"x + {next(counter)}")

    report("rebuild after one op is redefined", best(lambda: current_job(job), redefine_one))
    report("current_job, rebuilt job cached", best(lambda: current_job(job), number=200))
    report("list_versions, one op redefined", best(lambda: list_versions(job)))

    def rerun_same() -> None:
        _redefine(module, N // 2, "x + 1")

    report("rebuild after a cell re-run without edits", best(lambda: current_job(job), rerun_same))


if __name__ == "__main__":
    main()
