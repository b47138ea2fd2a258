"""Jobs defined in notebook cells, run in other processes (multiprocess and Dask executors).

:func:`reconstructable` writes a snapshot module of the cells' definitions (see
:mod:`nbflow.notebook.snapshot`) and points at it with ``build_reconstructable_job``; the pointer
carries the module's text, so a process that cannot read the file (a Dask worker on another
machine) makes the module from memory. Importing this module also registers it with
``execute_job``: in a Jupyter kernel, a job defined in cells and run by an executor that starts
other processes travels as its snapshot. When a job cannot be snapshotted, ``execute_job``
sends it by value with cloudpickle, as for any job, and says so once with a one-line note on
stderr (no traceback).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.execution.executors.module_source import ModuleSource
from nbflow.execution.executors.reconstruct import (
    ReconstructableJob,
    build_reconstructable_job,
    register_job_pointer_provider,
)
from nbflow.execution.executors.reconstruct import reconstructable as _module_reconstructable
from nbflow.notebook.snapshot import SnapshotError, snapshot_job, write_snapshot

if TYPE_CHECKING:
    from collections.abc import Callable

_noted: set[tuple[str, str]] = set()
_noted_lock = threading.Lock()


def reconstructable(
    job: JobDefinition | Callable[..., JobDefinition],
    directory: str | os.PathLike[str] | None = None,
) -> ReconstructableJob:
    """Point at a job so that other processes can rebuild it, even one defined in cells.

    For a job defined in notebook cells, the definitions it uses are written as the module
    ``nbflow_snapshot_<hash>.py`` (named by a hash of its text, so the same definitions give
    the same module in any kernel session and cell order), and the pointer is
    ``build_reconstructable_job(module, "build_job", reconstructor_working_directory=folder)``.
    The pointer also carries the module's text (``module_source``): step processes and Dask
    workers make the module from it in memory, so workers on other machines, which cannot
    read this folder, rebuild the job too.
    Jobs (and functions returning jobs) defined in importable modules get
    ``nbflow.reconstructable(job)``.

    Args:
        job: the job (bound to a name in the notebook), or a module-scoped job function.
        directory: where to write the module; default ``$NBFLOW_SNAPSHOT_DIR``, else
            ``$NBFLOW_HOME/snapshots``, else ``~/.cache/nbflow/snapshots``.

    Ops, graphs and resources redefined in later cells are followed (see
    :mod:`nbflow.definitions.redefinition`): the snapshot is of the job as the cells define
    it now.

    Raises:
        SnapshotError: the job uses a notebook global that cannot be re-created in another
            process (named in the message, with a fix), or it runs a function that a later
            cell redefined and that is not followed (a hook, for example).
        RedefinitionError: a definition it uses was redefined so that it no longer fits.
    """
    if not isinstance(job, JobDefinition) or _defined_in_module(job):
        return _module_reconstructable(job)
    snapshot = snapshot_job(current_job(job))  # the job as the cells define it now
    path = write_snapshot(snapshot, directory)
    return build_reconstructable_job(
        snapshot.module_name,
        snapshot.function,
        reconstructor_working_directory=os.fspath(path.parent),
        module_source=ModuleSource.of(snapshot.module_name, snapshot.text),
    )


def _defined_in_module(job: JobDefinition) -> bool:
    where = job.defined_at
    if where is None or where[0] in ("__main__", "__mp_main__"):
        return False
    module = sys.modules.get(where[0])
    return module is not None and bool(getattr(module, "__file__", None))


def _note_once(job_name: str, reason: str) -> None:
    key = (job_name, reason)
    with _noted_lock:
        if key in _noted:
            return
        _noted.add(key)
    prefix = f"Cannot snapshot job {job_name!r}"
    if reason.startswith(prefix):
        reason = reason.split(": ", 1)[-1]
    print(
        f"nbflow: job {job_name!r} goes to step processes by value (cloudpickle), not as a "
        f"snapshot module of its cells: {reason}",
        file=sys.stderr,
    )


def snapshot_pointer(job: JobDefinition) -> ReconstructableJob | None:
    """``execute_job``'s provider: the snapshot pointer, or ``None`` (with a note) to pickle."""
    try:
        return reconstructable(job)
    except SnapshotError as exc:
        reason = str(exc).split("\n", 1)[0]
    except Exception as exc:  # never let a snapshot problem stop a run that can still go ahead
        reason = f"{type(exc).__name__}: {exc}".split("\n", 1)[0]
    _note_once(job.name, reason)
    return None


register_job_pointer_provider(snapshot_pointer)

__all__ = ["reconstructable", "snapshot_pointer"]
