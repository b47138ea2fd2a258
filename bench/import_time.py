"""How long ``import nbflow`` takes in a fresh interpreter (budget: 100 ms), and what it loads.

Prints one JSON object: the median and best milliseconds of the import itself, timed inside
fresh interpreters (``perf_counter`` around ``import nbflow``, nothing imported before, as
``bench/run.py`` measures it), the whole process's extra wall time over a bare interpreter
(teardown included), and the modules whose own import time is largest
(``python -X importtime``). Run: ``python bench/import_time.py``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

RUNS = 15


def _wall_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


_TIMED = "import time; t = time.perf_counter(); import nbflow; print(time.perf_counter() - t)"


def _inside_seconds() -> float:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED], check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def _largest_imports(count: int) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import nbflow"],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        rows.append({"module": parts[2].strip(), "self_ms": int(parts[0]) / 1000})
    rows.sort(key=lambda row: -float(str(row["self_ms"])))
    return rows[:count]


def main() -> None:
    inside = [_inside_seconds() for _ in range(RUNS)]
    bare = [_wall_seconds("pass") for _ in range(RUNS)]
    with_nbflow = [_wall_seconds("import nbflow") for _ in range(RUNS)]
    floor = statistics.median(bare)
    print(
        json.dumps(
            {
                "workload": "import nbflow",
                "runs": RUNS,
                "median_ms": round(statistics.median(inside) * 1000, 1),
                "best_ms": round(min(inside) * 1000, 1),
                "process_extra_median_ms": round(
                    (statistics.median(with_nbflow) - floor) * 1000, 1
                ),
                "budget_ms": 100,
                "largest_self_imports": _largest_imports(8),
            }
        )
    )


if __name__ == "__main__":
    main()
