"""Out-of-process execution costs: the multiprocess budget workload and per-step overheads.

Prints one JSON object per measurement:

- 8 ops x 0.5 s sleep at max_concurrent 2 (budget <= 2.4 s wall, ideal 2.0 s);
- per-step process start (STEP_WORKER_STARTING in the parent to STEP_WORKER_STARTED in the
  step process), forkserver (preloaded) and spawn, with ``process_per_step``;
- tiny ops, 2 at a time: 200 independent ones and a chain of 50, in warm workers and with
  ``process_per_step``, side by side (alternating, medians) with a warm
  ``ProcessPoolExecutor`` (forkserver) calling a builtin function as many times;
- per-step overhead of a chain of trivial ops, multiprocess and Dask (an existing
  LocalCluster with 2 worker processes), and the start of a LocalCluster per run;
- Dask against its floor, side by side on one LocalCluster (2 worker processes, one thread
  each; alternating, medians): 200 independent tiny ops and 64 independent ops sleeping
  50 ms, each against ``client.submit`` of as many plain calls and ``client.gather``
  (targets: <= 1.5x and <= 1.1x), and against the same calls each storing its value
  durably (pickle, fsync, rename: what every nbflow step's output costs at least).

Run: ``python bench/multiprocess.py`` (``python bench/multiprocess.py dask``: the Dask
side-by-side alone).
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import pickle
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

import floor_row

from nbflow import EventType, execute_job, job, multiprocess_executor, op
from nbflow.dask import dask_executor


def sleepers(count: int, seconds: float) -> Any:
    def make(i: int) -> Any:
        @op(name=f"sleep_{i}")
        def sleeper() -> int:
            time.sleep(seconds)
            return i

        return sleeper

    ops = [make(i) for i in range(count)]

    @job(executor_def=multiprocess_executor)
    def sleepers_job() -> None:
        for sleeper in ops:
            sleeper()

    return sleepers_job


def chain(count: int, executor_def: Any) -> Any:
    @op
    def start() -> int:
        return 0

    @op
    def step(value: int) -> int:
        return value + 1

    @job(name=f"chain_{count}", executor_def=executor_def)
    def chain_job() -> None:
        value = start()
        for i in range(count - 1):
            value = step.alias(f"step_{i}")(value)

    return chain_job


def timed(job_def: Any, run_config: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = execute_job(job_def, run_config=run_config)
    return time.perf_counter() - started, result


def start_latencies_ms(result: Any) -> list[float]:
    launched = {
        e.step_key: e.timestamp
        for e in result.all_events
        if e.event_type is EventType.STEP_WORKER_STARTING
    }
    return sorted(
        (e.timestamp - launched[e.step_key]) * 1000
        for e in result.all_events
        if e.event_type is EventType.STEP_WORKER_STARTED
    )


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def budget_workload() -> None:
    config = {"execution": {"config": {"max_concurrent": 2}}}
    for count, seconds, target in ((8, 0.5, 1.2), (64, 0.05, 1.05)):
        job_def = sleepers(count, seconds)
        cold, _ = timed(job_def, config)  # includes starting the fork server
        walls = [timed(job_def, config)[0] for _ in range(3)]
        ideal = count * seconds / 2
        emit(
            workload=f"multiprocess {count} ops x {seconds} s, max_concurrent 2",
            seconds=round(min(walls), 3),
            median_seconds=round(statistics.median(walls), 3),
            first_run_seconds=round(cold, 3),
            ideal_seconds=ideal,
        )
        floor_row.emit(
            f"multiprocess, {count} ops x {seconds * 1000:g} ms, 2 at a time",
            statistics.median(walls),
            ideal,
            "s",
            "the ideal: the sleeps alone, 2 at a time",
            target=target,
            note=f"first run (fork server start) {cold:.2f} s",
        )


def process_start() -> None:
    for method in ("forkserver", "spawn"):
        options = {"max_concurrent": 1, "start_method": {method: {}}, "process_per_step": True}
        config = {"execution": {"config": options}}
        job_def = chain(10, multiprocess_executor)
        timed(job_def, config)  # warm up
        seconds, result = timed(job_def, config)
        latencies = start_latencies_ms(result)
        emit(
            workload=f"multiprocess per-step process start ({method})",
            median_ms=round(statistics.median(latencies), 1),
            max_ms=round(max(latencies), 1),
            chain_ms_per_step=round(seconds * 1000 / 10, 1),
        )


def independent(count: int, executor_def: Any = multiprocess_executor, seconds: float = 0.0) -> Any:
    def make(i: int) -> Any:
        @op(name=f"tiny_{i}")
        def tiny() -> int:
            if seconds:
                time.sleep(seconds)
            return i

        return tiny

    ops = [make(i) for i in range(count)]

    @job(name=f"independent_{count}", executor_def=executor_def)
    def independent_job() -> None:
        for tiny in ops:
            tiny()

    return independent_job


def tiny_ops(repeats: int = 5) -> None:
    """Per-step cost of tiny ops against a warm pool making the same number of calls."""
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))
    list(pool.map(abs, range(20)))  # warm
    folder = tempfile.mkdtemp(prefix="nbflow-bench-")
    try:
        for name, job_def, steps in (
            ("200 independent tiny ops", independent(200), 200),
            ("chain of 50 tiny ops", chain(50, multiprocess_executor), 50),
        ):
            sides: dict[str, list[float]] = {
                "warm": [],
                "process_per_step": [],
                "pool": [],
                "pool_stored": [],
            }
            for _ in range(repeats):
                for side in sides:
                    if side.startswith("pool"):
                        call = partial(plain_stored, seconds=0.0, folder=folder)
                        fn = call if side == "pool_stored" else abs
                        started = time.perf_counter()
                        if steps == 50:  # a chain: one call after another
                            for i in range(steps):
                                pool.submit(fn, i).result()
                        else:
                            list(pool.map(fn, range(steps)))
                        sides[side].append(time.perf_counter() - started)
                        continue
                    options = {"max_concurrent": 2, "process_per_step": side != "warm"}
                    seconds, result = timed(job_def, {"execution": {"config": options}})
                    assert result.success
                    sides[side].append(seconds)
            found = {side: statistics.median(times) for side, times in sides.items()}
            emit(
                workload=f"multiprocess, {name}, 2 at a time",
                warm_ms_per_step=round(found["warm"] * 1000 / steps, 2),
                process_per_step_ms_per_step=round(found["process_per_step"] * 1000 / steps, 2),
                pool_ms_per_call=round(found["pool"] * 1000 / steps, 3),
                warm_vs_pool=round(found["warm"] / found["pool"], 1),
                pool_stored_ms_per_call=round(found["pool_stored"] * 1000 / steps, 3),
            )
            floor_row.emit(
                f"multiprocess, {name}, 2 at a time, warm workers",
                found["warm"] * 1000 / steps,
                found["pool"] * 1000 / steps,
                "ms/step",
                "warm ProcessPoolExecutor (forkserver), same calls",
                target=1.5,
                note=(
                    f"target also <= 1 ms/step; {found['warm'] / found['pool_stored']:.1f}x "
                    "the pool storing each value durably (pickle, fsync, rename), as each "
                    "step's output is; process per step "
                    f"{found['process_per_step'] * 1000 / steps:.1f} ms/step"
                ),
            )
    finally:
        pool.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def dask_overhead() -> None:
    import dask
    import distributed

    steps = 20
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        config = {"execution": {"config": {"address": cluster.scheduler_address}}}
        job_def = chain(steps, dask_executor)
        timed(job_def, config)  # warm up the workers
        seconds = min(timed(job_def, config)[0] for _ in range(3))
        emit(
            workload="dask per-step overhead (chain, existing LocalCluster, 2 processes)",
            steps=steps,
            seconds=round(seconds, 3),
            ms_per_step=round(seconds * 1000 / steps, 1),
        )
    finally:
        cluster.close()
    seconds, _ = timed(chain(2, dask_executor), {})
    emit(workload="dask run with its own LocalCluster (2 steps)", seconds=round(seconds, 3))


def plain_call(i: int, seconds: float) -> int:
    if seconds:
        time.sleep(seconds)
    return i


def plain_stored(i: int, seconds: float, folder: str) -> int:
    """``plain_call``, then its value stored as a durable store does it: pickled into a
    temporary file, flushed to disk (fsync) and renamed into place."""
    plain_call(i, seconds)
    path = os.path.join(folder, f"value_{i}")
    with open(f"{path}.tmp", "wb") as handle:
        pickle.dump(i, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(f"{path}.tmp", path)
    return i


def dask_vs_floor(repeats: int = 7) -> None:
    """nbflow on Dask against ``client.submit`` + ``client.gather`` of the same work, and
    against the same calls each storing its value durably (as every nbflow step does)."""
    import dask
    import distributed

    folder = tempfile.mkdtemp(prefix="nbflow-bench-")

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster, set_as_default=False)
    config = {"execution": {"config": {"address": cluster.scheduler_address}}}
    try:
        for name, count, seconds, target in (
            ("200 independent tiny ops", 200, 0.0, 1.5),
            ("64 independent ops x 50 ms", 64, 0.05, 1.1),
        ):

            def plain(stored: bool, count: int = count, seconds: float = seconds) -> float:
                started = time.perf_counter()
                futures = [
                    client.submit(plain_stored, i, seconds, folder, pure=False)
                    if stored
                    else client.submit(plain_call, i, seconds, pure=False)
                    for i in range(count)
                ]
                client.gather(futures)
                return time.perf_counter() - started

            job_def = independent(count, dask_executor, seconds)
            timed(job_def, config)  # warm: workers import nbflow and load the job
            plain(stored=False)
            plain(stored=True)
            floors: list[float] = []
            stored_floors: list[float] = []
            ours: list[float] = []
            for _ in range(repeats):
                floors.append(plain(stored=False))
                stored_floors.append(plain(stored=True))
                seconds_taken, result = timed(job_def, config)
                assert result.success
                ours.append(seconds_taken)
                # The run's temporary instance folder is removed when its result is
                # collected: do it here, not during the next timed run.
                del result
                gc.collect()
            floor, nbflow = statistics.median(floors), statistics.median(ours)
            stored_floor = statistics.median(stored_floors)
            emit(
                workload=f"dask, {name}, existing LocalCluster (2 processes x 1 thread)",
                floor_seconds=round(floor, 3),
                nbflow_seconds=round(nbflow, 3),
                factor=round(nbflow / floor, 2),
                target_factor=target,
                floor_with_durable_store_seconds=round(stored_floor, 3),
                factor_vs_floor_with_durable_store=round(nbflow / stored_floor, 2),
                floor_runs=[round(x, 3) for x in floors],
                nbflow_runs=[round(x, 3) for x in ours],
            )
            floor_row.emit(
                f"Dask, {name}, 2 worker processes",
                nbflow,
                floor,
                "s",
                "client.submit + gather of the same calls",
                target=target,
                note=(
                    f"{nbflow / stored_floor:.2f}x the same calls storing each value "
                    "durably (pickle, fsync, rename), as each step's output is"
                ),
            )
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["dask"]:  # only the Dask side-by-side
        dask_vs_floor()
        sys.exit(0)
    budget_workload()
    process_start()
    tiny_ops()
    dask_overhead()
    dask_vs_floor()
