"""One row per step of a finished run: status, duration, memoized, version (no pandas here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.events import EventType

if TYPE_CHECKING:
    from nbflow.execution.result import ExecuteInProcessResult


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
    versions: dict[str, dict[str, str]] = {}
    notes: dict[str, str] = {}
    for event in result.all_node_events:
        key = event.step_key
        assert key is not None
        if event.event_type is EventType.STEP_OUTPUT and getattr(event.data, "version", None):
            versions.setdefault(key, {})[event.data.output_name] = event.data.version
        elif event.event_type is EventType.STEP_SKIPPED and getattr(event.data, "memoized", False):
            versions.setdefault(key, {}).update(event.data.versions)
            notes[key] = event.data.detail
    rows = []
    for summary in result.step_summaries():
        found = versions.get(summary.step_key, {})
        if len(found) == 1:
            version: str | None = next(iter(found.values()))
        else:
            version = ", ".join(f"{o}={v}" for o, v in found.items()) or None
        rows.append(
            ResultRow(
                step=summary.step_key,
                status=summary.status,
                duration_ms=summary.duration_ms,
                memoized=summary.status == "memoized",
                version=version,
                detail=summary.detail,
                note=notes.get(summary.step_key, ""),
            )
        )
    return rows
