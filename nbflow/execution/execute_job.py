"""``execute_job``: run a job with its own executor (multiprocess by default).

Unlike ``execute_in_process``, values must be able to cross processes: the default
``io_manager`` is ``fs_io_manager`` in the instance's storage folder, and an in-memory IO
manager is refused before the run when steps run elsewhere.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.errors import ReconstructionError
from nbflow.execution.engine.executor import load_executor
from nbflow.execution.engine.run import check_partition_key, execute_plan, merge_tags, prepare_plans
from nbflow.execution.engine.run_config import resolve_run_config
from nbflow.execution.executors.out_of_process import OutOfProcessExecutor
from nbflow.execution.executors.reconstruct import (
    ReconstructableJob,
    interactive_job_pointer,
    is_loading_job,
)
from nbflow.execution.executors.step_request import out_of_process_resource_defs
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
    raise TypeError(
        f"execute_job() needs a JobDefinition or a ReconstructableJob, got "
        f"{type(job_or_reconstructable).__name__}. Fix: pass the @job itself, or "
        "reconstructable(my_job)."
    )


def _refuse_run_on_import() -> None:
    """A script that runs a job at import time must not run it again in every child."""
    process = sys.modules.get("multiprocessing.process")  # a child has it loaded already
    starting = process is not None and getattr(process.current_process(), "_inheriting", False)
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


def execute_job(
    job_or_reconstructable: JobDefinition | ReconstructableJob,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    tags: Mapping[str, Any] | None = None,
    op_selection: Sequence[str] | None = None,
    raise_on_error: bool = True,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Run a job with the executor it names (``multi_or_in_process_executor`` by default).

    Args:
        job_or_reconstructable: the job, or a pointer from ``reconstructable`` /
            ``build_reconstructable_job``. A job given directly is sent to step processes
            by value (cloudpickle), so jobs defined in scripts work too; in a Jupyter kernel
            a job defined in cells travels as a snapshot module of its cells instead
            (``nbflow.notebook.reconstructable``), falling back to by-value with a note.
        run_config: run config; ``execution.config`` configures the executor.
        instance: where the run, its events and (by default) its outputs are kept;
            default ``Instance.ephemeral()`` (pass ``Instance.get()`` to keep them).
        tags: run tags over the job's; ``MEMOIZED_RUN_TAG`` switches memoization.
        op_selection: op selection queries, as for ``execute_in_process``.
        raise_on_error: raise the first step failure instead of returning a failed result.
        run_id: the id of the run (a new one by default); to watch the run's events as
            they happen, register ``instance.add_event_listener(run_id, callback)`` first.

    Returns:
        ExecuteInProcessResult: outputs stored by other processes load through their IO
        manager on ``output_for_node``.

    Raises:
        ReconstructionError: the job cannot be sent to other processes (every op at fault
            is listed), or a script runs a job while a step process imports it.
        OutOfProcessStorageError: an output uses an in-memory IO manager while steps run
            in other processes.
    """
    _refuse_run_on_import()
    job_def, pointer = _job_and_pointer(job_or_reconstructable)
    resource_defs = out_of_process_resource_defs(job_def)
    check_partition_key(job_def, None)
    run_tags = merge_tags(job_def, tags)
    plan, full_plan = prepare_plans(job_def, None, op_selection, run_tags)
    config = resolve_run_config(plan, resource_defs, run_config)
    executor = load_executor(job_def.executor_def, config.execution.get("config"))
    if isinstance(executor, OutOfProcessExecutor):
        if pointer is None:  # defined in notebook cells: step processes import a snapshot
            pointer = interactive_job_pointer(job_def)
        executor.prepare(job_def, pointer, plan, resource_defs)
    return execute_plan(
        plan,
        config,
        resource_defs,
        executor,
        instance=instance or Instance.ephemeral(),
        tags=run_tags,
        partition_key=None,
        run_id=run_id,
        raise_on_error=raise_on_error,
        op_selection=op_selection,
        full_plan=full_plan,
    )
