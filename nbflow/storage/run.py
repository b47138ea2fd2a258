"""The record of one run: who ran what, with which config and tags, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class RunStatus(Enum):
    """Where a run is in its life."""

    NOT_STARTED = "NOT_STARTED"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELED = "CANCELED"


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a job. Changes of status return a new record."""

    run_id: str
    job_name: str
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    op_selection: Sequence[str] | None = None
    status: RunStatus = RunStatus.NOT_STARTED
    start_time: float | None = None
    end_time: float | None = None
    parent_run_id: str | None = None
    """The run this one re-executes (``execute_job(reexecution_options=...)``), else None."""
    root_run_id: str | None = None
    """The first run of the chain of re-executions this one belongs to, else None."""
    owner_pid: int | None = None
    """The process that runs (or ran) it: its pid, on host :attr:`owner_host`."""
    owner_host: str | None = None
    heartbeat_time: float | None = None
    """When the owner last said it was alive (every few seconds while the run goes on)."""
    abandoned: str | None = None
    """Why the run was ended by someone other than its owner: the owner process died (killed,
    power loss) with the run ``STARTED``. Such a run has status ``FAILURE``."""

    @property
    def is_success(self) -> bool:
        return self.status is RunStatus.SUCCESS

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    def with_status(self, status: RunStatus, at: float) -> Run:
        if status is RunStatus.STARTED:
            return replace(self, status=status, start_time=at)
        return replace(self, status=status, end_time=at)
