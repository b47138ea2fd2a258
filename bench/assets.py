"""materialize_to_memory of a chain of 100 assets (each reads the one before).

Prints JSON lines: a plain run, and a fully memoized re-run in the same process.
Run: ``python bench/assets.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from nbflow import MEMOIZED_RUN_TAG, AssetIn, AssetsDefinition, asset, materialize_to_memory
from nbflow.storage import clear_memoized_values


def asset_chain(n: int) -> list[AssetsDefinition]:
    """``a_0`` → ``a_1`` → … → ``a_{n-1}``, each adding one."""

    @asset(name="a_0", code_version="1")
    def first() -> int:
        return 0

    chain = [first]
    for i in range(1, n):

        @asset(name=f"a_{i}", code_version="1", ins={"previous": AssetIn(key=f"a_{i - 1}")})
        def step(previous: int) -> int:
            return previous + 1

        chain.append(step)
    return chain


def best(fn: Any, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    n = 100
    assets = asset_chain(n)
    assert materialize_to_memory(assets).asset_value(f"a_{n - 1}") == n - 1
    plain = best(lambda: materialize_to_memory(assets))
    print(json.dumps({"workload": f"materialize_to_memory {n} assets", "seconds": round(plain, 5)}))
    clear_memoized_values()
    tags = {MEMOIZED_RUN_TAG: "true"}
    materialize_to_memory(assets, tags=tags)
    cached = best(lambda: materialize_to_memory(assets, tags=tags))
    print(
        json.dumps(
            {"workload": f"materialize_to_memory {n} assets, memoized", "seconds": round(cached, 5)}
        )
    )


if __name__ == "__main__":
    main()
