"""A finished run at a glance: a summary table and its DAG, as HTML (no pandas needed).

``%load_ext nbflow.notebook`` makes every ``ExecuteInProcessResult`` display this way;
:func:`show_result` does it for one result without the extension.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.run_names import asset_names, what_runs
from nbflow.notebook._result_rows import result_rows
from nbflow.notebook.dag import MAX_NODES, DagDisplay
from nbflow.notebook.durations import human_duration
from nbflow.notebook.step_tracebacks import step_tracebacks_html
from nbflow.storage.run import RunStatus

if TYPE_CHECKING:
    from nbflow.execution.engine.result import ExecuteInProcessResult

_SHORT = 12


def _pill(status: str) -> str:
    style = style_for("pending" if status == "not run" else status)
    return (
        f'<span style="background:{style.fill};border:1px solid {style.border};color:{style.text};'
        f'border-radius:9px;padding:0 7px;white-space:nowrap">{escape(status)}</span>'
    )


def _duration(ms: float | None, saved_ms: float | None = None) -> str:
    if saved_ms is not None:
        return f"{human_duration(ms)} (saved {human_duration(saved_ms)})".lstrip()
    return human_duration(ms)


def _of(result: ExecuteInProcessResult) -> str:
    if asset_names(result.job_def) is None:
        return f"job <code>{escape(result.job_def.name)}</code>"
    return escape(what_runs(result.job_def))


def result_html(
    result: ExecuteInProcessResult, *, max_nodes: int | None = MAX_NODES, engine: str | None = None
) -> str:
    """HTML for ``result``: a headline, one table row per step, the failed steps' tracebacks
    (user frames only) and the coloured DAG."""
    rows = result_rows(result)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    state = "succeeded" if result.success else "failed"
    if result.run.status is RunStatus.CANCELED:
        state = "canceled"
    headline = (
        f"<b>Run {escape(result.run_id[:8])}</b> of {_of(result)} {_pill(state)} "
        f"&nbsp;{len(rows)} steps: " + ", ".join(f"{n} {escape(s)}" for s, n in counts.items())
    )
    cell = 'style="text-align:left;padding:2px 10px 2px 0;vertical-align:top"'
    body = []
    for row in rows:
        version = row.version or ""
        version = version[:_SHORT] + "…" if len(version) > _SHORT + 1 else version
        detail = escape(row.detail[:300] if row.status in ("failed", "skipped") else row.note)
        body.append(
            f"<tr><td {cell}><code>{escape(row.step)}</code></td><td {cell}>{_pill(row.status)}"
            f"</td><td {cell}>{_duration(row.duration_ms, row.saved_ms)}</td><td {cell}>"
            f'{"yes" if row.memoized else ""}</td><td {cell} title="{escape(row.version or "")}">'
            f"<code>{escape(version)}</code></td><td {cell}>{detail}</td></tr>"
        )
    heads = "".join(
        f"<th {cell}>{h}</th>"
        for h in ("Step", "Status", "Duration", "Memoized", "Version", "Note")
    )
    table = (
        '<table style="border-collapse:collapse;font-size:12px">'
        f"<tr>{heads}</tr>{''.join(body)}</table>"
    )
    states = result.step_states()
    failures = step_tracebacks_html(states[row.step] for row in rows)
    small = '<div style="color:#6b7280;font-size:11px">'
    try:
        dag = DagDisplay(result, max_nodes=max_nodes, engine=engine).html()
    except Exception as exc:
        dag = f"{small}(DAG not drawn: {escape(type(exc).__name__)})</div>"
    return (
        f'<div class="nbflow-result"><div style="margin-bottom:4px">{headline}</div>'
        f"{table}{failures}{dag}</div>"
    )


class ResultDisplay:
    """Shows a run result as :func:`result_html` (``text/html``) with a ``text/plain`` fallback."""

    def __init__(self, result: ExecuteInProcessResult, **options: Any) -> None:
        self.result = result
        self.options = options

    def _repr_html_(self) -> str | None:
        try:
            return result_html(self.result, **self.options)
        except Exception:
            return None

    def __repr__(self) -> str:
        try:
            lines = [repr(self.result)]
            if asset_names(self.result.job_def) is not None:  # not the job nbflow made for them
                status = "success" if self.result.success else "failure"
                lines = [f"Run {self.result.run_id[:8]} of {_of(self.result)}: {status}"]
            for row in result_rows(self.result):
                lines.append(
                    f"  {row.step}  {row.status}  {_duration(row.duration_ms, row.saved_ms)}"
                )
            return "\n".join(lines)
        except Exception:
            return "<ResultDisplay>"


def show_result(result: ExecuteInProcessResult, **options: Any) -> ResultDisplay:
    """Display ``result`` as a summary table and DAG (what ``%load_ext nbflow.notebook`` does)."""
    return ResultDisplay(result, **options)
