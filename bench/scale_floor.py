"""What plain Python pays per op at 1,000 and at 20,000 ops, without nbflow: the floor under
``bench/scale.py``'s growth factors.

Two workloads, each size in a fresh process, ``gc.collect()`` before each timed run (as
``bench/scale.py`` does), CPU time, medians:

- ``gc``: a "job" of about 40 tracked objects per op lives in the process; a "run" makes 30
  short-lived tracked objects per op and keeps ``KEPT`` of them per op until it ends (a
  memoized re-run keeps about 11: its plan's step, the version parts, the event). Timed with
  the garbage collector on and paused. Once a run leaves more survivors than a quarter of
  the heap, CPython 3.11 makes a full collection of every tracked object, which at 20,000
  ops is a walk through a heap far larger than the CPU caches.
- ``lookups``: 1,000 lookups spread over ``n`` entries, each through a str-keyed dict of
  small objects and a tuple-keyed dict, as ``output_for_node`` does. At 20,000 entries, after
  a collection has walked the heap, each lookup misses the caches several times.

Prints one JSON object per workload and mode.
Run: ``python bench/scale_floor.py``.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Any

SIZES = (1_000, 20_000)
KEPT = 11
RUNS = 5
PROCESSES = 3
LOOKUPS = 1_000


class Record:
    __slots__ = ("a", "b")

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b


def job(n: int) -> list[list[Record]]:
    """About 41 tracked objects per op (a record and a list each, in a list)."""
    return [[Record(i, [j]) for j in range(20)] for i in range(n)]


def run(n: int) -> list[list[Record]]:
    """30 short-lived tracked objects per op; ``KEPT`` kept until the run ends."""
    kept = []
    for i in range(n):
        made = [Record(i, {"x": [i]}) for _ in range(10)]
        kept.append([Record(i, [r.a]) for r in made[: (KEPT - 1) // 2]])
    return kept


def gc_per_op(n: int, paused: bool) -> float:
    hold = job(n)
    times = []
    for _ in range(RUNS):
        gc.collect()
        if paused:
            gc.disable()
        try:
            started = time.process_time()
            run(n)
            times.append(time.process_time() - started)
        finally:
            gc.enable()
    del hold
    return statistics.median(times) / n


def lookups_per_op(n: int, collect: bool) -> float:
    names = [f"step_{i}" for i in range(n)]
    nodes = {name: Record(name, "op") for name in names}
    outputs = {(name, "result"): i for i, name in enumerate(names)}
    hold = job(n)  # the rest of a job, which a collection walks through
    keys = [f"step_{i * (n // LOOKUPS)}" for i in range(LOOKUPS)]
    times = []
    for _ in range(RUNS * 10):
        if collect:
            gc.collect()
        started = time.process_time()
        for key in keys:
            node = nodes[key]
            outputs.get((node.a, "result"))
        times.append(time.process_time() - started)
    del hold
    return statistics.median(times) / LOOKUPS


def one(workload: str, n: int, mode: str) -> float:
    if workload == "gc":
        return gc_per_op(n, paused=mode == "paused")
    return lookups_per_op(n, collect=mode == "after a collection")


def main() -> None:
    cases = [("gc", "on"), ("gc", "paused"), ("lookups", "after a collection"), ("lookups", "warm")]
    for workload, mode in cases:
        seconds: dict[int, list[float]] = {n: [] for n in SIZES}
        for _ in range(PROCESSES):  # alternate the sizes, each in a fresh process
            for n in SIZES:
                command = [sys.executable, __file__, "--one", workload, str(n), mode]
                seconds[n].append(float(subprocess.check_output(command, text=True)))
        low, high = (statistics.median(seconds[n]) for n in SIZES)
        row = {
            "workload": workload,
            "mode": mode,
            f"us_per_op_{SIZES[0]}": round(low * 1e6, 3),
            f"us_per_op_{SIZES[1]}": round(high * 1e6, 3),
            "growth": round(high / low, 2),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(one(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        main()
