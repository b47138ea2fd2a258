"""nbflow against what a user could write by hand on the same machine: a section of RESULTS.md.

Runs each benchmark of :data:`SCRIPTS` in a process of its own, one after another (each
alternates its own sides and takes medians), and gathers the ``floor_row`` lines they print
(see ``floor_row.py``) into one table: nbflow's figure, the floor's, the factor, and the
target where the issue that asked for the comparison set one.

``bench/run.py`` runs it after the Dagster comparison; alone, ``python bench/floors.py
[--only TEXT]`` prints the section (``--only``: scripts whose name contains TEXT).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
TIMEOUT_SECONDS = 1800

SCRIPTS: list[tuple[str, ...]] = [
    ("import_time.py",),
    ("io.py", "3"),
    ("multiprocess.py",),
    ("fork_server.py",),
    ("fingerprint_floor.py",),
    ("fingerprint_once.py", "500", "5"),
    ("scale.py",),
    ("memory_budget.py",),
]
"""Each benchmark with its arguments, in the order the table lists them."""


def run_script(args: tuple[str, ...]) -> tuple[list[dict[str, Any]], str, float]:
    """The floor rows ``args`` printed, its error output's tail if it failed, and its seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BENCH / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    rows = []
    for line in done.stdout.splitlines():
        if line.startswith('{"floor_row"'):
            rows.append(json.loads(line)["floor_row"])
    failure = ""
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no error output)"])[-1]
        failure = last if len(last) <= 200 else last[:200] + " …"
    return rows, failure, time.perf_counter() - started


def _figure(value: float, unit: str) -> str:
    if unit == "s" and value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} {unit}"


def _verdict(row: dict[str, Any]) -> str:
    if row["target"] is None:
        return ""
    word = "met" if row["met"] else "**NOT met**"
    return f"≤ {row['target']:g}x: {word}"


def section(only: str | None = None, log: Any = print) -> list[str]:
    """The markdown lines of the section (running every script)."""
    lines = [
        "## Against hand-written floors",
        "",
        "What a user could write by hand on the same machine, side by side with nbflow (each "
        "benchmark alternates the sides and takes medians; see its docstring). Factor: "
        "nbflow's figure over the floor's (for speeds, the floor's over nbflow's), so 1 is "
        "the floor and higher is slower.",
        "",
        "| comparison | nbflow | floor | factor | target | note |",
        "|---|---:|---|---:|---|---|",
    ]
    failures = []
    for args in SCRIPTS:
        if only and only not in args[0]:
            continue
        log(f"floors: {' '.join(args)}")
        rows, failure, seconds = run_script(args)
        log(f"floors: {args[0]}: {len(rows)} rows in {seconds:.0f} s")
        if failure:
            failures.append(f"- `{' '.join(args)}` failed: {failure}")
        for row in rows:
            floor = f"{_figure(row['floor'], row['unit'])} ({row['floor_name']})"
            lines.append(
                f"| {row['comparison']} | {_figure(row['nbflow'], row['unit'])} | {floor} | "
                f"{row['factor']:.2f}x | {_verdict(row)} | {row['note']} |"
            )
    if failures:
        lines += ["", "Benchmarks that failed:", *failures]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the scripts whose name contains this")
    args = parser.parse_args()
    print("\n".join(section(args.only, log=lambda text: print(text, file=sys.stderr))))


if __name__ == "__main__":
    main()
