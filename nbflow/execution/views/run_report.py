"""A self-contained HTML report of one run: its DAG, timeline, steps, logs and tracebacks.

``nbflow runs report RUN_ID -o run.html``, ``result.to_html(path)`` and
``nbflow.notebook.show_run`` all render a :class:`RunReport`. The page inlines everything
(SVG drawings, one small stylesheet, no script): it opens offline, from a file or an email.
Standard library only.

Example:
    >>> report = RunReport.of_result(my_job.execute_in_process())
    >>> report.write("run.html")
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from nbflow.errors import RunHistoryError
from nbflow.events import CapturedOutputData, EventType, LogMessageData, StepFailureData
from nbflow.execution.engine.result import StepSummary
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.graph_view import SOURCE, GraphView, graph_view
from nbflow.execution.views.run_graph import recorded_graph_view
from nbflow.execution.views.run_history import find_run
from nbflow.execution.views.run_timeline import attempt_errors, build_timeline, timeline_svg
from nbflow.execution.views.svg_layout import layout_svg

if TYPE_CHECKING:
    from nbflow.events import Event
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

MAX_LOG_LINES = 500
"""Log messages shown per step; the rest are counted in a note."""

_CSS = """
.nbflow-run-report { font-family: Helvetica, Arial, sans-serif; font-size: 13px; color: #111827; }
.nbflow-run-report h1 { font-size: 18px; margin: 4px 0 8px; }
.nbflow-run-report h2 { font-size: 15px; margin: 18px 0 6px; border-bottom: 1px solid #e5e7eb; }
.nbflow-run-report table { border-collapse: collapse; }
.nbflow-run-report th, .nbflow-run-report td { text-align: left; padding: 3px 10px 3px 0;
  border-bottom: 1px solid #f3f4f6; vertical-align: top; }
.nbflow-run-report .status { padding: 1px 6px; border-radius: 8px; border: 1px solid; }
.nbflow-run-report pre { background: #f9fafb; border: 1px solid #e5e7eb; padding: 6px;
  overflow-x: auto; white-space: pre-wrap; font-size: 12px; margin: 4px 0; }
.nbflow-run-report .scroll { overflow-x: auto; }
.nbflow-run-report .note { color: #6b7280; font-size: 12px; }
.nbflow-run-report .level-WARNING { color: #b45309; }
.nbflow-run-report .level-ERROR, .nbflow-run-report .level-CRITICAL { color: #b91c1c; }
"""


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run's record, its events and its DAG, ready to be written as HTML.

    Attributes:
        run: the run record.
        events: its events, in the order they happened.
        view: its DAG, coloured by how each step went.
    """

    run: Run
    events: tuple[Event, ...]
    view: GraphView

    @classmethod
    def of_result(cls, result: ExecuteInProcessResult) -> RunReport:
        """The report of a run result (its whole plan is drawn, steps that did not run too)."""
        return cls(result.run, tuple(result.all_events), graph_view(result))

    @classmethod
    def of_run(cls, instance: Instance, run_id: str) -> RunReport:
        """The report of run ``run_id`` (or the only run whose id starts with it).

        Raises:
            RunNotFoundError: ``instance`` has no such run.
        """
        run = find_run(instance, run_id)
        events = tuple(instance.get_events(run.run_id))
        return cls(run, events, recorded_graph_view(run.job_name, events))

    def step_states(self) -> StepStates:
        return StepStates(self.events)

    def steps(self) -> list[str]:
        """Every step of the report: the DAG's (in its order), then any other an event names."""
        keys = [n.key for n in self.view.nodes if n.kind != SOURCE]
        known = set(keys)
        for event in self.events:
            if event.step_key is not None and event.step_key not in known:
                known.add(event.step_key)
                keys.append(event.step_key)
        return keys

    # --- sections -------------------------------------------------------------------------------

    def header_html(self) -> str:
        run = self.run
        rows = [
            ("Job", run.job_name),
            ("Run", run.run_id),
            ("Status", run.status.value),
            ("Started", _clock(run.start_time)),
            ("Ended", _clock(run.end_time)),
            ("Duration", _duration(run.start_time, run.end_time)),
        ]
        if run.tags:
            rows.append(("Tags", ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items()))))
        if run.op_selection:
            rows.append(("Op selection", ", ".join(run.op_selection)))
        body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        title = f"Run {escape(run.run_id[:8])} of {escape(run.job_name)}"
        return f'<h1>{title}</h1><table class="run">{body}</table>'

    def dag_html(self) -> str:
        svg = layout_svg(self.view, self.view.note)
        return f'<h2>DAG</h2><div class="scroll dag">{svg}</div>'

    def timeline_html(self) -> str:
        timeline = build_timeline(self.events)
        if not timeline.bars:
            return '<h2>Timeline</h2><p class="note">No step ran in this run.</p>'
        note = (
            "One row per process; each bar is one attempt of a step. A pale lead-in is the "
            "time its process took to start. Hover a bar for its times."
        )
        return (
            f'<h2>Timeline</h2><p class="note">{note}</p>'
            f'<div class="scroll timeline">{timeline_svg(timeline)}</div>'
        )

    def step_table_html(self) -> str:
        states = self.step_states()
        timeline = build_timeline(self.events)
        pids: dict[str, list[int]] = {}
        for bar in timeline.bars:
            if bar.pid not in pids.setdefault(bar.step_key, []):
                pids[bar.step_key].append(bar.pid)
        rows = []
        for key in self.steps():
            record = states[key]
            summary = StepSummary.of(record)
            style = style_for(summary.status)
            memoized = "yes" if record.state is StepState.MEMOIZED else ""
            processes = ", ".join(str(p) for p in pids.get(key, []))
            rows.append(
                f'<tr class="step" data-step="{escape(key)}"><td>{escape(key)}</td>'
                f'<td><span class="status" style="background:{style.fill};'
                f'border-color:{style.border}">{escape(summary.status)}</span></td>'
                f"<td>{_ms(summary.duration_ms)}</td><td>{memoized}</td>"
                f"<td>{record.attempts or ''}</td><td>{processes}</td>"
                f"<td>{escape(summary.detail)}</td></tr>"
            )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("Step", "Status", "Duration", "Memoized", "Attempts", "Process", "Detail")
        )
        return f'<h2>Steps</h2><table class="steps"><tr>{head}</tr>{"".join(rows)}</table>'

    def logs_html(self) -> str:
        t0 = self.run.start_time or min((e.timestamp for e in self.events), default=0.0)
        by_step: dict[str, list[str]] = {}
        for event in self.events:
            if event.event_type is EventType.LOG_MESSAGE:
                by_step.setdefault(event.step_key or "", []).append(_log_line(event, t0))
            elif event.event_type is EventType.LOGS_CAPTURED and isinstance(
                event.data, CapturedOutputData
            ):
                by_step.setdefault(event.step_key or "", []).append(_captured(event.data))
        if not by_step:
            return '<h2>Logs</h2><p class="note">No step logged anything.</p>'
        order = [k for k in ("", *self.steps()) if k in by_step]
        parts = ["<h2>Logs</h2>"]
        for key in order:
            lines = by_step[key]
            shown = lines[:MAX_LOG_LINES]
            more = len(lines) - len(shown)
            tail = f'<p class="note">… {more} more lines not shown</p>' if more > 0 else ""
            label = escape(key) if key else "run"
            parts.append(
                f'<details open class="logs" data-step="{escape(key)}"><summary>{label} '
                f'<span class="note">({len(lines)})</span></summary>{"".join(shown)}{tail}'
                "</details>"
            )
        return "".join(parts)

    def tracebacks_html(self) -> str:
        errors = attempt_errors(self.events)
        parts = []
        for key in [k for k in ("", *self.steps()) if k in errors]:
            for attempt, error in errors[key]:
                where = escape(key) if key else "run"
                if len(errors[key]) > 1 or attempt > 1:
                    where += f" (attempt {attempt})"
                parts.append(
                    f'<details open class="traceback" data-step="{escape(key)}"><summary>'
                    f"{where}: {escape(str(error))}</summary>"
                    f"<pre>{escape(error.traceback or str(error))}</pre></details>"
                )
        for event in self.events:
            if event.step_key is None and isinstance(event.data, StepFailureData):
                error = event.data.error
                parts.append(
                    f'<details open class="traceback" data-step=""><summary>run: '
                    f"{escape(str(error))}</summary><pre>{escape(error.traceback)}</pre></details>"
                )
        if not parts:
            return ""
        return "<h2>Tracebacks</h2>" + "".join(parts)

    # --- the whole ------------------------------------------------------------------------------

    def fragment_html(self) -> str:
        """The report as an HTML fragment (one ``<div>`` with its own scoped style)."""
        sections = (
            self.header_html(),
            self.dag_html(),
            self.timeline_html(),
            self.step_table_html(),
            self.tracebacks_html(),
            self.logs_html(),
        )
        return f'<div class="nbflow-run-report"><style>{_CSS}</style>{"".join(sections)}</div>'

    def to_html(self) -> str:
        """The report as a complete HTML page."""
        title = escape(f"nbflow run {self.run.run_id[:8]} — {self.run.job_name}")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head><body>{self.fragment_html()}</body></html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (folders created); the path written is returned.

        Raises:
            RunHistoryError: ``path`` is an existing folder.
        """
        target = Path(path)
        if target.is_dir():
            raise RunHistoryError.bad_argument(
                "path", os.fspath(path), "a file path such as 'run.html', not a folder"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_html(), encoding="utf-8")
        return target


def _log_line(event: Event, t0: float) -> str:
    data = event.data
    level = logging.getLevelName(data.level) if isinstance(data, LogMessageData) else "INFO"
    logger = data.logger_name if isinstance(data, LogMessageData) else ""
    offset = f"+{max(event.timestamp - t0, 0.0):.3f}s"
    return (
        f'<div class="log level-{escape(str(level))}"><span class="note">{offset}</span> '
        f'<b>{escape(str(level))}</b> <span class="note">{escape(logger)}</span> '
        f"{escape(event.message)}</div>"
    )


def _captured(data: CapturedOutputData) -> str:
    parts = []
    for name, text in (("stdout", data.stdout), ("stderr", data.stderr)):
        if text:
            parts.append(f'<div class="note">{name}</div><pre class="{name}">{escape(text)}</pre>')
    if data.dropped_chars:
        parts.append(f'<p class="note">({data.dropped_chars} characters left out)</p>')
    return "".join(parts)


def _clock(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return ""
    return _ms(max(end - start, 0.0) * 1000)


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value / 1000:.2f} s"
