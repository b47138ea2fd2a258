"""list_versions for 500 ops: transitive code versions with helpers vs the immediate body only.

Two generated module files, each a job of 500 distinct ops in a chain:

- ``with helpers``: every op calls 1 to 3 of 20 shared helpers (each helper calls a common
  base helper) and reads a global ``RATE``; the job uses ``SourceHashVersionStrategy()``,
  which follows all of it;
- ``without helpers``: the same ops with the helper calls replaced by arithmetic, on
  ``SourceHashVersionStrategy(follow="immediate")`` (the seeds' behaviour).

Each is measured warm (best of the repetitions, after one call has read every source) and
cold (the first call in a fresh process, which parses every source). Budget (issue 12):
warm with helpers ≤ 1.5 times warm without. Prints one JSON object per row.
Run: ``python bench/code_versions.py``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

OPS = 500
HELPERS = 20
REPEAT = 7
BUDGET = 1.5


def module_text(with_helpers: bool) -> str:
    """The source of a module defining the job ``chain``."""
    rng = random.Random(12)
    lines = [
        "from nbflow import job, op, SourceHashVersionStrategy",
        "",
        "RATE = 2",
        "",
        "def base(x):",
        "    return x + 1",
        "",
    ]
    for k in range(HELPERS):
        lines += [f"def helper_{k}(x):", f"    return base(x) * {k + 1}", ""]
    for i in range(OPS):
        arg = "" if i == 0 else "x"
        value = "1" if i == 0 else "x"
        if with_helpers:
            calls = [f"helper_{k}({value})" for k in rng.sample(range(HELPERS), rng.randint(1, 3))]
            body = " + ".join(calls) + f" * RATE + {i}"
        else:
            body = " + ".join([value] * rng.randint(1, 3)) + f" * 2 + {i}"
        lines += ["@op", f"def op_{i}({arg}):", f"    return {body}", ""]
    strategy = "" if with_helpers else 'follow="immediate"'
    lines += [f"@job(version_strategy=SourceHashVersionStrategy({strategy}))", "def chain():"]
    lines.append("    x = op_0()")
    lines += [f"    x = op_{i}(x)" for i in range(1, OPS)]
    return "\n".join(lines) + "\n"


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module.chain


def measure(path: Path) -> dict[str, float]:
    """Cold (first call) and warm (best of REPEAT) list_versions of the job in ``path``."""
    from nbflow import list_versions

    job = load(path)
    started = time.perf_counter()
    list_versions(job)
    cold = time.perf_counter() - started
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        list_versions(job)
        best = min(best, time.perf_counter() - started)
    return {"cold_ms": round(cold * 1000, 1), "warm_ms": round(best * 1000, 1)}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(Path(sys.argv[2]))))
        return
    with tempfile.TemporaryDirectory() as folder:
        results: dict[str, dict[str, float]] = {}
        for name, with_helpers in (("without helpers", False), ("with helpers", True)):
            path = Path(folder) / f"bench_code_{'helpers' if with_helpers else 'plain'}.py"
            path.write_text(module_text(with_helpers))
            done = subprocess.run(
                [sys.executable, __file__, "--one", str(path)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[name] = json.loads(done.stdout)
            strategy = "transitive" if with_helpers else "immediate"
            print(json.dumps({"workload": f"list_versions {OPS} ops {name}",
                              "strategy": strategy, **results[name]}))  # fmt: skip
        ratio = results["with helpers"]["warm_ms"] / results["without helpers"]["warm_ms"]
        print(json.dumps({"workload": "warm ratio with/without helpers", "ratio": round(ratio, 2),
                          "budget": BUDGET, "met": ratio <= BUDGET}))  # fmt: skip


if __name__ == "__main__":
    main()
