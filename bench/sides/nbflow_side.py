"""The nbflow side of the side-by-side benchmark: runs one workload, prints JSON.

Run by ``bench/run.py`` with the machine's Python, one fresh process per workload:
``python bench/sides/nbflow_side.py WORKLOAD [--state DIR] [--profile]``.
The workloads are listed in ``bench/README.md``; the JSON is described in ``_protocol.py``.
(Import time is measured by ``run.py`` itself, in a process that imports nothing else.)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _protocol import (
    WARM_UP_SEED,
    Measured,
    Options,
    Profiler,
    chain_config,
    emit,
    parse_args,
    peak_rss_mb,
    repeated,
    split,
    timed,
)
from assets import asset_chain
from workloads import chain, fan

from nbflow import (
    MEMOIZED_RUN_TAG,
    EventType,
    Instance,
    execute_job,
    job,
    list_versions,
    materialize_to_memory,
    multiprocess_executor,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.storage import clear_memoized_values

SHAPES = {"chain": chain, "fan": fan}


def measure_engine(options: Options, profiler: Profiler) -> Measured:
    """``chain:N`` / ``fan:N``: execute_in_process of trivial ops (see ``bench/workloads.py``)."""
    shape, arg = split(options.workload)
    build = SHAPES[shape]
    build(2).execute_in_process()  # loads the execution layer
    started = time.perf_counter()
    job_def = build(int(arg))
    built = time.perf_counter() - started
    seconds, runs, result = repeated(job_def.execute_in_process, profiler)
    assert result.success
    steps = len(list(job_def.graph_def.iter_ops()))
    return Measured(
        {"run": seconds},
        {"steps": steps, "inner_runs": runs, "build_seconds": built},
    )


def _executed(result: Any) -> int:
    return sum(1 for e in result.all_events if e.event_type is EventType.STEP_SUCCESS)


def _memo_job(n: int, on_disk: bool) -> Any:
    """The versioned chain of ``n``, memoized in memory or on disk."""
    kwargs: dict[str, Any] = {"tags": {MEMOIZED_RUN_TAG: "true"}}
    if on_disk:
        kwargs["resource_defs"] = {"io_manager": versioned_filesystem_io_manager}
    return chain(n, versioned=True, **kwargs)


MEMO_CASES = {
    "first": {},
    "cached": {},
    "leaf": {"leaf": 1},
    "root": {"root": 1},
}


def _warm_up_memo(on_disk: bool) -> None:
    """Loads the memoized-execution code with a chain whose versions no measured run uses."""
    warm = _memo_job(2, on_disk)
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-warm-") as folder:
        instance = Instance.local(folder) if on_disk else None
        warm.execute_in_process(run_config=chain_config(2, root=WARM_UP_SEED), instance=instance)


def prime(options: Options, profiler: Profiler) -> Measured:
    """``prime:N``: stores a memoized run of the chain of N in the driver's state folder."""
    n = int(split(options.workload)[1])
    assert options.state, "prime needs --state"
    instance = Instance.local(Path(options.state) / "instance")
    result = _memo_job(n, on_disk=True).execute_in_process(
        run_config=chain_config(n), instance=instance
    )
    return Measured({}, {"steps_executed": _executed(result)})


def measure_memo(options: Options, profiler: Profiler) -> Measured:
    """``memo:CASE``: memoized in memory (nbflow's default), primed in this process.
    ``memo_fs:CASE``: SQLite instance and versioned filesystem IO manager, primed by
    ``prime:100`` in an earlier process. CASE: first, cached, leaf (config change of the last
    op), root (config change of the first op)."""
    kind, case = split(options.workload)
    on_disk = kind == "memo_fs"
    n = 100
    job_def = _memo_job(n, on_disk)
    _warm_up_memo(on_disk)
    config = chain_config(n, **MEMO_CASES[case])
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-memo-") as scratch:
        instance = None
        if on_disk:
            root = Path(scratch) / "state"
            if case != "first":
                assert options.state, "memo_fs needs --state (primed)"
                shutil.copytree(options.state, root)
            instance = Instance.local(root / "instance")
        else:
            clear_memoized_values()
            if case != "first":
                job_def.execute_in_process(run_config=chain_config(n))
        seconds, result = timed(
            lambda: job_def.execute_in_process(run_config=config, instance=instance), profiler
        )
    return Measured({"run": seconds}, {"steps": n + 1, "steps_executed": _executed(result)})


