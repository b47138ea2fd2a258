"""What isolating memoized in-memory values costs: storing them, and each read.

A memoized value kept in memory must not change when a consumer mutates its input, so
every read hands out an independent copy. Two ways to do that are measured on three values
of about 100 MB each: a NumPy float64 array, a DataFrame of 1e6 rows and 13 float64
columns, and a list of 1e6 small dicts.

- ``pickle``: what nbflow does (``nbflow.storage.frozen``): store = pickle protocol 5 with
  out-of-band buffers copied (into huge-page memory maps on Linux); read = unpickle onto new
  copies of the buffers.
- ``pickle-bytearray``: the same, with every buffer copied into a plain ``bytearray``.
- ``deepcopy``: copy-on-read; store = ``copy.deepcopy``, read = ``copy.deepcopy``.

Then ``InMemoryIOManager`` itself: ``handle_output`` (store) and ``load_input`` (read) of a
versioned output, against handing the object on as is (what it did before; 0 ms).

Prints one JSON object per row (times in ms, best of ``--repeat``).
Run: ``python bench/isolation.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import pickle
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nbflow.definitions.io_manager import InputContext, OutputContext
from nbflow.storage import InMemoryIOManager, clear_memoized_values
from nbflow.storage.frozen import freeze

if TYPE_CHECKING:
    from collections.abc import Callable

MB = 1_000_000
ROWS = 1_000_000


def values() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {
        "ndarray_100MB": rng.random(100 * MB // 8),
        "dataframe_1e6x13": pd.DataFrame({f"c{i}": rng.random(ROWS) for i in range(13)}),
        "dicts_1e6": [{"id": i, "name": f"n{i}", "score": i * 0.5} for i in range(ROWS)],
    }


def size_mb(value: Any) -> float:
    if isinstance(value, np.ndarray):
        return value.nbytes / MB
    if isinstance(value, pd.DataFrame):
        return float(value.memory_usage(deep=True).sum()) / MB
    return len(pickle.dumps(value, protocol=5)) / MB  # as pickled


def best_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, result


def pickle_bytearray_store(value: Any) -> tuple[bytes, list[bytearray]]:
    views: list[pickle.PickleBuffer] = []
    data = pickle.dumps(value, protocol=5, buffer_callback=views.append)
    return data, [bytearray(v.raw()) for v in views]


def pickle_bytearray_read(stored: tuple[bytes, list[bytearray]]) -> Any:
    data, buffers = stored
    return pickle.loads(data, buffers=[bytearray(b) for b in buffers])


def strategies() -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    return {
        "pickle": (freeze, lambda stored: stored.thaw()),
        "pickle-bytearray": (pickle_bytearray_store, pickle_bytearray_read),
        "deepcopy": (copy.deepcopy, copy.deepcopy),
    }


def io_manager_rows(name: str, value: Any, repeat: int) -> dict[str, Any]:
    manager = InMemoryIOManager()
    out = OutputContext(step_key="produce", name="result", version="v1")
    read = InputContext(name="x", step_key="consume", upstream_output=out)
    store_ms, _ = best_ms(lambda: manager.handle_output(out, value), repeat)
    read_ms, _ = best_ms(lambda: manager.load_input(read), repeat)
    clear_memoized_values()
    return {
        "value": name,
        "how": "InMemoryIOManager",
        "store_ms": round(store_ms, 1),
        "per_read_ms": round(read_ms, 1),
        "zero_copy_read_ms": 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    for name, value in values().items():
        mb = round(size_mb(value), 1)
        for how, (store, read) in strategies().items():
            print(json.dumps(strategy_row(name, mb, how, store, read, value, repeat)), flush=True)
        print(json.dumps(io_manager_rows(name, value, repeat)), flush=True)


def strategy_row(
    name: str,
    mb: float,
    how: str,
    store: Callable[[Any], Any],
    read: Callable[[Any], Any],
    value: Any,
    repeat: int,
) -> dict[str, Any]:
    store_ms, stored = best_ms(lambda: store(value), repeat)
    read_ms, copied = best_ms(lambda: read(stored), repeat)
    assert copied is not value
    return {
        "value": name,
        "size_mb": mb,
        "how": how,
        "store_ms": round(store_ms, 1),
        "per_read_ms": round(read_ms, 1),
    }


if __name__ == "__main__":
    main()
