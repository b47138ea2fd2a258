"""Fingerprints at memory speed: nbflow's fingerprint of large values against xxh3 by hand.

The floor is what a user could write: one ``xxhash.xxh3_128_digest`` call over each buffer
(a 500 MB float64 array's memory; each column of a 240 MB numeric DataFrame), one thread.
nbflow's ``fingerprint`` hashes the same buffers in 4 MiB chunks (several threads from
16 MiB) and adds dtype, shape, labels and index. Target: at least 4 GB/s. Sides alternate,
medians of ``rounds``; the figure is GB/s (higher is better).

Prints one JSON object per value and one ``floor_row`` line each (``floor_row.py``).
Run: ``python bench/fingerprint_floor.py [rounds]`` (default 7).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import xxhash
from floor_row import emit

from nbflow.versioning import fingerprint

TARGET_GB_S = 4.0


def by_hand(buffers: list[Any]) -> list[bytes]:
    return [xxhash.xxh3_128_digest(memoryview(b).cast("B")) for b in buffers]


def gb_per_s(fn: Any, nbytes: int, rounds: int, other: Any) -> tuple[float, float]:
    ours, theirs = [], []
    for round_ in range(rounds):
        for side in ("nbflow", "floor") if round_ % 2 == 0 else ("floor", "nbflow"):
            started = time.perf_counter()
            (fn if side == "nbflow" else other)()
            (ours if side == "nbflow" else theirs).append(time.perf_counter() - started)
    return nbytes / statistics.median(ours) / 1e9, nbytes / statistics.median(theirs) / 1e9


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rng = np.random.default_rng(0)
    array = rng.random(500 * 1_000_000 // 8)
    frame = pd.DataFrame({f"c{i}": rng.random(6_000_000) for i in range(5)})
    values = {
        "500 MB float64 array": (array, [array]),
        "240 MB numeric DataFrame (5 columns)": (
            frame,
            [np.ascontiguousarray(frame[c].to_numpy()) for c in frame.columns],
        ),
    }
    for name, (value, buffers) in values.items():
        nbytes = sum(b.nbytes for b in buffers)
        fingerprint(value)  # warm: xxhash imported, pages touched
        ours, floor = gb_per_s(
            lambda v=value: fingerprint(v), nbytes, rounds, lambda b=buffers: by_hand(b)
        )
        print(
            json.dumps(
                {"value": name, "nbflow_gb_s": round(ours, 2), "floor_gb_s": round(floor, 2)}
            )
        )
        emit(
            f"fingerprint of a {name}",
            ours,
            floor,
            "GB/s",
            "one xxh3-128 call per buffer, one thread",
            higher_is_better=True,
            note=f"target >= {TARGET_GB_S:g} GB/s: {'met' if ours >= TARGET_GB_S else 'NOT met'}",
        )


if __name__ == "__main__":
    main()