def measure_list_versions(options: Options, profiler: Profiler) -> Measured:
    """``list_versions:N``: in memory, primed in this process. ``list_versions_fs:N``: SQLite
    instance and versioned filesystem IO manager, primed by ``prime:N`` earlier."""
    kind, arg = split(options.workload)
    n = int(arg)
    on_disk = kind == "list_versions_fs"
    job_def = _memo_job(n, on_disk)
    config = chain_config(n)
    warm = _memo_job(2, on_disk)
    instance = None
    if on_disk:
        assert options.state, "list_versions_fs needs --state (primed)"
        instance = Instance.local(Path(options.state) / "instance")
    else:
        job_def.execute_in_process(run_config=config)
    list_versions(warm, chain_config(2, root=WARM_UP_SEED), instance=instance)
    seconds, runs, rows = repeated(
        lambda: list_versions(job_def, config, instance=instance), profiler
    )
    stored = sum(1 for row in rows if row.status == "stored")
    return Measured({"run": seconds}, {"outputs": len(rows), "stored": stored, "inner_runs": runs})


def measure_materialize(options: Options, profiler: Profiler) -> Measured:
    """``materialize:N``: materialize_to_memory of a chain of N assets."""
    n = int(split(options.workload)[1])
    materialize_to_memory(asset_chain(2))
    assets = asset_chain(n)
    seconds, runs, result = repeated(lambda: materialize_to_memory(assets), profiler)
    assert result.asset_value(f"a_{n - 1}") == n - 1
    return Measured({"run": seconds}, {"assets": n, "inner_runs": runs})


def _sleepers(count: int, seconds: float) -> Any:
    def make(i: int) -> Any:
        @op(name=f"sleep_{i}")
        def sleeper() -> int:
            time.sleep(seconds)
            return i

        return sleeper

    ops = [make(i) for i in range(count)]

    @job(executor_def=multiprocess_executor)
    def sleepers() -> None:
        for sleeper in ops:
            sleeper()

    return sleepers


def measure_multiprocess(options: Options, profiler: Profiler) -> Measured:
    """``mp:default`` / ``mp:forkserver``: 8 ops sleeping 0.5 s, max_concurrent 2, run twice
    in this process (the first run includes starting the process machinery)."""
    method = split(options.workload)[1]
    execution: dict[str, Any] = {"max_concurrent": 2}
    if method != "default":
        execution["start_method"] = {method: {}}
    config = {"execution": {"config": execution}}
    job_def = _sleepers(8, 0.5)
    measured = Measured(info={"start_method": method})
    for name in ("first", "second"):
        began = time.time()
        seconds, result = timed(lambda: execute_job(job_def, run_config=config), profiler)
        assert result.success
        measured.seconds[name] = seconds
        measured.info[name] = _process_starts(result, began)
    return measured


def _process_starts(result: Any, began: float) -> dict[str, float]:
    """When the first step process was up (from the call), and how long each took to start
    (the parent's STEP_WORKER_STARTING to the child's STEP_WORKER_STARTED)."""
    starting = {
        e.step_key: e.timestamp
        for e in result.all_events
        if e.event_type is EventType.STEP_WORKER_STARTING
    }
    started = [e for e in result.all_events if e.event_type is EventType.STEP_WORKER_STARTED]
    latencies = sorted((e.timestamp - starting[e.step_key]) * 1e3 for e in started)
    return {
        "first_process_up_ms": (min(e.timestamp for e in started) - began) * 1e3,
        "median_start_ms": latencies[len(latencies) // 2],
        "max_start_ms": latencies[-1],
    }


def measure_peak_rss(options: Options, profiler: Profiler) -> Measured:
    """``peak_rss:N``: high-water RSS (MB) of a process that runs the chain of N once."""
    after_import = peak_rss_mb()
    job_def = chain(int(split(options.workload)[1]))
    profiler.call(job_def.execute_in_process)
    return Measured({"run": peak_rss_mb()}, {"after_import_mb": after_import})


MEASURES = {
    "chain": measure_engine,
    "fan": measure_engine,
    "prime": prime,
    "memo": measure_memo,
    "memo_fs": measure_memo,
    "list_versions": measure_list_versions,
    "list_versions_fs": measure_list_versions,
    "materialize": measure_materialize,
    "mp": measure_multiprocess,
    "peak_rss": measure_peak_rss,
}


def main() -> None:
    options = parse_args()
    profiler = Profiler(options.profile)
    measured = MEASURES[split(options.workload)[0]](options, profiler)
    emit(options.workload, measured, profiler)


if __name__ == "__main__":
    main()
