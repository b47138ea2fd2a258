"""Per-step overhead of execute_in_process for chains and fan-out/fan-in of trivial ops.

Prints one JSON object per workload: total seconds (best of the repetitions) and
milliseconds per step. Run: ``python bench/engine_overhead.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from workloads import chain, fan


def best_of(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    for shape, build in (("chain", chain), ("fan", fan)):
        for n in (10, 100, 500):
            job = build(n)
            steps = len(list(job.graph_def.iter_ops()))
            job.execute_in_process()  # warm up
            seconds = best_of(job.execute_in_process, repeat=7)
            print(
                json.dumps(
                    {
                        "workload": f"execute_in_process {shape}",
                        "n": n,
                        "steps": steps,
                        "seconds": round(seconds, 5),
                        "ms_per_step": round(seconds * 1000 / steps, 4),
                    }
                )
            )


if __name__ == "__main__":
    main()
