"""Cold start, side by side with a bare interpreter: ``import nbflow`` and ``nbflow --help``.

Budgets (issue #18): ``import nbflow`` at most 50 ms, ``nbflow --help`` at most 100 ms.

Each round runs, in fresh interpreters and in this order, ``python -c pass``, ``python -c
"import nbflow"``, the ``nbflow --help`` entry point, and a script that defines a 2-op job and
runs it in-process (what loads later than ``import nbflow`` is paid there: it reports import and
definition, then the first run, apart), so machine load falls on every side alike; the figures
are medians over the rounds. For each process it takes the wall time and
the CPU time (user + system, from ``getrusage`` of the finished child), which other work on a
shared machine disturbs far less. The import child also reads the clock and the CPU clock
around ``import nbflow`` itself (nothing imported before), as ``bench/run.py`` does.

Compiled bytecode is kept in a temporary ``-X pycache_prefix`` folder that a first, untimed
run fills: every child runs from bytecode, as an installed package does, even when
``PYTHONDONTWRITEBYTECODE`` is set (without bytecode, each run would compile every module).

Prints one JSON object: per command the median and best wall and CPU milliseconds, each
command's extra over the bare interpreter and its factor, the budgets and whether they are
met, and the modules whose own import time is largest (``python -X importtime``, best of the
rounds). Run: ``python bench/import_time.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from floor_row import emit

IMPORT_BUDGET_MS = 50.0
HELP_BUDGET_MS = 100.0

_TIMED_IMPORT = (
    "import time\n"
    "w, c = time.perf_counter(), time.process_time()\n"
    "import nbflow\n"
    "print(time.perf_counter() - w, time.process_time() - c)\n"
)
_HELP = (
    "import contextlib, io, sys\n"
    "from nbflow.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main(['--help'])\n"
    "sys.exit(code)\n"
)
_DEFINE_AND_RUN = (
    "import time\n"
    "w, c = time.perf_counter(), time.process_time()\n"
    "from nbflow import job, op\n"
    "@op\n"
    "def one():\n"
    "    return 1\n"
    "@op\n"
    "def two(x):\n"
    "    return x + 1\n"
    "@job\n"
    "def chain():\n"
    "    two(one())\n"
    "w1, c1 = time.perf_counter(), time.process_time()\n"
    "assert chain.execute_in_process().success\n"
    "w2, c2 = time.perf_counter(), time.process_time()\n"
    "print(w1 - w, c1 - c, w2 - w1, c2 - c1)\n"
)
COMMANDS = {"bare": "pass", "import": _TIMED_IMPORT, "help": _HELP, "run": _DEFINE_AND_RUN}
LABELS = {
    "bare": "python -c pass",
    "import": "python -c 'import nbflow'",
    "help": "nbflow --help",
    "run": "define a 2-op job and run it in-process",
    "import itself": "import nbflow itself",
    "define": "import and define, in the run's process",
    "first run": "first execute_in_process, in the run's process",
}


class _Child:
    """Runs ``python -c CODE`` with the shared bytecode folder; returns wall and CPU seconds."""

    def __init__(self, pycache: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.pycache = pycache

    def run(self, code: str, *flags: str) -> tuple[float, float, str, str]:
        argv = [sys.executable, "-X", f"pycache_prefix={self.pycache}", *flags, "-c", code]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, done.stdout, done.stderr


def _largest_imports(child: _Child, rounds: int, count: int) -> list[dict[str, object]]:
    """The modules with the largest own import time, best of ``rounds`` runs, in ms."""
    best: dict[str, int] = defaultdict(lambda: sys.maxsize)
    for _ in range(rounds):
        _, _, _, stderr = child.run("import nbflow", "-X", "importtime")
        for line in stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[0].strip().isdigit():
                name = parts[2].strip()
                best[name] = min(best[name], int(parts[0]))
    rows = sorted(best.items(), key=lambda item: -item[1])[:count]
    return [{"module": name, "self_ms": round(us / 1000, 2)} for name, us in rows]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values) * 1000, 1),
        "best_ms": round(min(values) * 1000, 1),
    }


# What the children print, read into the series named here (in this order).
_INSIDE = {"import": ("import itself",), "run": ("define", "first run")}


def _measure(child: _Child, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of every command (and of what the children time inside)."""
    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for name, code in COMMANDS.items():
            seconds, cpu_seconds, stdout, _ = child.run(code)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
            values = iter(map(float, stdout.split()))
            for series in _INSIDE.get(name, ()):
                wall[series].append(next(values))
                cpu[series].append(next(values))
    return wall, cpu


def _report(wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, object]:
    bare_wall = statistics.median(wall["bare"])
    bare_cpu = statistics.median(cpu["bare"])
    report: dict[str, object] = {}
    for name, label in LABELS.items():
        entry: dict[str, object] = {"wall": _ms(wall[name]), "cpu": _ms(cpu[name])}
        if name in ("import", "help", "run"):
            entry["extra_over_bare_ms"] = {
                "wall": round((statistics.median(wall[name]) - bare_wall) * 1000, 1),
                "cpu": round((statistics.median(cpu[name]) - bare_cpu) * 1000, 1),
            }
            entry["factor_over_bare"] = {
                "wall": round(statistics.median(wall[name]) / bare_wall, 2),
                "cpu": round(statistics.median(cpu[name]) / bare_cpu, 2),
            }
        report[label] = entry
    itself_wall = statistics.median(wall["import itself"]) * 1000
    itself_cpu = statistics.median(cpu["import itself"]) * 1000
    help_wall = statistics.median(wall["help"]) * 1000
    report["budgets"] = {
        "import nbflow <= 50 ms (import itself, median wall)": itself_wall <= IMPORT_BUDGET_MS,
        "import nbflow <= 50 ms (import itself, median CPU)": itself_cpu <= IMPORT_BUDGET_MS,
        "nbflow --help <= 100 ms (whole process, median wall)": help_wall <= HELP_BUDGET_MS,
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="nbflow-pycache-") as pycache:
        child = _Child(pycache)
        for code in COMMANDS.values():  # fills the bytecode folder
            child.run(code)
        wall, cpu = _measure(child, rounds)
        largest = _largest_imports(child, min(rounds, 9), 12)
    report = {"workload": "cold start", "rounds": rounds, **_report(wall, cpu)}
    report["largest_self_imports"] = largest
    print(json.dumps(report, indent=1))
    bare = statistics.median(wall["bare"]) * 1000
    itself = statistics.median(wall["import itself"]) * 1000
    for name, budget, what in (
        ("import", IMPORT_BUDGET_MS, f"import itself {itself:.1f} ms"),
        ("help", HELP_BUDGET_MS, None),
    ):
        found = statistics.median(wall[name]) * 1000
        measured = itself if what else found
        verdict = "met" if measured <= budget else "NOT met"
        emit(
            f"`{LABELS[name]}`, whole process",
            found,
            bare,
            "ms",
            "`python -c pass`",
            note=f"{what or 'whole process'}: budget <= {budget:g} ms {verdict}",
        )


if __name__ == "__main__":
    main()
