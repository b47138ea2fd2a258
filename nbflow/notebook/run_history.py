"""``runs()``: the recent runs of an instance as a pandas DataFrame, newest first.

Example:
    >>> import nbflow.notebook as nbn
    >>> nbn.runs(limit=5, job="my_job")
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from nbflow.errors import MissingExtraError

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError.build("pandas", "notebook") from exc

from nbflow.execution.views.run_history import recent_runs
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from nbflow.definitions.job import JobDefinition

RUN_COLUMNS = (
    "run_id",
    "job",
    "status",
    "start",
    "duration_s",
    "steps_run",
    "steps_memoized",
    "steps_failed",
)


def runs(
    limit: int = 20,
    job: str | JobDefinition | None = None,
    instance: Instance | None = None,
) -> pd.DataFrame:
    """The ``limit`` newest runs, one row each: id, job, status, start (local time),
    duration in seconds, and how many steps ran, were memoized and failed.

    Args:
        limit: how many runs at most.
        job: only runs of this job (its name, or the job itself).
        instance: where runs are recorded; the default persistent instance
            (``$NBFLOW_HOME``, else ``./.nbflow``) when ``None``.

    Raises:
        RunHistoryError: ``limit`` is not a positive int, or ``job`` is neither a name nor a job.
    """
    rows = recent_runs(instance if instance is not None else Instance.get(), limit, job)
    records = [
        (
            row.run_id,
            row.job,
            row.status,
            None if row.start is None else datetime.fromtimestamp(row.start),
            row.duration_s,
            row.steps_run,
            row.steps_memoized,
            row.steps_failed,
        )
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(RUN_COLUMNS))
    frame["start"] = pd.to_datetime(frame["start"])
    return frame
