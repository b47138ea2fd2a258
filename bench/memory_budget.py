"""Memory held by in-memory memoization after many config tweaks, against the live data.

A 320 MB job (4 ops, each output an 80 MB array) runs 16 times in one process, its root op's
config changed each time, as a user tweaking a parameter in a notebook would: every run makes
new versions of every output. Without a limit the in-memory store kept all 16 versions of
every output (5.1 GB for 320 MB of live data). Measured: the bytes the store keeps after the
16 runs (``nbflow.storage.memory_usage()``), under a 1 GB budget and under the default budget
(a quarter of physical memory), against the budget.

Prints one JSON object per budget and one ``floor_row`` line each (``floor_row.py``).
Run: ``python bench/memory_budget.py``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from floor_row import emit

from nbflow import In, job, op
from nbflow.storage import clear_memoized_values, memory_usage, set_memory_budget

TWEAKS = 16
OUTPUT_BYTES = 80 * 1024 * 1024


def make_job() -> Any:
    @op(version="1", config_schema={"factor": float})
    def load(context: Any) -> np.ndarray:
        return np.full(OUTPUT_BYTES // 8, context.op_config["factor"])

    @op(version="1", ins={"values": In()})
    def shift(values: np.ndarray) -> np.ndarray:
        return values + 1.0

    @op(version="1", ins={"values": In()})
    def square(values: np.ndarray) -> np.ndarray:
        return values * values

    @op(version="1", ins={"values": In()})
    def total(values: np.ndarray) -> np.ndarray:
        return np.cumsum(values)

    @job
    def tweaked() -> None:
        total(square(shift(load())))

    return tweaked


def held_after_tweaks(budget: str | None) -> dict[str, Any]:
    clear_memoized_values()
    set_memory_budget(budget)
    tweaked = make_job()
    for k in range(TWEAKS):
        config = {"ops": {"load": {"config": {"factor": float(k)}}}}
        tags = {"nbflow/is_memoized_run": "true"}
        assert tweaked.execute_in_process(run_config=config, tags=tags)
    usage = memory_usage()
    live = 4 * OUTPUT_BYTES
    row = {
        "budget": budget or "default",
        "budget_bytes": usage.budget,
        "kept_bytes": usage.nbytes,
        "kept_values": len(usage.values),
        "live_bytes": live,
        "kept_per_live": round(usage.nbytes / live, 2),
    }
    clear_memoized_values()
    set_memory_budget(None)
    return row


def main() -> None:
    for budget in ("1GB", None):
        row = held_after_tweaks(budget)
        print(json.dumps(row), flush=True)
        emit(
            f"in-memory memoization, {TWEAKS} config tweaks of a 320 MB job, "
            f"{row['budget']} budget",
            row["kept_bytes"] / 1e6,
            row["budget_bytes"] / 1e6,
            "MB",
            f"the budget; live data {row['live_bytes'] / 1e6:.0f} MB",
            target=1.0,
            note=f"{row['kept_values']} values kept, {row['kept_per_live']}x the live data",
        )


if __name__ == "__main__":
    main()
