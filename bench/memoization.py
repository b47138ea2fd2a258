"""Memoized execution and list_versions costs.

A chain of 100 ops, each with a version and a small config, memoized in memory:
first run, fully cached re-run, leaf config change, root config change. Then
``list_versions`` on chains of 100 and 500 ops. Prints one JSON object per row.
Run: ``python bench/memoization.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from workloads import chain

from nbflow import MEMOIZED_RUN_TAG, list_versions
from nbflow.storage import clear_memoized_values


def _config(n: int, root: int = 0, leaf: int = 0) -> dict[str, Any]:
    """Seeds for the first and last op of a chain of ``n``; the rest take defaults."""
    return {
        "ops": {"source": {"config": {"seed": root}}, f"step_{n - 1}": {"config": {"seed": leaf}}}
    }


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def best(fn: Any, setup: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        setup()
        times.append(timed(fn))
    return min(times)


def report(workload: str, seconds: float, steps: int) -> None:
    row = {"workload": workload, "seconds": round(seconds, 5), "steps": steps}
    print(json.dumps(row))


def main() -> None:
    n = 100
    job = chain(n, tags={MEMOIZED_RUN_TAG: "true"}, versioned=True)
    base = _config(n)

    def fresh() -> None:
        clear_memoized_values()

    def primed() -> None:
        clear_memoized_values()
        job.execute_in_process(run_config=base)

    cases = [
        ("first run", base, fresh),
        ("fully cached re-run", base, primed),
        ("leaf config change", _config(n, leaf=1), primed),
        ("root config change", _config(n, root=1), primed),
    ]
    for label, config, setup in cases:
        seconds = best(lambda c=config: job.execute_in_process(run_config=c), setup)
        report(f"memoized chain {n}: {label}", seconds, n + 1)
    for size in (100, 500):
        listed = chain(size, tags={MEMOIZED_RUN_TAG: "true"}, versioned=True)
        config = _config(size)
        listed.execute_in_process(run_config=config)
        seconds = best(lambda j=listed, c=config: list_versions(j, c), lambda: None)
        report(f"list_versions {size}", seconds, size + 1)


if __name__ == "__main__":
    main()
