"""The Dagster 1.7.16 side of the side-by-side benchmark: runs one workload, prints JSON.

Run by ``bench/run.py`` with the Python of ``bench/.venv-dagster``, one fresh process per
workload: ``python bench/sides/dagster_side.py WORKLOAD [--state DIR] [--profile]``.
The job shapes mirror ``bench/workloads.py`` and ``bench/assets.py`` op for op; they are
written against Dagster's public API (plus the two memoization names 1.7.16 keeps
internal, imported below).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

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
from dagster import (
    MEMOIZED_RUN_TAG,
    AssetIn,
    DagsterEventType,
    DagsterInstance,
    DependencyDefinition,
    Field,
    GraphDefinition,
    JobDefinition,
    NodeInvocation,
    asset,
    execute_job,
    materialize_to_memory,
    op,
)
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.execution.api import create_execution_plan
from dagster._core.storage.memoizable_io_manager import versioned_filesystem_io_manager

SIDES = Path(__file__).resolve().parent

# ---------------------------------------------------------------- job shapes


@op
def source() -> int:
    return 0


@op
def step(x: int) -> int:
    return x + 1


@op
def add(a: int, b: int) -> int:
    return a + b


_SEED = {"seed": Field(int, default_value=0)}


@op(name="source", code_version="1", config_schema=_SEED)
def versioned_source(context) -> int:  # type: ignore[no-untyped-def]
    return int(context.op_config["seed"])


@op(name="step", code_version="1", config_schema=_SEED)
def versioned_step(context, x: int) -> int:  # type: ignore[no-untyped-def]
    return x + 1


def chain(n: int, versioned: bool = False, **job_kwargs: Any) -> JobDefinition:
    """``source`` followed by ``n`` ``step`` ops, each feeding the next."""
    deps: dict[Any, dict[str, DependencyDefinition]] = {}
    previous = "source"
    for i in range(n):
        deps[NodeInvocation("step", alias=f"step_{i}")] = {"x": DependencyDefinition(previous)}
        previous = f"step_{i}"
    node_defs = [versioned_source, versioned_step] if versioned else [source, step]
    graph = GraphDefinition(f"chain_{n}", node_defs=node_defs, dependencies=deps)
    return graph.to_job(**job_kwargs)


def fan(n: int) -> JobDefinition:
    """``source`` fanned out to ``n`` ``step`` ops, folded back pairwise into one result."""
    deps: dict[Any, dict[str, DependencyDefinition]] = {}
    layer = []
    for i in range(n):
        deps[NodeInvocation("step", alias=f"out_{i}")] = {"x": DependencyDefinition("source")}
        layer.append(f"out_{i}")
    k = 0
    while len(layer) > 1:
        folded = []
        for a, b in zip(layer[0::2], layer[1::2], strict=False):
            name = f"add_{k}"
            k += 1
            deps[NodeInvocation("add", alias=name)] = {
                "a": DependencyDefinition(a),
                "b": DependencyDefinition(b),
            }
            folded.append(name)
        if len(layer) % 2:
            folded.append(layer[-1])
        layer = folded
    graph = GraphDefinition(f"fan_{n}", node_defs=[source, step, add], dependencies=deps)
    return graph.to_job()


def asset_chain(n: int) -> list[Any]:
    """``a_0`` → ``a_1`` → … → ``a_{n-1}``, each adding one."""

    @asset(name="a_0", code_version="1")
    def first() -> int:
        return 0

    assets = [first]
    for i in range(1, n):

        @asset(name=f"a_{i}", code_version="1", ins={"previous": AssetIn(key=f"a_{i - 1}")})
        def next_asset(previous: int) -> int:
            return previous + 1

        assets.append(next_asset)
    return assets


SHAPES = {"chain": chain, "fan": fan}

# ---------------------------------------------------------------- persistent state
# Memoization in Dagster 1.7.16 needs a persistent instance and a versioned IO manager:
# a state folder holds home/ (a SQLite DagsterInstance, telemetry off) and io/ (the
# versioned filesystem IO manager's base_dir).


def _instance(root: Path) -> DagsterInstance:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return DagsterInstance.from_config(str(home))


def _memo_job(n: int, root: Path) -> JobDefinition:
    io_manager = versioned_filesystem_io_manager.configured({"base_dir": str(root / "io")})
    return chain(
        n,
        versioned=True,
        tags={MEMOIZED_RUN_TAG: "true"},
        resource_defs={"io_manager": io_manager},
    )


def _executed(result: Any) -> int:
    return sum(1 for e in result.all_events if e.event_type == DagsterEventType.STEP_SUCCESS)


def _list_versions(job_def: JobDefinition, config: dict[str, Any], instance: Any) -> list[Any]:
    """What ``dagster job list_versions`` computes, minus loading the job from a file and
    printing: the memoized execution plan, and each step output's version and status."""
    plan = create_execution_plan(
        job_def,
        run_config=config,
        instance_ref=instance.get_ref(),
        tags={MEMOIZED_RUN_TAG: "true"},
    )
    to_run = set(plan.step_keys_to_execute)
    return [
        (
            f"{handle.step_key}.{handle.output_name}",
            version,
            "to-be-recomputed" if handle.step_key in to_run else "stored",
        )
        for handle, version in plan.step_output_versions.items()
    ]


def _warm_up_memo() -> None:
    """Loads the memoized-execution code on a throwaway instance and IO folder."""
    with tempfile.TemporaryDirectory(prefix="dagster-bench-warm-") as folder:
        root = Path(folder)
        with _instance(root) as instance:
            warm = _memo_job(2, root)
            config = chain_config(2, root=WARM_UP_SEED)
            warm.execute_in_process(run_config=config, instance=instance)
            _list_versions(warm, config, instance)


