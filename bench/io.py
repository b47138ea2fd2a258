"""Filesystem IO managers against the floor of hand-written pickle files, on local disk.

Sides alternate within one run; medians of ``REPEATS``. Rows (one JSON object each):

- ``store`` / ``load``: one value (a 1e7-row, 3-column DataFrame; a 200 MB float array)
  through ``FilesystemIOManager`` vs ``pickle.dump`` + fsync / ``pickle.load`` from the open
  file, and the peak extra memory of each (ru_maxrss delta, in a child process);
- ``job``: first run and fully cached re-run of a memoized 3-op job passing both values;
- ``small_ops``: a memoized first run of a chain of 200 small ops vs one pickle.dump +
  fsync per step;
- ``parquet``: DataFrame round trip and size as Parquet vs pickle.

Run: ``python bench/io.py [repeats]``. ``joblib.Memory`` is compared only if installed.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = 10_000_000
ARRAY_BYTES = 200 * 1024 * 1024
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def make_frame() -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.random(ROWS), "b": np.arange(ROWS), "c": rng.random(ROWS).astype("float32")}
    )


def make_array() -> Any:
    import numpy as np

    return np.random.default_rng(1).random(ARRAY_BYTES // 8)


def floor_store(path: Path, value: Any) -> None:
    with open(path, "wb") as handle:
        pickle.dump(value, handle, protocol=5)
        handle.flush()
        os.fsync(handle.fileno())


def floor_load(path: Path) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def nbflow_store(base: Path, value: Any) -> None:
    from nbflow import OutputContext
    from nbflow.storage import FilesystemIOManager

    FilesystemIOManager(base).handle_output(_ctx(OutputContext), value)


def nbflow_load(base: Path) -> Any:
    from nbflow import InputContext, OutputContext
    from nbflow.storage import FilesystemIOManager

    context = InputContext(name="x", step_key="d", upstream_output=_ctx(OutputContext))
    return FilesystemIOManager(base).load_input(context)


def _ctx(cls: Any) -> Any:
    return cls(step_key="value", name="result", version="v1")


CHILD = """
import gc, importlib.util, resource, time
from pathlib import Path
spec = importlib.util.spec_from_file_location("io_bench", {bench!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
value = bench.make_frame() if {kind!r} == "frame" else bench.make_array()
side, what, target = {side!r}, {what!r}, {target!r}
store = bench.floor_store if side == "floor" else bench.nbflow_store
if what == "load":
    store(Path(target), value)
    del value
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if what == "store":
    store(Path(target), value)
else:
    loaded = bench.floor_load(Path(target)) if side == "floor" else bench.nbflow_load(Path(target))
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, (after - before) * 1024)
"""


def child_measure(kind: str, side: str, what: str, folder: Path) -> tuple[float, int]:
    target = folder / ("floor.pkl" if side == "floor" else "store")
    code = CHILD.format(
        bench=str(Path(__file__)), kind=kind, side=side, what=what, target=str(target)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed, extra = done.stdout.split()
    shutil.rmtree(folder / "store", ignore_errors=True)
    (folder / "floor.pkl").unlink(missing_ok=True)
    return float(elapsed), int(extra)


def payload_bytes(kind: str) -> int:
    return ROWS * (8 + 8 + 4) if kind == "frame" else ARRAY_BYTES


def bench_values(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for kind in ("frame", "array"):
        for what in ("store", "load"):
            times: dict[str, list[float]] = {"floor": [], "nbflow": []}
            memory: dict[str, list[int]] = {"floor": [], "nbflow": []}
            for _ in range(REPEATS):
                for side in ("floor", "nbflow"):
                    elapsed, extra = child_measure(kind, side, what, folder)
                    times[side].append(elapsed)
                    memory[side].append(extra)
            floor, ours = statistics.median(times["floor"]), statistics.median(times["nbflow"])
            extra = statistics.median(memory["nbflow"])
            rows.append(
                {
                    "row": what,
                    "value": kind,
                    "floor_s": round(floor, 4),
                    "nbflow_s": round(ours, 4),
                    "ratio": round(ours / floor, 2),
                    "payload_mb": round(payload_bytes(kind) / 1e6, 1),
                    "floor_extra_mb": round(statistics.median(memory["floor"]) / 1e6, 1),
                    "nbflow_extra_mb": round(extra / 1e6, 1),
                    "nbflow_extra_per_payload": round(extra / payload_bytes(kind), 2),
                }
            )
    return rows


def bench_job(folder: Path) -> dict[str, Any]:
    from nbflow import Instance, SourceHashVersionStrategy, job, op

    frame, array = make_frame(), make_array()

    @op
    def load_frame() -> Any:
        return frame

    @op
    def load_array() -> Any:
        return array

    @op
    def combine(load_frame: Any, load_array: Any) -> float:
        return float(load_frame["a"].iloc[0] + load_array[0])

    @job(version_strategy=SourceHashVersionStrategy())
    def three() -> None:
        combine(load_frame(), load_array())

    first, cached, floor = [], [], []
    for i in range(REPEATS):
        home = folder / f"home{i}"
        start = time.perf_counter()
        three.execute_in_process(instance=Instance.local(home))
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        three.execute_in_process(instance=Instance.local(home))
        cached.append(time.perf_counter() - start)
        shutil.rmtree(home)
        start = time.perf_counter()
        floor_store(folder / "f1", frame)
        floor_store(folder / "f2", array)
        floor_store(folder / "f3", float(frame["a"].iloc[0] + array[0]))
        floor.append(time.perf_counter() - start)
        for name in ("f1", "f2", "f3"):
            (folder / name).unlink()
    return {
        "row": "job",
        "floor_s": round(statistics.median(floor), 4),
        "first_run_s": round(statistics.median(first), 4),
        "first_run_ratio": round(statistics.median(first) / statistics.median(floor), 2),
        "cached_rerun_s": round(statistics.median(cached), 4),
    }


def bench_small_ops(folder: Path, n: int = 200) -> dict[str, Any]:
    from nbflow import In, Instance, SourceHashVersionStrategy, job, op

    @op
    def step_0() -> int:
        return 0

    ops = [step_0]
    for i in range(1, n):

        @op(name=f"step_{i}", ins={"x": In()})
        def step(x: int) -> int:
            return x + 1

        ops.append(step)

    @job(version_strategy=SourceHashVersionStrategy())
    def chain() -> None:
        value = ops[0]()
        for one in ops[1:]:
            value = one(value)

    ours, floor = [], []
    for i in range(REPEATS):
        home = folder / f"small{i}"
        start = time.perf_counter()
        assert chain.execute_in_process(instance=Instance.local(home)).success
        ours.append(time.perf_counter() - start)
        shutil.rmtree(home)
        start = time.perf_counter()
        for k in range(n):
            floor_store(folder / f"s{k}", k)
        floor.append(time.perf_counter() - start)
        for k in range(n):
            (folder / f"s{k}").unlink()
    return {
        "row": "small_ops",
        "ops": n,
        "floor_s": round(statistics.median(floor), 4),
        "nbflow_s": round(statistics.median(ours), 4),
        "ratio": round(statistics.median(ours) / statistics.median(floor), 2),
    }


def bench_parquet(folder: Path) -> dict[str, Any]:
    from nbflow.storage.checksum_io import HashingWriter
    from nbflow.storage.frame_format import read_frame, write_frame

    frame = make_frame()
    pq_times, pk_times = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        with open(folder / "p.parquet", "wb") as handle:
            sink = HashingWriter(handle)
            write_frame(frame, sink)
        read_frame(folder / "p.parquet", sink.size)
        pq_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        floor_store(folder / "p.pkl", frame)
        floor_load(folder / "p.pkl")
        pk_times.append(time.perf_counter() - start)
    row = {
        "row": "parquet",
        "parquet_round_trip_s": round(statistics.median(pq_times), 4),
        "pickle_round_trip_s": round(statistics.median(pk_times), 4),
        "parquet_mb": round((folder / "p.parquet").stat().st_size / 1e6, 1),
        "pickle_mb": round((folder / "p.pkl").stat().st_size / 1e6, 1),
    }
    return row


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="nbflow-io-bench-", dir=os.environ.get("BENCH_DIR")))
    try:
        for row in bench_values(folder):
            print(json.dumps(row), flush=True)
        print(json.dumps(bench_job(folder)), flush=True)
        print(json.dumps(bench_small_ops(folder)), flush=True)
        print(json.dumps(bench_parquet(folder)), flush=True)
        try:
            import joblib  # noqa: F401
        except ImportError:
            print(json.dumps({"row": "joblib", "skipped": "joblib is not installed"}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
