"""Input values fingerprinted once: a memoized run reading one large array from 4 ops.

The job has 4 versioned ops that all read one float64 input value (``input_values`` of the
job, 500 MB by default), memoized in memory. After a first run stores every output, each
round times one fully cached run of the job and the floor a user could write by hand: one
xxh3-128 pass over the array's buffer (``xxhash.xxh3_128_digest``, one thread). The two sides
alternate, and the side that goes first swaps every round. Medians of wall time and of CPU
time (``time.process_time``: all threads of this process; the machine is shared) are printed
with the factor nbflow / floor, for three kinds of array:

- ``writable``: an ordinary array. It may change between runs, so every run hashes it;
  once per run, not once per consuming op and versioning pass.
- ``read-only flag``: an array that owns its memory with ``flags.writeable = False``. The
  flag can be set back to True, so it is treated as writable.
- ``immutable``: an array over a ``bytes`` object (``numpy.frombuffer``), which nothing can
  change: hashed on the first run only, not again while the array lives.

Also printed: the same cached run with a one-element array (the run's cost without
hashing), and a first run (4 ops executing) of each kind.

Run: ``python bench/fingerprint_once.py [megabytes] [rounds]`` (defaults 500 and 7).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash
from floor_row import emit

from nbflow import MEMOIZED_RUN_TAG, JobDefinition, job, op
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Callable

CONSUMERS = 4


def four_readers(value: Any) -> JobDefinition:
    """A memoized job whose 4 ops all read ``value`` (a job-level input value)."""

    def reader(index: int) -> Any:
        @op(name=f"read_{index}", version="1")
        def read(x: Any) -> float:
            return float(x[0])

        return read

    readers = [reader(i) for i in range(CONSUMERS)]

    @job(tags={MEMOIZED_RUN_TAG: "true"}, input_values={"x": value})
    def reads_four_times(x: Any) -> None:
        for read in readers:
            read(x)

    return reads_four_times


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def one_pass(array: Any) -> str:
    return xxhash.xxh3_128_hexdigest(memoryview(array).cast("B"))


def cached_run(job_def: JobDefinition) -> Callable[[], object]:
    def run() -> object:
        result = job_def.execute_in_process()
        skipped = [e for e in result.all_events if e.event_type.name == "STEP_SKIPPED"]
        assert result.success and len(skipped) == CONSUMERS, "the run was not fully cached"
        return result

    return run


def side_by_side(kind: str, array: Any, rounds: int) -> None:
    clear_memoized_values()
    job_def = four_readers(array)
    first = measure(lambda: job_def.execute_in_process())
    sides: dict[str, Callable[[], object]] = {
        "nbflow": cached_run(job_def),
        "floor": lambda: one_pass(array),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    order = list(sides)
    for _ in range(rounds):
        for name in order:
            gc.collect()
            times[name].append(measure(sides[name]))
        order.reverse()
    wall = {name: statistics.median(t[0] for t in found) for name, found in times.items()}
    cpu = {name: statistics.median(t[1] for t in found) for name, found in times.items()}
    print(
        json.dumps(
            {
                "workload": f"fully cached run, 4 ops read one {array.nbytes >> 20} MB array",
                "array": kind,
                "nbflow_s": round(wall["nbflow"], 4),
                "floor_s": round(wall["floor"], 4),
                "factor_wall": round(wall["nbflow"] / wall["floor"], 2),
                "nbflow_cpu_s": round(cpu["nbflow"], 4),
                "floor_cpu_s": round(cpu["floor"], 4),
                "factor_cpu": round(cpu["nbflow"] / cpu["floor"], 2),
                "first_run_s": round(first[0], 4),
            }
        )
    )
    emit(
        f"fully cached memoized run, 4 ops read one {array.nbytes >> 20} MB array ({kind})",
        wall["nbflow"],
        wall["floor"],
        "s",
        "one xxh3-128 pass over the buffer",
        note=f"CPU {cpu['nbflow'] / cpu['floor']:.2f}x",
    )


def run_overhead(rounds: int) -> None:
    clear_memoized_values()
    job_def = four_readers(np.zeros(1))
    job_def.execute_in_process()
    run = cached_run(job_def)
    found = [measure(run) for _ in range(rounds)]
    print(
        json.dumps(
            {
                "workload": "fully cached run, 4 ops read a one-element array (no hashing cost)",
                "nbflow_s": round(statistics.median(t[0] for t in found), 4),
                "nbflow_cpu_s": round(statistics.median(t[1] for t in found), 4),
            }
        )
    )


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    count = (megabytes << 20) // 8
    writable = np.random.default_rng(0).random(count)
    side_by_side("writable", writable, rounds)
    writable.flags.writeable = False
    side_by_side("read-only flag", writable, rounds)
    immutable = np.frombuffer(writable.tobytes(), dtype=writable.dtype)
    del writable
    side_by_side("immutable", immutable, rounds)
    del immutable
    run_overhead(rounds)
    clear_memoized_values()


if __name__ == "__main__":
    main()
