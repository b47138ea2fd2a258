"""What ``nbflow runs show`` prints under the step table: each step's log lines, what it
printed, and the traceback of a failed step."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from nbflow.events import CapturedOutputData, EventType, LogMessageData
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.views.user_traceback import user_traceback

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.events import ErrorInfo, Event
    from nbflow.execution.engine.step_states import StepRecord

_INDENT = "  "


def _indented(text: str, depth: int = 1) -> list[str]:
    return [_INDENT * depth + line if line else "" for line in text.rstrip("\n").splitlines()]


def _log_lines(event: Event) -> list[str]:
    data = event.data
    level = logging.getLevelName(data.level) if isinstance(data, LogMessageData) else "INFO"
    stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
    first, *more = event.message.splitlines() or [""]
    return [f"{_INDENT}{stamp} {level:<7} {first}", *(_INDENT * 3 + line for line in more)]


def _captured_lines(data: CapturedOutputData) -> list[str]:
    lines: list[str] = []
    for name, text in (("stdout", data.stdout), ("stderr", data.stderr)):
        if text.strip():
            lines.append(f"{_INDENT}{name}:")
            lines.extend(_indented(text, 2))
    if data.dropped_chars:
        lines.append(f"{_INDENT}({data.dropped_chars} characters of output left out)")
    return lines


def _error_lines(error: ErrorInfo, full_traceback: bool) -> list[str]:
    if not error.traceback.strip():
        return [f"{_INDENT}{error}"]
    text = (
        error.traceback
        if full_traceback
        else user_traceback(error.traceback, "--full-traceback shows them")
    )
    return _indented(text)


def _heading(record: StepRecord | None, step_key: str) -> str:
    if record is None:
        return f"Step {step_key}"
    return f"Step {step_key} ({record.state.value})"


def step_details(events: Sequence[Event], full_traceback: bool = False) -> list[str]:
    """Lines for every step that logged, printed or failed, in the order steps started.

    Args:
        events: the run's events, in order.
        full_traceback: show nbflow's frames too (by default a failed step's traceback keeps
            the user's frames only).

    Returns:
        For each such step, a heading line, then its ``context.log`` lines (time, level,
        message), what it wrote to stdout and stderr, and its traceback if it failed; run
        log lines (of no step) come first, under ``Run``. Empty if there is nothing to show.
    """
    states = StepStates(events)
    logs: dict[str | None, list[str]] = {}
    for event in events:
        if event.event_type is EventType.LOG_MESSAGE:
            logs.setdefault(event.step_key, []).extend(_log_lines(event))
        elif event.event_type is EventType.LOGS_CAPTURED and isinstance(
            event.data, CapturedOutputData
        ):
            logs.setdefault(event.step_key, []).extend(_captured_lines(event.data))
    order: list[str] = [record.step_key for record in states.seen()]
    order += [key for key in logs if key is not None and key not in order]
    lines: list[str] = []
    if logs.get(None):
        lines += ["Run", *logs[None]]
    for key in order:
        record = states[key] if key in states else None
        body = list(logs.get(key, ()))
        if record is not None and record.state is StepState.FAILED and record.error is not None:
            body += _error_lines(record.error, full_traceback)
        if body:
            lines += [_heading(record, key), *body]
    return lines
