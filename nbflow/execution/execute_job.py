"""``execute_job``: run a job with its own executor (multiprocess by default).

Unlike ``execute_in_process``, values must be able to cross processes: the default
``io_manager`` is ``fs_io_manager`` in the instance's storage folder, and an in-memory IO
manager is refused before the run when steps run elsewhere.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset_key import AssetKey
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.partitioned_config import partition_run_config
from nbflow.definitions.redefinition import current_job
from nbflow.errors import InvalidArgumentError, InvalidDefinitionError, ReconstructionError
from nbflow.execution.engine.entry_arguments import check_run_arguments
from nbflow.execution.engine.executor import load_executor
from nbflow.execution.engine.run import (
    PARTITION_TAG,
    check_partition_key,
    execute_plan,
    merge_tags,
    prepare_plans,
)
from nbflow.execution.engine.run_config import resolve_run_config
from nbflow.execution.engine.timeouts import check_step_limits, parse_timeout
from nbflow.execution.executors.main_reimport import note_main_reimport
from nbflow.execution.executors.out_of_process import OutOfProcessExecutor
from nbflow.execution.executors.reconstruct import (
    ReconstructableJob,
    interactive_job_pointer,
    is_loading_job,
)
from nbflow.execution.executors.step_request import out_of_process_resource_defs
from nbflow.execution.reexecution import (
    ROOT_RUN_ID_TAG,
    ReexecutionOptions,
    check_parent,
    lineage_tags,
    link_left_out_steps,
    parent_run,
)
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.execution.engine.result import ExecuteInProcessResult


def _job_and_pointer(
    job_or_reconstructable: JobDefinition | ReconstructableJob,
) -> tuple[JobDefinition, ReconstructableJob | None]:
    if isinstance(job_or_reconstructable, ReconstructableJob):
        return job_or_reconstructable.get_definition(), job_or_reconstructable
    if isinstance(job_or_reconstructable, JobDefinition):
        return current_job(job_or_reconstructable), None
    raise InvalidArgumentError(
        f"execute_job() needs a JobDefinition or a ReconstructableJob, got "
        f"{type(job_or_reconstructable).__name__}. Fix: pass the @job itself, or "
        "reconstructable(my_job)."
    )


def _refuse_run_on_import() -> None:
    """A script that runs a job at import time must not run it again in every child."""
    process = sys.modules.get("multiprocessing.process")  # a child has it loaded already
    starting = process is not None and getattr(process.current_process(), "_inheriting", False)
    if starting:
        note_main_reimport()  # a restarted Dask worker: tell the run, which would wait forever
    if is_loading_job() or starting:
        where = (
            "a job was being rebuilt by importing its module or script"
            if is_loading_job()
            else "a new process (such as a Dask worker) was importing the main script"
        )
        raise ReconstructionError(
            f"execute_job() was called while {where}: the module or script that defines the "
            "job also runs it when it is imported.\n"
            'Fix: put the call under `if __name__ == "__main__":`, or pass the job itself '
            "(not reconstructable(...)) so it is sent by value."
        )


def _asset_nodes(job_def: JobDefinition, asset_selection: Sequence[Any]) -> list[str]:
    """The nodes of ``job_def`` that compute the asset keys in ``asset_selection``."""
    layer = job_def.asset_layer
    by_key = {} if layer is None else {key: node for node, key in layer.keys_by_node.items()}
    nodes: list[str] = []
    for item in asset_selection:
        key = item if isinstance(item, AssetKey) else AssetKey(str(item).split("/"))
        if key not in by_key:
            known = sorted(k.to_user_string() for k in by_key)
            raise InvalidDefinitionError(
                f"asset_selection: {key.to_user_string()!r} is not an asset of job "
                f"{job_def.name!r}. Its assets: {known}."
            )
        nodes.append(by_key[key])
    return nodes


def execute_job(
    job_or_reconstructable: JobDefinition | ReconstructableJob,
    instance: Instance | None = None,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    op_selection: Sequence[str] | None = None,
    reexecution_options: ReexecutionOptions | None = None,
    asset_selection: Sequence[Any] | None = None,
    partition_key: str | None = None,
    run_id: str | None = None,
    *,
    timeout: float | None = None,
) -> ExecuteInProcessResult:
    """Run a job with the executor it names (``multi_or_in_process_executor`` by default).

    Args:
        job_or_reconstructable: the job, or a pointer from ``reconstructable`` /
            ``build_reconstructable_job``. A job given directly is sent to step processes
            by value (cloudpickle), so jobs defined in scripts work too; in a Jupyter kernel
            a job defined in cells travels as a snapshot module of its cells instead
            (``nbflow.notebook.reconstructable``), falling back to by-value with a note.
        instance: where the run, its events and (by default) its outputs are kept;
            default ``Instance.ephemeral()`` (pass ``Instance.get()`` to keep them).
        run_config: run config; ``execution.config`` configures the executor. A
            re-execution given none reuses its parent's.
        tags: run tags over the job's; ``MEMOIZED_RUN_TAG`` switches memoization.
        raise_on_error: raise the first step failure instead of returning a failed result
            (True by default, unlike the seeds' False: a failure is not silent).
        op_selection: op selection queries, as for ``execute_in_process``.
        reexecution_options: re-execute a run of this job recorded on ``instance``: the
            selected steps run, the outputs of the others load from the runs that stored
            them; the run records ``parent_run_id``/``root_run_id`` (and the
            ``nbflow/parent_run_id``/``nbflow/root_run_id`` tags).
        asset_selection: asset keys (or ``"a/b"`` strings) of an asset job to materialize.
        partition_key: the partition to run, for a partitioned job.
        run_id: the id of the run (a new one by default); to watch the run's events as
            they happen, register ``instance.add_event_listener(run_id, callback)`` first.
        timeout: (keyword-only, an nbflow extension) seconds the run's steps may take in
            all, counted from when the first step starts. Past it no further step starts,
            running steps are ended (in-process: the running step is reported when it
            returns) and the run fails with ``RunTimeoutError``. A step's own limit is its
            op's ``nbflow/timeout`` tag or the executor's ``step_timeout`` config.

    Returns:
        ExecuteInProcessResult: outputs stored by other processes load through their IO
        manager on ``output_for_node``; usable as ``with execute_job(...) as result:``.

    Raises:
        InvalidArgumentError: an argument has the wrong type or form (before anything runs).
        ReconstructionError: the job cannot be sent to other processes (every op at fault
            is listed), or a script runs a job while a step process imports it.
        OutOfProcessStorageError: an output uses an in-memory IO manager while steps run
            in other processes.
        ReexecutionError: the parent run is unknown, of another job, or never completed a
            step whose outputs the selected steps read.
        OutputNotFoundError: the parent run's outputs the re-execution reads are not stored.
        InvalidTimeoutError: ``timeout``, a ``nbflow/timeout`` tag or ``step_timeout`` is not
            a positive number of seconds (before the run).
        RunTimeoutError: the run went on past ``timeout``.
        StepTimeoutError: a step ran past its limit.
    """
    _refuse_run_on_import()
    check_run_arguments(
        "execute_job",
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        op_selection=op_selection,
        run_id=run_id,
        tags=tags,
        asset_selection=("asset_selection", asset_selection),
    )
    run_timeout = parse_timeout(timeout, "execute_job(timeout=...)")
    job_def, pointer = _job_and_pointer(job_or_reconstructable)
    resource_defs = out_of_process_resource_defs(job_def)
    instance = instance or Instance.ephemeral()
    partition_key = check_partition_key(job_def, partition_key)
    run_config, tags = partition_run_config(job_def, partition_key, run_config, tags)
    run_tags = merge_tags(job_def, tags)
    if partition_key is not None:
        run_tags[PARTITION_TAG] = partition_key
    op_selection = op_selection or job_def.op_selection
    if asset_selection is not None:
        op_selection = [*(op_selection or ()), *_asset_nodes(job_def, asset_selection)]
    parent = None
    if reexecution_options is not None:
        parent = parent_run(instance, reexecution_options.parent_run_id)
        check_parent(job_def, parent)
        op_selection = list(reexecution_options.step_selection) or None
        run_tags.update(lineage_tags(parent))
        if run_config is None:
            run_config = parent.run_config
    plan, full_plan = prepare_plans(job_def, None, op_selection, run_tags)
    if parent is not None:
        link_left_out_steps(plan, parent, instance)
    config = resolve_run_config(plan, resource_defs, run_config)
    executor = load_executor(job_def.executor_def, config.execution.get("config"))
    executor.run_timeout = run_timeout
    check_step_limits(plan.steps.values())
    if isinstance(executor, OutOfProcessExecutor):
        if pointer is None:  # defined in notebook cells: step processes import a snapshot
            pointer = interactive_job_pointer(job_def)
        executor.prepare(job_def, pointer, plan, resource_defs)
    return execute_plan(
        plan,
        config,
        resource_defs,
        executor,
        instance=instance,
        tags=run_tags,
        partition_key=partition_key,
        run_id=run_id,
        raise_on_error=raise_on_error,
        op_selection=op_selection,
        full_plan=full_plan,
        parent_run_id=None if parent is None else parent.run_id,
        root_run_id=None if parent is None else lineage_tags(parent)[ROOT_RUN_ID_TAG],
    )
