"""How step processes rebuild a job the command line loaded from a file or module.

``nbflow job execute`` runs the job with its executor through ``execute_job`` and a
:class:`ReconstructableJob` naming :func:`cli_job`: each step process loads the same file
(or module) as the command line did, and the executor chosen with ``--executor`` replaces
the job's own. In the command's own process the file is not loaded a second time.
"""

from __future__ import annotations

import os

from nbflow.cli.loading import load_module
from nbflow.definitions.executor import (
    ExecutorDefinition,
    in_process_executor,
    multiprocess_executor,
)
from nbflow.definitions.job import JobDefinition
from nbflow.execution.executors.reconstruct import ReconstructableJob

EXECUTOR_NAMES = ("in_process", "multiprocess", "dask")


def executor_named(name: str) -> ExecutorDefinition:
    """The executor ``--executor NAME`` picks."""
    if name == "dask":
        from nbflow.dask import dask_executor

        return dask_executor
    return {"in_process": in_process_executor, "multiprocess": multiprocess_executor}[name]


def cli_job(
    file: str | None, module: str | None, attribute: str, executor: str | None
) -> JobDefinition:
    """The job bound to ``attribute`` in ``file`` (or ``module``), run by ``executor`` when
    given (else its own)."""
    job_def = getattr(load_module(file, module), attribute)
    assert isinstance(job_def, JobDefinition)
    if executor is None:
        return job_def
    return job_def._copy(executor_def=executor_named(executor))


def job_pointer(
    file: str | None, module: str | None, attribute: str, executor: str | None
) -> ReconstructableJob:
    """A pointer that rebuilds the job in any process as :func:`cli_job` does."""
    return ReconstructableJob(
        attribute=cli_job.__name__,
        module_name=__name__,
        args=(os.path.abspath(file) if file else None, module, attribute, executor),
    )
