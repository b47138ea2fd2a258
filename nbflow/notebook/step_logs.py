"""The log panel of a run's view: each step's last ``context.log`` lines and captured prints.

It reads the :class:`~nbflow.execution.engine.step_states.StepRecord` of each step, which keeps
the step's last :data:`~nbflow.execution.engine.step_states.LOG_TAIL` (20) log events: the
messages ops sent to ``context.log`` (with their level) and, for runs in step processes, what
a step printed (``LOGS_CAPTURED``, one block per attempt). The live view of ``nbn.run`` shows
it under the DAG while the run goes on, and keeps it in the final state.
"""

from __future__ import annotations

import logging
import time
from html import escape
from typing import TYPE_CHECKING

from nbflow.events import CapturedOutputData, EventType, LogMessageData
from nbflow.execution.engine.step_states import LOG_TAIL

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.events import Event
    from nbflow.execution.engine.step_states import StepRecord

_LEVEL_COLOR = {"WARNING": "#b45309", "ERROR": "#b91c1c", "CRITICAL": "#b91c1c"}
_GREY = "color:#6b7280"
_PRE = (
    "margin:2px 0;padding:4px 6px;background:#f9fafb;border:1px solid #e5e7eb;"
    "white-space:pre-wrap;font-size:11px"
)


def step_logs_html(records: Iterable[StepRecord], started: float | None = None) -> str:
    """HTML of the steps' last log lines (one collapsible block per step that logged), or ``""``.

    Args:
        records: the steps, in the order to show them.
        started: when the run started (lines show their time since then); ``None`` shows
            the clock time.

    Returns:
        str: a ``<div class="nbflow-logs">``, or an empty string when no step logged.
    """
    blocks = []
    for record in records:
        if not record.logs:
            continue
        shown = len(record.logs)
        count = str(shown) if shown == record.log_count else f"last {shown} of {record.log_count}"
        lines = "".join(_line(event, started) for event in record.logs)
        key = escape(record.step_key)
        blocks.append(
            f'<details open class="nbflow-step-logs" data-step="{key}">'
            f'<summary><code>{key}</code> <span style="{_GREY}">({count})</span>'
            f"</summary>{lines}</details>"
        )
    if not blocks:
        return ""
    return (
        '<div class="nbflow-logs" style="font-size:12px;margin-top:6px">'
        f'<div><b>Logs</b> <span style="{_GREY}">last {LOG_TAIL} per step</span></div>'
        f"{''.join(blocks)}</div>"
    )


def _line(event: Event, started: float | None) -> str:
    data = event.data
    if event.event_type is EventType.LOGS_CAPTURED and isinstance(data, CapturedOutputData):
        return _captured(data)
    level = logging.getLevelName(data.level) if isinstance(data, LogMessageData) else "INFO"
    level = str(level)
    color = _LEVEL_COLOR.get(level, "#111827")
    return (
        f'<div class="nbflow-log" data-level="{escape(level)}" style="font-family:monospace">'
        f'<span style="{_GREY}">{_when(event.timestamp, started)}</span> '
        f'<b style="color:{color}">{escape(level)}</b> {escape(event.message)}</div>'
    )


def _captured(data: CapturedOutputData) -> str:
    parts = []
    for name, text in (("stdout", data.stdout), ("stderr", data.stderr)):
        if text:
            parts.append(
                f'<div style="{_GREY}">printed ({name})</div>'
                f'<pre class="nbflow-{name}" style="{_PRE}">{escape(text)}</pre>'
            )
    if data.dropped_chars:
        parts.append(f'<div style="{_GREY}">({data.dropped_chars} characters left out)</div>')
    return "".join(parts)


def _when(at: float, started: float | None) -> str:
    if started is None:
        return time.strftime("%H:%M:%S", time.localtime(at))
    return f"+{max(at - started, 0.0):.2f}s"


__all__ = ["step_logs_html"]
