"""One row per step of a finished run: status, duration, memoized, version (no pandas here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.execution.engine.step_states import StepState

if TYPE_CHECKING:
    from nbflow.execution.engine.result import ExecuteInProcessResult


@dataclass(frozen=True, slots=True)
class ResultRow:
    """How one step of a run ended.

    ``status`` is that of ``ExecuteInProcessResult.step_summaries()`` (``succeeded``,
    ``failed``, ``skipped``, ``memoized`` or ``not run``); ``version`` is the output's version
    when the run was memoized (``name=version, ...`` for several outputs), else ``None``.
    ``note`` is what the run said of a memoized step (such as an upstream that re-ran with
    an unchanged value), else empty.
    """

    step: str
    status: str
    duration_ms: float | None
    memoized: bool
    version: str | None
    detail: str
    note: str = ""


def result_rows(result: ExecuteInProcessResult) -> list[ResultRow]:
    """The rows of ``result``, in plan order."""
    states = result.step_states()
    rows = []
    for summary in result.step_summaries():
        record = states[summary.step_key]
        found = dict(record.output_versions)
        memoized = record.state is StepState.MEMOIZED
        if memoized:
            found.update(record.stored_versions)
        if len(found) == 1:
            version: str | None = next(iter(found.values()))
        else:
            version = ", ".join(f"{o}={v}" for o, v in found.items()) or None
        rows.append(
            ResultRow(
                step=summary.step_key,
                status=summary.status,
                duration_ms=summary.duration_ms,
                memoized=memoized,
                version=version,
                detail=summary.detail,
                note=record.skip_detail if memoized else "",
            )
        )
    return rows
