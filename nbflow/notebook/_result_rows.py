"""One row per step of a finished run: status, duration, time saved, version (no pandas here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.execution.engine.step_states import StepState
from nbflow.notebook import _time_saved

if TYPE_CHECKING:
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance

REUSED = "stored value reused"
"""The note of a memoized step (followed by what the run said of it, if anything)."""


@dataclass(frozen=True, slots=True)
class ResultRow:
    """How one step of a run ended.

    ``status`` is that of ``ExecuteInProcessResult.step_summaries()`` (``succeeded``,
    ``failed``, ``skipped``, ``memoized`` or ``not run``); ``version`` is the output's version
    when the run was memoized (``name=version, ...`` for several outputs), else ``None``.
    ``saved_ms`` is, for a memoized step, how long the run that stored its value took to
    compute it (``None`` when that run is not known). ``note`` says why a step failed or was
    skipped, how many attempts it took, or that a memoized step reused the stored value (and,
    e.g., that an upstream re-ran with an unchanged value). ``detail`` is the run's own
    summary text (``StepSummary.detail``).
    """

    step: str
    status: str
    duration_ms: float | None
    memoized: bool
    version: str | None
    detail: str
    note: str = ""
    saved_ms: float | None = None


def result_rows(
    result: ExecuteInProcessResult, instance: Instance | None = None
) -> list[ResultRow]:
    """The rows of ``result``, in plan order.

    Args:
        result: a finished run.
        instance: whose run history to search for the runs that stored memoized values
            (runs shown in this process are known without it).
    """
    states = result.step_states()
    records = [states[s.step_key] for s in result.step_summaries()]
    _time_saved.remember(records)
    saved = _time_saved.time_saved(records, result.job_def.name, result.run_id, instance)
    rows = []
    for summary, record in zip(result.step_summaries(), records, strict=True):
        found = dict(record.output_versions)
        memoized = record.state is StepState.MEMOIZED
        if memoized:
            found.update(record.stored_versions)
        if len(found) == 1:
            version: str | None = next(iter(found.values()))
        else:
            version = ", ".join(f"{o}={v}" for o, v in found.items()) or None
        if memoized:
            note = f"{REUSED} ({record.skip_detail})" if record.skip_detail else REUSED
        else:
            note = summary.detail
        rows.append(
            ResultRow(
                step=summary.step_key,
                status=summary.status,
                duration_ms=summary.duration_ms,
                memoized=memoized,
                version=version,
                detail=summary.detail,
                note=note,
                saved_ms=saved.get(summary.step_key),
            )
        )
    return rows
