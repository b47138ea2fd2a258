"""``RunsFilter``: which recorded runs to read (``Instance.get_runs(filters=...)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.storage.run import Run, RunStatus


@dataclass(frozen=True, slots=True)
class RunsFilter:
    """Runs to keep when reading the history; every field given must match.

    Attributes:
        job_name: only runs of this job.
        statuses: only runs in one of these statuses (empty: any status).
        created_before: only runs recorded before this time (seconds since the epoch).

    Example:
        >>> instance.get_runs(filters=RunsFilter(job_name="etl", statuses=[RunStatus.FAILURE]))
    """

    job_name: str | None = None
    statuses: Sequence[RunStatus] = ()
    created_before: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", tuple(self.statuses))

    def matches(self, run: Run, created_at: float) -> bool:
        """Whether ``run``, recorded at ``created_at``, passes the filter."""
        if self.job_name is not None and run.job_name != self.job_name:
            return False
        if self.statuses and run.status not in self.statuses:
            return False
        return self.created_before is None or created_at < self.created_before
