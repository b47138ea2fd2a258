"""Filesystem IO managers against the floor of hand-written pickle files, on local disk.

The floor of storing is ``pickle.dump`` of each value into its own file + ``fsync``; of
loading, ``pickle.load`` from the open file. Rows (one JSON object each), then one
``floor_row`` line per budget (``floor_row.py``: the figures, the factor, whether it is met):

- ``store`` / ``load``: one value (a 1e7-row, 3-column DataFrame; a 200 MB float array)
  through ``FilesystemIOManager`` against the floor, timed in one warm process;
- ``memory``: the peak extra memory of storing and of loading each value (resident-set
  high-water mark, reset just before the call, in a fresh child process per measurement);
  a load's extra memory includes the loaded value itself;
- ``job``: first run and fully cached re-run of a memoized 3-op job passing both values,
  against the floor (the three outputs pickled to files with fsync) and ``joblib.Memory``
  caching the same three functions (when joblib is installed);
- ``small_ops``: a memoized first run of a chain of 200 small ops against one pickle.dump +
  fsync per step (with the CPU time of nbflow's run: the part no faster disk would remove);
- ``parquet``: a DataFrame stored and loaded by ``FilesystemIOManager`` as Parquet
  (``parquet_frames``) against as pickle: time and size on disk.

Every comparison alternates the sides, and which side goes first, after one warm-up round
of each (on a virtual machine, memory touched for the first time costs far more than memory
used before, so a fixed order favours the side that runs second); figures are medians.

Run: ``python bench/io.py [repeats]`` (default 5).
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

ROWS = 10_000_000
ARRAY_BYTES = 200 * 1024 * 1024
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 5

BUDGETS = {
    "first_run_ratio": 1.3,
    "small_ops_ratio": 1.5,
    "load_ratio": 1.2,
    "extra_memory_per_payload": 1.1,
}


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


def make_value(kind: str) -> Any:
    return make_frame() if kind == "frame" else make_array()


def payload_bytes(kind: str) -> int:
    return ROWS * (8 + 8 + 4) if kind == "frame" else ARRAY_BYTES


def floor_store(path: Path, value: Any) -> None:
    with open(path, "wb") as handle:
        pickle.dump(value, handle, protocol=5)
        handle.flush()
        os.fsync(handle.fileno())


def floor_load(path: Path) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _ctx(cls: Any) -> Any:
    return cls(step_key="value", name="result", version="v1")


def nbflow_store(base: Path, value: Any, **options: Any) -> None:
    from nbflow import OutputContext
    from nbflow.storage import FilesystemIOManager

    FilesystemIOManager(base, **options).handle_output(_ctx(OutputContext), value)


def nbflow_load(base: Path, **options: Any) -> Any:
    from nbflow import InputContext, OutputContext
    from nbflow.storage import FilesystemIOManager

    context = InputContext(name="x", step_key="d", upstream_output=_ctx(OutputContext))
    return FilesystemIOManager(base, **options).load_input(context)


def alternate(sides: dict[str, Callable[[], float]], repeats: int = REPEATS) -> dict[str, float]:
    """Median seconds of each side: one warm-up call each, then ``repeats`` rounds, the
    order of the sides reversed every other round."""
    names = list(sides)
    for name in names:
        sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else reversed(names):
            times[name].append(sides[name]())
    return {name: statistics.median(found) for name, found in times.items()}


def timed(fn: Callable[[], Any], after: Callable[[], Any] | None = None) -> Callable[[], float]:
    """A side that times ``fn`` and then runs ``after`` (untimed clean-up)."""

    def side() -> float:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if after is not None:
            after()
        return elapsed

    return side


def bench_values(folder: Path) -> list[dict[str, Any]]:
    import nbflow.storage  # noqa: F401  (imported before anything is timed)

    rows = []
    for kind in ("frame", "array"):
        rows += _bench_kind(folder, kind)
    return rows


def _bench_kind(folder: Path, kind: str) -> list[dict[str, Any]]:
    held = [make_value(kind)]
    floor_path, store_dir = folder / "floor.pkl", folder / "store"
    stored = alternate(
        {
            "floor": timed(lambda: floor_store(floor_path, held[0]), floor_path.unlink),
            "nbflow": timed(
                lambda: nbflow_store(store_dir, held[0]), lambda: shutil.rmtree(store_dir)
            ),
        }
    )
    floor_store(floor_path, held[0])
    nbflow_store(store_dir, held[0])
    held.clear()
    loaded = alternate(
        {
            "floor": timed(lambda: floor_load(floor_path)),
            "nbflow": timed(lambda: nbflow_load(store_dir)),
        }
    )
    floor_path.unlink()
    shutil.rmtree(store_dir)
    return [
        {
            "row": what,
            "value": kind,
            "payload_mb": round(payload_bytes(kind) / 1e6, 1),
            "floor_s": round(found["floor"], 4),
            "nbflow_s": round(found["nbflow"], 4),
            "ratio": round(found["nbflow"] / found["floor"], 2),
        }
        for what, found in (("store", stored), ("load", loaded))
    ]


CHILD = """
import gc, importlib.util, json
from pathlib import Path
spec = importlib.util.spec_from_file_location("io_bench", {bench!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
import nbflow.storage
side, what, target = {side!r}, {what!r}, Path({target!r})
value = bench.make_value({kind!r})
store = bench.floor_store if side == "floor" else bench.nbflow_store
if what == "load":
    store(target, value)
    del value
    load = bench.floor_load if side == "floor" else bench.nbflow_load
gc.collect()
before = bench.reset_peak()
if what == "store":
    store(target, value)
else:
    loaded = load(target)
print(json.dumps(bench.peak_kb() - before))
"""


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Reset this process's resident-set high-water mark (Linux); return the current RSS in KB."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kb("VmRSS")


def peak_kb() -> int:
    """The resident-set high-water mark since the last :func:`reset_peak`, in KB."""
    return _status_kb("VmHWM")


def bench_memory(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for kind in ("frame", "array"):
        for what in ("store", "load"):
            extra: dict[str, int] = {}
            for side in ("floor", "nbflow"):
                target = folder / ("floor.pkl" if side == "floor" else "store")
                code = CHILD.format(
                    bench=str(Path(__file__)), kind=kind, side=side, what=what, target=str(target)
                )
                done = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                )
                extra[side] = int(json.loads(done.stdout)) * 1024
                shutil.rmtree(folder / "store", ignore_errors=True)
                (folder / "floor.pkl").unlink(missing_ok=True)
            rows.append(
                {
                    "row": "memory",
                    "what": what,
                    "value": kind,
                    "payload_mb": round(payload_bytes(kind) / 1e6, 1),
                    "floor_extra_mb": round(extra["floor"] / 1e6, 1),
                    "nbflow_extra_mb": round(extra["nbflow"] / 1e6, 1),
                    "nbflow_extra_per_payload": round(extra["nbflow"] / payload_bytes(kind), 2),
                }
            )
    return rows


def bench_job(folder: Path) -> dict[str, Any]:  # noqa: C901, PLR0915
    from nbflow import Instance, SourceHashVersionStrategy, job, op

    frame, array = make_frame(), make_array()

    def frame_value() -> Any:
        return frame

    def array_value() -> Any:
        return array

    def combined(load_frame: Any, load_array: Any) -> float:
        return float(load_frame["a"].iloc[0] + load_array[0])

    load_frame = op(name="load_frame")(frame_value)
    load_array = op(name="load_array")(array_value)
    combine = op(name="combine")(combined)

    @job(version_strategy=SourceHashVersionStrategy())
    def three() -> None:
        combine(load_frame(), load_array())

    homes = iter(range(10**6))
    cached_times: list[float] = []

    def nbflow_first() -> float:
        home = folder / f"home{next(homes)}"
        start = time.perf_counter()
        assert three.execute_in_process(instance=Instance.local(home)).success
        first = time.perf_counter() - start
        start = time.perf_counter()
        assert three.execute_in_process(instance=Instance.local(home)).success
        cached_times.append(time.perf_counter() - start)
        clean()
        return first

    def floor() -> None:
        floor_store(folder / "f1", frame_value())
        floor_store(folder / "f2", array_value())
        floor_store(folder / "f3", combined(frame, array))

    def clean() -> None:
        for path in folder.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    sides = {"floor": timed(floor, clean), "nbflow": nbflow_first}
    joblib_cached: list[float] = []
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        locations = iter(range(10**6))

        def joblib_first() -> float:
            memory = joblib.Memory(folder / f"joblib{next(locations)}", verbose=0)
            steps = [memory.cache(fn) for fn in (frame_value, array_value, combined)]

            def run() -> None:
                steps[2](steps[0](), steps[1]())

            start = time.perf_counter()
            run()
            first = time.perf_counter() - start
            start = time.perf_counter()
            run()
            joblib_cached.append(time.perf_counter() - start)
            clean()
            return first

        sides["joblib"] = joblib_first
    found = alternate(sides)
    row: dict[str, Any] = {
        "row": "job",
        "floor_s": round(found["floor"], 4),
        "first_run_s": round(found["nbflow"], 4),
        "first_run_ratio": round(found["nbflow"] / found["floor"], 2),
        "cached_rerun_s": round(statistics.median(cached_times[1:]), 4),
    }
    if joblib is not None:
        row |= {
            "joblib_first_run_s": round(found["joblib"], 4),
            "joblib_first_run_ratio": round(found["joblib"] / found["floor"], 2),
            "joblib_cached_rerun_s": round(statistics.median(joblib_cached[1:]), 4),
        }
    return row


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

    homes = iter(range(10**6))
    cpu: list[float] = []

    def nbflow_run() -> None:
        start = time.process_time()
        assert chain.execute_in_process(instance=Instance.local(folder / f"small{next(homes)}"))
        cpu.append(time.process_time() - start)

    def floor() -> None:
        for k in range(n):
            floor_store(folder / f"s{k}", k)

    def clean() -> None:
        for path in folder.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    found = alternate({"floor": timed(floor, clean), "nbflow": timed(nbflow_run, clean)})
    return {
        "row": "small_ops",
        "ops": n,
        "floor_s": round(found["floor"], 4),
        "nbflow_s": round(found["nbflow"], 4),
        "nbflow_cpu_s": round(statistics.median(cpu[1:]), 4),
        "ratio": round(found["nbflow"] / found["floor"], 2),
    }


def bench_parquet(folder: Path) -> dict[str, Any]:
    frame = make_frame()
    sizes: dict[str, int] = {}

    def round_trip(name: str, parquet: bool) -> Callable[[], float]:
        base = folder / name

        def run() -> None:
            nbflow_store(base, frame, parquet_frames=parquet)
            nbflow_load(base, parquet_frames=parquet)

        def clean() -> None:
            sizes[name] = sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
            shutil.rmtree(base)

        return timed(run, clean)

    found = alternate(
        {"parquet": round_trip("parquet", True), "pickle": round_trip("pickle", False)}
    )
    return {
        "row": "parquet",
        "parquet_round_trip_s": round(found["parquet"], 4),
        "pickle_round_trip_s": round(found["pickle"], 4),
        "parquet_mb": round(sizes["parquet"] / 1e6, 1),
        "pickle_mb": round(sizes["pickle"] / 1e6, 1),
    }


def budgets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each budget of the rows as a floor row (see ``floor_row.py``): the figures, the floor
    and the largest factor allowed."""
    found: list[dict[str, Any]] = []

    def add(comparison: str, ours: float, floor: float, unit: str, name: str, limit: float) -> None:
        found.append(
            {
                "comparison": comparison,
                "nbflow": ours,
                "floor": floor,
                "unit": unit,
                "floor_name": name,
                "target": limit,
            }
        )

    for row in rows:
        if row["row"] == "job":
            name = "pickle.dump + fsync per output"
            if "joblib_first_run_s" in row:
                name += f"; joblib.Memory {row['joblib_first_run_s']:.3g} s"
            add(
                "3-op job (1e7-row frame, 200 MB array): first memoized run",
                row["first_run_s"],
                row["floor_s"],
                "s",
                name,
                BUDGETS["first_run_ratio"],
            )
        elif row["row"] == "small_ops":
            add(
                f"memoized first run of {row['ops']} small ops",
                row["nbflow_s"],
                row["floor_s"],
                "s",
                "pickle.dump + fsync per step",
                BUDGETS["small_ops_ratio"],
            )
        elif row["row"] == "load":
            add(
                f"load {row['value']} ({row['payload_mb']} MB)",
                row["nbflow_s"],
                row["floor_s"],
                "s",
                "pickle.load from the open file",
                BUDGETS["load_ratio"],
            )
        elif row["row"] == "memory":
            add(
                f"peak extra memory, {row['what']} {row['value']}",
                row["nbflow_extra_mb"],
                row["payload_mb"],
                "MB",
                "the payload itself",
                BUDGETS["extra_memory_per_payload"],
            )
        elif row["row"] == "parquet":
            add(
                "DataFrame round trip as Parquet",
                row["parquet_round_trip_s"],
                row["pickle_round_trip_s"],
                "s",
                "the same as pickle",
                1.0,
            )
            add(
                "DataFrame on disk as Parquet",
                row["parquet_mb"],
                row["pickle_mb"],
                "MB",
                "the same as pickle",
                1.0,
            )
    return found


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="nbflow-io-bench-", dir=os.environ.get("BENCH_DIR")))
    rows: list[dict[str, Any]] = []
    try:
        for bench in (bench_values, bench_memory):
            for row in bench(folder):
                rows.append(row)
                print(json.dumps(row), flush=True)
        for single in (bench_job, bench_small_ops, bench_parquet):
            rows.append(single(folder))
            print(json.dumps(rows[-1]), flush=True)
        from floor_row import emit  # here: the memory children load this file without bench/

        for budget in budgets(rows):
            emit(**budget)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
