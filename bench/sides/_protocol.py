"""What the two side drivers share: command line, timing, memory, and the JSON they print.

Standard library only: the nbflow side runs it with the machine's Python, the Dagster side
with the benchmark virtual environment's.

A side is run as ``python SIDE.py WORKLOAD [--state DIR] [--profile]`` and prints one JSON
object on its last stdout line::

    {"workload": "chain:500", "seconds": {"run": 0.021}, "info": {"steps": 501}}

``seconds`` maps a measurement name to seconds (or megabytes for memory workloads); ``info``
holds facts that explain the measurement (step counts, steps executed, which API was timed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# The measured run is repeated while it stays cheap: at most this many times, and no new run
# starts once this much time went into the repetitions.
MAX_INNER_RUNS = 3
INNER_TIME_BUDGET_S = 2.0


@dataclass
class Measured:
    """What a workload measured: named values (seconds, or MB) and explanatory facts."""

    seconds: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Options:
    workload: str
    state: str | None
    profile: bool


class Profiler:
    """Profiles only the measured calls, when ``--profile`` is given."""

    def __init__(self, enabled: bool) -> None:
        self.profile = cProfile.Profile() if enabled else None

    def call(self, fn: Callable[[], Any]) -> Any:
        if self.profile is None:
            return fn()
        self.profile.enable()
        try:
            return fn()
        finally:
            self.profile.disable()

    def report(self, top: int = 25) -> str | None:
        if self.profile is None:
            return None
        out = io.StringIO()
        stats = pstats.Stats(self.profile, stream=out)
        stats.sort_stats("cumulative").print_stats(top)
        out.write("\n--- by own time ---\n")
        stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description="Run one benchmark workload and print JSON.")
    parser.add_argument("workload", help="e.g. import, chain:500, fan:100, memo:cached")
    parser.add_argument("--state", help="folder kept by the driver across repetitions")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured calls")
    args = parser.parse_args()
    return Options(args.workload, args.state, args.profile)


# CPU seconds of every timed call: with other work on the machine, wall time can grow while
# the work itself stays the same; the report shows both.
CPU_SECONDS: list[float] = []


def timed(fn: Callable[[], Any], profiler: Profiler | None = None) -> tuple[float, Any]:
    """Seconds one call of ``fn`` takes, and what it returned."""
    cpu = time.process_time()
    started = time.perf_counter()
    value = fn() if profiler is None else profiler.call(fn)
    seconds = time.perf_counter() - started
    CPU_SECONDS.append(time.process_time() - cpu)
    return seconds, value


def repeated(fn: Callable[[], Any], profiler: Profiler | None = None) -> tuple[float, int, Any]:
    """Median seconds of up to ``MAX_INNER_RUNS`` calls of ``fn``, how many ran, and what the
    last one returned."""
    times: list[float] = []
    value = None
    while len(times) < MAX_INNER_RUNS and sum(times) < INNER_TIME_BUDGET_S:
        seconds, value = timed(fn, profiler)
        times.append(seconds)
    return statistics.median(times), len(times), value


def peak_rss_mb() -> float:
    """High-water resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(workload: str, measured: Measured, profiler: Profiler) -> None:
    if CPU_SECONDS and "cpu_seconds" not in measured.info:
        measured.info["cpu_seconds"] = statistics.median(CPU_SECONDS)
    report = profiler.report()
    if report is not None:
        measured.info["profile"] = report
    row = {"workload": workload, "seconds": measured.seconds, "info": measured.info}
    print(json.dumps(row), flush=True)


def split(workload: str) -> tuple[str, str]:
    """``"chain:500"`` → ``("chain", "500")``; ``"import"`` → ``("import", "")``."""
    kind, _, arg = workload.partition(":")
    return kind, arg


def chain_config(n: int, root: int = 0, leaf: int = 0) -> dict[str, Any]:
    """Run config of a versioned chain: seeds of its first op and of its last ``step``."""
    return {
        "ops": {"source": {"config": {"seed": root}}, f"step_{n - 1}": {"config": {"seed": leaf}}}
    }


# A seed no measured run uses: warm-up runs of memoized jobs store other versions.
WARM_UP_SEED = 12345
