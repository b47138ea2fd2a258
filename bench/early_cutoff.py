"""What early cutoff costs: fingerprinting step outputs, against pickling them.

After a memoized step runs, each output that is cheap to fingerprint is fingerprinted
(``nbflow.versioning.output_fingerprint``). The issue's budget: for a 1e6-row DataFrame,
at most 10 % of a pickle dump of the same value. Also measured: a numeric array, a frame
with a string column, and Python containers at the element limit (``MAX_ELEMENTS``), above
which values are not fingerprinted. Prints one JSON object per row (best of 7).
Run: ``python bench/early_cutoff.py``.
"""

from __future__ import annotations

import json
import pickle
import time
from typing import Any

import numpy as np
import pandas as pd

from nbflow.versioning.output_fingerprint import MAX_ELEMENTS, output_fingerprint


def best(fn: Any, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def numeric_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"f{i}": rng.random(rows) for i in range(4)})
    frame["i"] = np.arange(rows)
    frame["t"] = pd.date_range("2020-01-01", periods=rows, freq="s")
    return frame


def row(workload: str, value: Any) -> None:
    assert output_fingerprint(value) is not None, workload
    fingerprint_s = best(lambda: output_fingerprint(value))
    pickle_s = best(lambda: pickle.dumps(value, protocol=5))
    print(
        json.dumps(
            {
                "workload": workload,
                "fingerprint_ms": round(fingerprint_s * 1000, 2),
                "pickle_dumps_ms": round(pickle_s * 1000, 2),
                "ratio": round(fingerprint_s / pickle_s, 3),
            }
        )
    )


def main() -> None:
    frame = numeric_frame(1_000_000)
    row("DataFrame 1e6 rows x 6 numeric/datetime columns (budget ratio <= 0.10)", frame)
    with_text = frame.assign(s=[f"key{i % 1000}" for i in range(len(frame))])
    row("DataFrame 1e6 rows + a string column", with_text)
    row("float64 array, 100 MB", np.random.default_rng(1).random(12_500_000))
    row(f"list of {MAX_ELEMENTS - 1} ints (the element limit)", list(range(MAX_ELEMENTS - 1)))
    records = [{"id": i, "name": f"n{i}"} for i in range((MAX_ELEMENTS - 1) // 5)]
    row(f"list of {len(records)} small dicts (the element limit)", records)


if __name__ == "__main__":
    main()
