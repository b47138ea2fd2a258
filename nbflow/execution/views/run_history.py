"""The run history as rows: recent runs with their step counts, and finding one run by id.

Standard library only: ``nbflow.notebook.runs()`` turns the rows into a DataFrame, run
reports and ``nbflow.notebook.show_run`` find their run here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.errors import RunHistoryError, RunNotFoundError
from nbflow.events import EventType
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.storage.runs_filter import RunsFilter

if TYPE_CHECKING:
    from nbflow.definitions.job import JobDefinition
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

STEP_END_EVENTS = (
    EventType.STEP_START,
    EventType.STEP_RESTARTED,
    EventType.STEP_UP_FOR_RETRY,
    EventType.STEP_SUCCESS,
    EventType.STEP_FAILURE,
    EventType.STEP_SKIPPED,
)
"""The events that say how steps went (reading only these keeps long, chatty runs cheap)."""

_RAN = frozenset({StepState.SUCCEEDED, StepState.FAILED, StepState.RUNNING, StepState.UP_FOR_RETRY})


def shown_status(run: Run) -> str:
    """A run's status as views show it: ``ABANDONED`` for a run whose process died while it
    ran (recorded as ``FAILURE`` when the instance was next opened, see
    ``Instance.end_abandoned_runs``), else the recorded status."""
    return "ABANDONED" if run.abandoned else run.status.value


@dataclass(frozen=True, slots=True)
class RunRow:
    """One recorded run and how its steps went.

    Attributes:
        run_id: the run's id.
        job: the job's name.
        status: ``SUCCESS``, ``FAILURE``, ``CANCELED``, ``STARTED``, ``NOT_STARTED``, or
            ``ABANDONED`` (its process died while it ran).
        start: when it started (seconds since the epoch), or ``None``.
        duration_s: how long it took, or ``None`` while it runs.
        steps_run: steps that ran (at least one attempt started).
        steps_memoized: steps skipped because their outputs were stored.
        steps_failed: steps that failed for good.
    """

    run_id: str
    job: str
    status: str
    start: float | None
    duration_s: float | None
    steps_run: int
    steps_memoized: int
    steps_failed: int

    @classmethod
    def of(cls, run: Run, states: StepStates) -> RunRow:
        """The row of ``run``, its steps counted from ``states``."""
        counts = {state: 0 for state in StepState}
        for record in states:
            counts[record.state] += 1
        duration = None
        if run.start_time is not None and run.end_time is not None:
            duration = max(run.end_time - run.start_time, 0.0)
        return cls(
            run_id=run.run_id,
            job=run.job_name,
            status=shown_status(run),
            start=run.start_time,
            duration_s=duration,
            steps_run=sum(counts[s] for s in _RAN),
            steps_memoized=counts[StepState.MEMOIZED],
            steps_failed=counts[StepState.FAILED],
        )

    @classmethod
    def read(cls, instance: Instance, run: Run) -> RunRow:
        """The row of ``run``, its steps counted from the step events ``instance`` recorded."""
        events = instance.run_storage.get_events_of_types(run.run_id, STEP_END_EVENTS)
        return cls.of(run, StepStates(events))


def recent_runs(
    instance: Instance, limit: int = 20, job: str | JobDefinition | None = None
) -> list[RunRow]:
    """The ``limit`` newest runs of ``instance`` (of job ``job`` only, if given), newest first.

    Args:
        instance: where the runs are recorded.
        limit: how many runs at most (a positive int).
        job: a job name or a job definition; ``None`` for every job.

    Raises:
        RunHistoryError: ``limit`` is not a positive int, or ``job`` is not a name or a job.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise RunHistoryError.bad_argument("limit", limit, "a positive int, e.g. limit=20")
    runs = instance.get_runs(limit, RunsFilter(job_name=_job_name(job)))
    return [RunRow.read(instance, run) for run in runs]


def _job_name(job: object) -> str | None:
    if job is None or isinstance(job, str):
        return job
    name = getattr(job, "name", None)
    if isinstance(name, str) and hasattr(job, "graph_def"):
        return name
    raise RunHistoryError.bad_argument(
        "job", job, "a job's name or the job itself (job='my_job' or job=my_job)"
    )


def find_run(instance: Instance, run_id: str, where: str | None = None) -> Run:
    """The run with id ``run_id`` in ``instance``, or the only one whose id starts with it.

    ``where`` names the instance in messages (default: its repr).

    Raises:
        RunHistoryError: ``run_id`` is not a non-empty string.
        RunNotFoundError: no run has that id, or several start with it.
    """
    if not isinstance(run_id, str) or not run_id.strip():
        raise RunHistoryError.bad_argument(
            "run_id", run_id, "a run id (or a unique prefix): the run id is empty"
        )
    run = instance.get_run(run_id)
    if run is not None:
        return run
    matches = instance.get_runs_with_id_prefix(run_id, limit=6)
    if len(matches) == 1:
        return matches[0]
    raise RunNotFoundError.build(run_id, where or repr(instance), [r.run_id for r in matches])
