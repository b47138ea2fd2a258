"""What a run pays before its first step for 500 ops: run-config validation and version parts;
and what the memo plan costs next to ``list_versions`` on the same stored chain of 500 ops.

Prints one JSON object per workload with the best of the repetitions in milliseconds.
Run: ``python bench/planning.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from nbflow import MEMOIZED_RUN_TAG, Instance, list_versions, versioned_filesystem_io_manager
from nbflow.config import Field, Noneable, Shape
from nbflow.execution.views.memo_plan import plan_run
from nbflow.versioning import VALUE_SOURCE, VersionParts, config_fingerprints

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "sides"))
from _protocol import chain_config
from workloads import chain

OPS = 500
REPEAT = 20


def best_ms(fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 3)


def config_schema() -> Shape:
    op_config = {
        "a": Field(int, default_value=1),
        "b": Field(str, default_value="x"),
        "c": Noneable(float),
    }
    return Shape({f"op{i}": {"config": op_config} for i in range(OPS)})


def version_parts() -> None:
    config = config_fingerprints({"tree_species": "oak", "n": 3, "sizes": [1, 2]})
    upstream = "e" * 40
    for index in range(OPS):
        VersionParts.build(
            op_version="a" * 40,
            output_name="result",
            config=config,
            resources={"db": "v1", "io_manager": None},
            inputs={"tree": (f"step_{index}.result", upstream), "n": (VALUE_SOURCE, upstream)},
        )


def memo_plan_workloads(folder: str) -> dict[str, object]:
    """list_versions and plan_run of a stored chain of 500 on a SQLite instance, with history.

    ``recent``: one full run, then two runs that changed only the last op (the plan reads
    all three runs to time the steps memoized since the first). ``full``: five full runs
    (each step's three newest times are in the three newest runs).
    """
    job_def = chain(
        OPS - 1,
        versioned=True,
        tags={MEMOIZED_RUN_TAG: "true"},
        resource_defs={"io_manager": versioned_filesystem_io_manager},
    )
    recent = Instance.local(Path(folder) / "recent")
    for leaf in (0, 1, 2):
        job_def.execute_in_process(run_config=chain_config(OPS - 1, leaf=leaf), instance=recent)
    full = Instance.local(Path(folder) / "full")
    for root in range(5):
        job_def.execute_in_process(run_config=chain_config(OPS - 1, root=root), instance=full)
    changed = chain_config(OPS - 1, leaf=3)
    plan = plan_run(job_def, changed, recent)
    assert plan.to_run == (f"step_{OPS - 2}",) and plan.saved_seconds is not None, plan.summary()
    return {
        "list_versions (stored chain, SQLite instance)": lambda: list_versions(
            job_def, changed, recent
        ),
        "memo plan (history: 1 full run + 2 leaf runs)": lambda: plan_run(job_def, changed, recent),
        "memo plan (history: 5 full runs)": lambda: plan_run(job_def, changed, full),
    }


def main() -> None:
    schema = config_schema()
    given = {f"op{i}": {"config": {"a": i, "b": "y", "c": 1.5}} for i in range(OPS)}
    workloads = {
        "validate run config (all given)": lambda: schema.validate(given, ("root",), []),
        "validate run config (defaults filled)": lambda: schema.validate({}, ("root",), []),
        "build version parts": version_parts,
    }
    for name, fn in workloads.items():
        print(json.dumps({"workload": name, "ops": OPS, "best_ms": best_ms(fn)}))
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-plan-") as folder:
        for name, fn in memo_plan_workloads(folder).items():
            print(json.dumps({"workload": name, "ops": OPS, "best_ms": best_ms(fn)}))


if __name__ == "__main__":
    main()
