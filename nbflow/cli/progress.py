"""What ``nbflow job execute`` prints while a run goes on: one line per step start and end,
``context.log`` messages under their step, or one JSON event per line.

A display is an event listener (``Instance.add_event_listener``) used as a context manager
around the run. :func:`open_display` picks one: plain lines, flushed as they happen (stdout
is not a terminal); a live progress line above the step lines (a terminal, see
:mod:`nbflow.cli.live_progress`); JSON lines (``--json``); nothing (``--quiet``).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from nbflow.events import Event, EventType, LogMessageData, RetryData, StepFailureData
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.views.seconds_text import format_seconds
from nbflow.storage.event_codec import dumps_event

if TYPE_CHECKING:
    from types import TracebackType

    from nbflow.definitions.job import JobDefinition

QUIET = "quiet"
JSON = "json"
LINES = "lines"


def _ms(duration_ms: float | None) -> str:
    return "" if duration_ms is None else format_seconds(duration_ms / 1000)


def _step_line(event: Event, states: StepStates) -> str | None:
    key = str(event.step_key)
    record = states[key]
    kind = event.event_type
    if kind is EventType.STEP_START:
        return f"  {key}: started"
    if kind is EventType.STEP_RESTARTED:
        return f"  {key}: started again (attempt {record.attempts})"
    if kind is EventType.STEP_SUCCESS:
        return f"  {key}: succeeded in {_ms(record.duration_ms)}"
    if kind is EventType.STEP_FAILURE:
        return f"  {key}: FAILED after {_ms(record.duration_ms)}: {record.failure}"
    if kind is EventType.STEP_UP_FOR_RETRY:
        error = event.data.error if isinstance(event.data, RetryData) else event.message
        return f"  {key}: failed, up for retry: {error}"
    if kind is EventType.STEP_SKIPPED:
        if record.state is StepState.MEMOIZED:
            return f"  {key}: memoized"
        return f"  {key}: skipped ({record.skip_reason})"
    return None


def event_line(event: Event, states: StepStates) -> str | None:
    """The line to print for ``event`` (already folded into ``states``), or ``None``.

    Step starts and ends give a line with the status and duration (``memoized`` for memoized
    steps); ``LOG_MESSAGE`` events give ``  [step] LEVEL message``; the run's start names
    the run; captured output (``LOGS_CAPTURED``) is not printed: the terminal saw it.
    """
    kind = event.event_type
    if kind is EventType.LOG_MESSAGE:
        data = event.data
        level = logging.getLevelName(data.level) if isinstance(data, LogMessageData) else "INFO"
        return f"  [{event.step_key or 'run'}] {level} {event.message}"
    if kind is EventType.RUN_START:
        return f"Run {event.run_id} of job {event.job_name!r}: started"
    if kind is EventType.ENGINE_EVENT and isinstance(event.data, StepFailureData):
        return f"  run error: {event.message}"
    if event.step_key is None:
        return None
    return _step_line(event, states)


SHOWN_EVENTS = frozenset(
    {
        EventType.RUN_START,
        EventType.ENGINE_EVENT,
        EventType.LOG_MESSAGE,
        EventType.STEP_START,
        EventType.STEP_RESTARTED,
        EventType.STEP_SUCCESS,
        EventType.STEP_FAILURE,
        EventType.STEP_UP_FOR_RETRY,
        EventType.STEP_SKIPPED,
    }
)
"""The events a line display prints (or folds to word a later line)."""


class Display:
    """Shows a run's events as they come; use it as a context manager around the run."""

    def __call__(self, event: Event) -> None:
        """Show one event (the run calls it through its event listener)."""

    def __enter__(self) -> Display:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class LineDisplay(Display):
    """One plain line per step start and end (and per log message), flushed at once."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.states = StepStates()

    def __call__(self, event: Event) -> None:
        if event.event_type not in SHOWN_EVENTS:
            return
        self.states.add(event)
        line = event_line(event, self.states)
        if line is not None:
            self.write(line)

    def write(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()


class JsonDisplay(Display):
    """One JSON object per event per line (the event codec's form), flushed at once."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def __call__(self, event: Event) -> None:
        self._out.write(dumps_event(event) + "\n")
        self._out.flush()


def open_display(mode: str, job_def: JobDefinition, out: TextIO | None = None) -> Display:
    """The display for ``mode`` (``lines``, ``json`` or ``quiet``) writing to ``out``
    (stdout by default); ``lines`` on a terminal is the live display."""
    stream: Any = out if out is not None else sys.stdout
    if mode == QUIET:
        return Display()
    if mode == JSON:
        return JsonDisplay(stream)
    if stream.isatty():
        from nbflow.cli.live_progress import LiveDisplay

        return LiveDisplay(stream, job_def)
    return LineDisplay(stream)
