"""One run as a JSON object, the line ``nbflow runs list --json`` prints for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nbflow.execution.views.run_history import RunRow

if TYPE_CHECKING:
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz=UTC).isoformat()


def run_record(instance: Instance, run: Run) -> dict[str, Any]:
    """``run`` as plain JSON values.

    Returns:
        ``id``, ``job``, ``status``; ``start`` and ``end`` (ISO 8601, UTC, or ``null``);
        ``duration`` (seconds, or ``null`` while it runs); ``steps_run`` (steps that
        ran), ``steps_memoized`` and ``steps_failed``.
    """
    row = RunRow.read(instance, run)
    return {
        "id": row.run_id,
        "job": row.job,
        "status": row.status,
        "start": _iso(run.start_time),
        "end": _iso(run.end_time),
        "duration": None if row.duration_s is None else round(row.duration_s, 6),
        "steps_run": row.steps_run,
        "steps_memoized": row.steps_memoized,
        "steps_failed": row.steps_failed,
    }