# ---------------------------------------------------------------- workloads


def measure_engine(options: Options, profiler: Profiler) -> Measured:
    """``chain:N`` / ``fan:N``: execute_in_process of trivial ops."""
    shape, arg = split(options.workload)
    build = SHAPES[shape]
    build(2).execute_in_process()  # loads the execution layer
    started = time.perf_counter()
    job_def = build(int(arg))
    built = time.perf_counter() - started
    seconds, runs, result = repeated(job_def.execute_in_process, profiler)
    assert result.success
    steps = len(job_def.graph.nodes)
    return Measured(
        {"run": seconds},
        {"steps": steps, "inner_runs": runs, "build_seconds": built},
    )


def prime(options: Options, profiler: Profiler) -> Measured:
    """``prime:N``: stores a memoized run of the chain of N in the driver's state folder."""
    n = int(split(options.workload)[1])
    assert options.state, "prime needs --state"
    root = Path(options.state)
    with _instance(root) as instance:
        result = _memo_job(n, root).execute_in_process(
            run_config=chain_config(n), instance=instance
        )
    return Measured({}, {"steps_executed": _executed(result)})


MEMO_CASES = {
    "first": {},
    "cached": {},
    "leaf": {"leaf": 1},
    "root": {"root": 1},
}


def measure_memo(options: Options, profiler: Profiler) -> Measured:
    """``memo_fs:CASE``: the chain of 100 memoized on a SQLite instance with the versioned
    filesystem IO manager; CASE other than ``first`` starts from a copy of the state primed by
    ``prime:100`` in an earlier process."""
    case = split(options.workload)[1]
    n = 100
    _warm_up_memo()
    config = chain_config(n, **MEMO_CASES[case])
    with tempfile.TemporaryDirectory(prefix="dagster-bench-memo-") as scratch:
        root = Path(scratch) / "state"
        if case != "first":
            assert options.state, "memo_fs needs --state (primed)"
            shutil.copytree(options.state, root)
        with _instance(root) as instance:
            job_def = _memo_job(n, root)
            seconds, result = timed(
                lambda: job_def.execute_in_process(run_config=config, instance=instance),
                profiler,
            )
    return Measured({"run": seconds}, {"steps": n + 1, "steps_executed": _executed(result)})


def measure_list_versions(options: Options, profiler: Profiler) -> Measured:
    """``list_versions_fs:N`` on the state primed by ``prime:N`` (read only)."""
    n = int(split(options.workload)[1])
    assert options.state, "list_versions_fs needs --state (primed)"
    _warm_up_memo()
    root = Path(options.state)
    config = chain_config(n)
    with _instance(root) as instance:
        job_def = _memo_job(n, root)
        seconds, runs, rows = repeated(lambda: _list_versions(job_def, config, instance), profiler)
    stored = sum(1 for row in rows if row[2] == "stored")
    return Measured(
        {"run": seconds},
        {
            "outputs": len(rows),
            "stored": stored,
            "inner_runs": runs,
            "entry_point": "create_execution_plan(..., tags={MEMOIZED_RUN_TAG: 'true'})",
        },
    )


def measure_materialize(options: Options, profiler: Profiler) -> Measured:
    """``materialize:N``: materialize_to_memory of a chain of N assets."""
    n = int(split(options.workload)[1])
    materialize_to_memory(asset_chain(2))
    assets = asset_chain(n)
    seconds, runs, result = repeated(lambda: materialize_to_memory(assets), profiler)
    assert result.output_for_node(f"a_{n - 1}") == n - 1
    return Measured({"run": seconds}, {"assets": n, "inner_runs": runs})


def measure_multiprocess(options: Options, profiler: Profiler) -> Measured:
    """``mp:default`` (spawn, Dagster's default) / ``mp:forkserver``: 8 ops sleeping 0.5 s,
    max_concurrent 2, with execute_job on a SQLite instance (Dagster needs a persistent one
    for multiprocess runs). ``mp:forkserver`` runs twice in this process."""
    method = split(options.workload)[1]
    execution: dict[str, Any] = {"max_concurrent": 2}
    if method != "default":
        execution["start_method"] = {method: {}}
    config = {"execution": {"config": execution}}
    recon = ReconstructableJob.for_file(str(SIDES / "dagster_jobs.py"), "sleepers")
    names = ("first",) if method == "default" else ("first", "second")
    measured = Measured(info={"start_method": "spawn" if method == "default" else method})
    with tempfile.TemporaryDirectory(prefix="dagster-bench-mp-") as folder:
        with _instance(Path(folder)) as instance:
            for name in names:
                seconds, result = timed(
                    lambda: execute_job(recon, instance=instance, run_config=config), profiler
                )
                assert result.success
                measured.seconds[name] = seconds
    return measured


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
    "memo_fs": measure_memo,
    "list_versions_fs": measure_list_versions,
    "materialize": measure_materialize,
    "mp": measure_multiprocess,
    "peak_rss": measure_peak_rss,
}


def main() -> None:
    if "DAGSTER_HOME" not in os.environ:
        raise SystemExit("set DAGSTER_HOME to a folder (run.py does) so nothing lands in ~")
    options = parse_args()
    profiler = Profiler(options.profile)
    measured = MEASURES[split(options.workload)[0]](options, profiler)
    emit(options.workload, measured, profiler)


if __name__ == "__main__":
    main()
