"""One run as a JSON object, the line ``nbflow runs list --json`` prints for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nbflow.events import EventType
from nbflow.execution.engine.step_states import StepState, StepStates

if TYPE_CHECKING:
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

_STEP_EVENTS = (
    EventType.STEP_START,
    EventType.STEP_RESTARTED,
    EventType.STEP_UP_FOR_RETRY,
    EventType.STEP_SUCCESS,
    EventType.STEP_FAILURE,
    EventType.STEP_SKIPPED,
)
"""The events that say how steps ended (reading only these keeps long runs cheap)."""


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz=UTC).isoformat()


def run_record(instance: Instance, run: Run) -> dict[str, Any]:
    """``run`` as plain JSON values.

    Returns:
        ``id``, ``job``, ``status``; ``start`` and ``end`` (ISO 8601, UTC, or ``null``);
        ``duration`` (seconds, or ``null`` while it runs); ``steps_run`` (steps that
        started), ``steps_memoized`` and ``steps_failed``.
    """
    events = instance.run_storage.get_events_of_types(run.run_id, _STEP_EVENTS)
    steps = StepStates(events).seen()
    duration = None
    if run.start_time is not None and run.end_time is not None:
        duration = round(max(run.end_time - run.start_time, 0.0), 6)
    return {
        "id": run.run_id,
        "job": run.job_name,
        "status": run.status.value,
        "start": _iso(run.start_time),
        "end": _iso(run.end_time),
        "duration": duration,
        "steps_run": sum(1 for step in steps if step.attempts > 0),
        "steps_memoized": sum(1 for step in steps if step.state is StepState.MEMOIZED),
        "steps_failed": sum(1 for step in steps if step.state is StepState.FAILED),
    }
