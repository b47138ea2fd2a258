"""Overhead of ``nbflow job execute``'s progress lines on a 500-step chain.

Runs the CLI's code path (``nbflow.cli.main``) in this process with stdout going to
/dev/null (not a terminal: plain step lines, flushed per line) against ``--quiet`` (no
listener, only the summary), alternating the two sides; prints one JSON object with the
medians and the overhead. Budget: progress at most 10 % over ``--quiet``.
Run: ``python bench/cli_progress.py [--steps 500] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from nbflow.cli import main

CHAIN = """
from nbflow import job, op

@op
def s0():
    return 0

def _next(i):
    @op(name=f"s{{i}}")
    def step(x):
        return x + 1
    return step

STEPS = [_next(i) for i in range(1, {steps})]

@job
def chain():
    value = s0()
    for step in STEPS:
        value = step(value)
"""


def timed_run(job_file: Path, *extra: str) -> float:
    argv = ["job", "execute", "-f", os.fspath(job_file), "-j", "chain", "--executor", "in_process"]
    argv += extra
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        code = main(argv)
        took = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the run failed (exit code {code})")
    return took


def measure(steps: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["NBFLOW_HOME"] = os.path.join(folder, "home")
        job_file = Path(folder) / "chain.py"
        job_file.write_text(CHAIN.format(steps=steps))
        timed_run(job_file, "--quiet")  # warm up: imports, the SQLite file
        progress: list[float] = []
        quiet: list[float] = []
        for i in range(rounds):
            sides = [("progress", ()), ("quiet", ("--quiet",))]
            for side, extra in sides if i % 2 == 0 else reversed(sides):
                (progress if side == "progress" else quiet).append(timed_run(job_file, *extra))
    with_progress, without = statistics.median(progress), statistics.median(quiet)
    return {
        "bench": "cli_progress",
        "steps": steps,
        "rounds": rounds,
        "progress_median_s": round(with_progress, 4),
        "quiet_median_s": round(without, 4),
        "overhead_pct": round((with_progress / without - 1) * 100, 2),
        "budget_pct": 10,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print(json.dumps(measure(args.steps, args.rounds)))
