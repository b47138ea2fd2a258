"""A run's timeline: one bar per step attempt, one row per process, drawn as inline SVG.

Each attempt runs from its ``STEP_START`` (or ``STEP_RESTARTED``) to the event that ends it;
its row is the process that started it (``Event.pid``), so steps that ran side by side in
step processes or Dask workers sit in different rows at the same time. When an executor
launched a process for the attempt (``STEP_WORKER_STARTING``), the time from launch to start
is drawn as a pale lead-in: waiting for a process is visible next to the work itself.
Standard library only; the SVG needs no script or stylesheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from nbflow.events import ErrorInfo, EventType, RetryData, StepFailureData
from nbflow.execution.views.graph_dot import FONT, style_for

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.events import Event

SUCCEEDED, FAILED, RETRIED, RUNNING = "succeeded", "failed", "retried", "running"

_ENDS = {
    EventType.STEP_SUCCESS: SUCCEEDED,
    EventType.STEP_FAILURE: FAILED,
    EventType.STEP_UP_FOR_RETRY: RETRIED,
}
_WIDTH = 900.0
_LABELS = 170.0  # width of the row labels on the left
_ROW = 26.0
_BAR = 18.0
_AXIS = 22.0  # height of the time axis on top
_MIN_BAR = 2.0


@dataclass(frozen=True, slots=True)
class TimelineBar:
    """One attempt of one step.

    Attributes:
        step_key: the step.
        attempt: 1 for the first attempt, 2 for the first retry...
        pid: the process it ran in (its row).
        start: when the attempt started (seconds since the epoch).
        end: when it ended (the run's last event, for an attempt that never ended).
        outcome: ``succeeded``, ``failed``, ``retried`` (failed, then retried) or ``running``.
        launched: when its process was launched, if an executor launched one, else ``None``.
    """

    step_key: str
    attempt: int
    pid: int
    start: float
    end: float
    outcome: str
    launched: float | None = None

    @property
    def duration_s(self) -> float:
        return max(self.end - self.start, 0.0)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The bars of a run and its rows (process ids, in the order they first started a step).

    Attributes:
        bars: every attempt, in the order they started.
        pids: one per row.
        run_pid: the process that ran the run itself (``None`` if no run event says).
        t0: when the run (or its first bar) started.
        t1: when its last event happened.
    """

    bars: tuple[TimelineBar, ...]
    pids: tuple[int, ...]
    run_pid: int | None
    t0: float
    t1: float

    def row_label(self, pid: int) -> str:
        """``run process 123`` for the run's own process, else ``process 456``."""
        return f"run process {pid}" if pid == self.run_pid else f"process {pid}"


def build_timeline(events: Sequence[Event]) -> Timeline:
    """The :class:`Timeline` of a run from its events (a finished run's or a live one's)."""
    launched: dict[str, float] = {}
    open_: dict[str, tuple[float, int, float | None]] = {}
    attempts: dict[str, int] = {}
    bars: list[TimelineBar] = []
    run_pid = None
    for event in events:
        if event.event_type in (EventType.RUN_START, EventType.RUN_STARTING) and run_pid is None:
            run_pid = event.pid
        key = event.step_key
        if key is None:
            continue
        kind = event.event_type
        if kind is EventType.STEP_WORKER_STARTING:
            launched.setdefault(key, event.timestamp)
        elif kind in (EventType.STEP_START, EventType.STEP_RESTARTED):
            open_[key] = (event.timestamp, event.pid, launched.pop(key, None))
            attempts[key] = attempts.get(key, 0) + 1
        elif kind in _ENDS:
            if key in open_:
                start, pid, launch = open_.pop(key)
            elif key in launched:  # its process died before the step started
                start, pid, launch = launched.pop(key), event.pid, None
                attempts[key] = attempts.get(key, 0) + 1
            else:
                continue
            bars.append(
                TimelineBar(key, attempts[key], pid, start, event.timestamp, _ENDS[kind], launch)
            )
    last = max((e.timestamp for e in events), default=0.0)
    for key, (start, pid, launch) in open_.items():
        bars.append(TimelineBar(key, attempts[key], pid, start, max(last, start), RUNNING, launch))
    bars.sort(key=lambda b: (b.launched if b.launched is not None else b.start, b.start))
    pids: dict[int, None] = {}
    for bar in bars:
        pids.setdefault(bar.pid, None)
    first = min((e.timestamp for e in events), default=0.0)
    return Timeline(tuple(bars), tuple(pids), run_pid, first, max(last, first))


def attempt_errors(events: Sequence[Event]) -> dict[str, list[tuple[int, ErrorInfo]]]:
    """Step key → the errors of its failed attempts (attempt number, error), in order."""
    errors: dict[str, list[tuple[int, ErrorInfo]]] = {}
    attempts: dict[str, int] = {}
    for event in events:
        key = event.step_key
        if key is None:
            continue
        if event.event_type in (EventType.STEP_START, EventType.STEP_RESTARTED):
            attempts[key] = attempts.get(key, 0) + 1
        error = None
        if isinstance(event.data, StepFailureData):
            error = event.data.error
        elif isinstance(event.data, RetryData):
            error = event.data.error
        if error is not None:
            errors.setdefault(key, []).append((max(attempts.get(key, 1), 1), error))
    return errors


def timeline_svg(timeline: Timeline) -> str:
    """The timeline as an SVG element: a time axis, one row per process, one bar per attempt.

    Bars are ``<g class="bar ...">`` groups whose ``data-step``, ``data-pid``, ``data-start``
    and ``data-end`` attributes give the step, its process and its times (seconds from the
    run's start); hovering a bar shows them.
    """
    span = max(timeline.t1 - timeline.t0, 1e-3)
    scale = (_WIDTH - _LABELS - 16.0) / span
    height = _AXIS + _ROW * max(len(timeline.pids), 1) + 8.0
    row_of = {pid: i for i, pid in enumerate(timeline.pids)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nbflow-timeline" width="{_WIDTH:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {_WIDTH:.0f} {height:.0f}" '
        f'font-family={quoteattr(FONT)} font-size="11">',
        f'<rect x="0" y="0" width="{_WIDTH:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    tick = _tick(span)
    n = 0
    while n * tick <= span + 1e-9:
        x = _LABELS + n * tick * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{_AXIS - 4:.1f}" x2="{x:.1f}" y2="{height - 4:.1f}" '
            f'stroke="#e5e7eb"/><text x="{x + 2:.1f}" y="{_AXIS - 8:.1f}" fill="#6b7280">'
            f"{_seconds(n * tick)}</text>"
        )
        n += 1
    for pid, i in row_of.items():
        y = _AXIS + i * _ROW
        shade = "#f9fafb" if i % 2 == 0 else "white"
        out.append(
            f'<g class="row" data-pid="{pid}"><rect x="0" y="{y:.1f}" width="{_WIDTH:.0f}" '
            f'height="{_ROW:.0f}" fill="{shade}" fill-opacity="0.6"/><text x="6" '
            f'y="{y + _ROW / 2 + 4:.1f}" fill="#374151">'
            f"{escape(timeline.row_label(pid))}</text></g>"
        )
    for bar in timeline.bars:
        out.append(_bar_svg(bar, timeline, scale, _AXIS + row_of[bar.pid] * _ROW))
    out.append("</svg>")
    return "\n".join(out)


def _bar_svg(bar: TimelineBar, timeline: Timeline, scale: float, row_y: float) -> str:
    style = style_for(FAILED if bar.outcome == RETRIED else bar.outcome)
    x = _LABELS + (bar.start - timeline.t0) * scale
    width = max(bar.duration_s * scale, _MIN_BAR)
    y = row_y + (_ROW - _BAR) / 2
    start, end = bar.start - timeline.t0, bar.end - timeline.t0
    tip = f"{bar.step_key}: {bar.outcome}, {_seconds(bar.duration_s)} in process {bar.pid}"
    if bar.attempt > 1:
        tip += f" (attempt {bar.attempt})"
    parts = [
        f"<g class={quoteattr(f'bar nbflow-{bar.outcome}')} data-step={quoteattr(bar.step_key)} "
        f'data-pid="{bar.pid}" data-attempt="{bar.attempt}" data-start="{start:.4f}" '
        f'data-end="{end:.4f}">'
    ]
    if bar.launched is not None and bar.launched < bar.start:
        lead_x = _LABELS + (bar.launched - timeline.t0) * scale
        tip += f"; waited {_seconds(bar.start - bar.launched)} for its process"
        parts.append(
            f'<rect class="wait" x="{lead_x:.1f}" y="{y + _BAR / 3:.1f}" '
            f'width="{max(x - lead_x, 0.5):.1f}" height="{_BAR / 3:.1f}" fill="{style.border}" '
            'fill-opacity="0.25"/>'
        )
    dash = ' stroke-dasharray="3,2"' if bar.outcome in (RETRIED, RUNNING) else ""
    parts.append(f"<title>{escape(tip)}</title>")
    parts.append(
        f'<rect class="run" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{_BAR:.0f}" '
        f'rx="3" fill="{style.fill}" stroke="{style.border}"{dash}/>'
    )
    if width > 40:
        label = bar.step_key if len(bar.step_key) * 6.2 < width - 6 else bar.step_key[:1] + "…"
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + _BAR / 2 + 4:.1f}" fill="{style.text}">'
            f"{escape(label)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _tick(span: float) -> float:
    """A round step for about eight ticks over ``span`` seconds."""
    raw = span / 8
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s".replace(".00 s", " s")
    minutes, secs = divmod(round(value), 60)
    return f"{minutes}m {secs:02d}s"
