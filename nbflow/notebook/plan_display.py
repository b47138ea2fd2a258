"""``nbn.plan``: a memo plan in a notebook, as a table with its totals and the DAG coloured by plan.

Steps that will run are drawn as ``to-be-recomputed`` and memoized ones as ``stored``, in the
colours of ``show_graph(with_versions=True)``. Only :meth:`PlanDisplay.to_frame` needs pandas.

Examples:
    >>> import nbflow.notebook as nbn
    >>> nbn.plan(my_job, run_config, instance=nbflow.Instance.get())   # displays inline
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from nbflow.errors import MissingExtraError
from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.graph_view import STORED, TO_BE_RECOMPUTED
from nbflow.execution.views.memo_plan import UNKNOWN, plan_run, plan_view
from nbflow.execution.views.seconds_text import format_seconds
from nbflow.notebook.dag import MAX_NODES, DagDisplay

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.execution.views.memo_plan import MemoPlan, PlanRow
    from nbflow.storage.instance import Instance

FRAME_COLUMNS = ("step", "action", "expected_seconds", "reasons")

_CELL = 'style="text-align:left;padding:2px 10px 2px 0;vertical-align:top"'
_SMALL = '<div style="color:#6b7280;font-size:11px">'


class PlanDisplay:
    """A :class:`~nbflow.execution.views.memo_plan.MemoPlan` shown inline: ``text/html`` (table,
    totals, coloured DAG) and ``text/plain`` (the table and totals the command line prints).

    Made by :func:`plan`. The plan is computed at once, so a wrong argument raises where it
    is passed; the DAG is drawn when the notebook displays it and never raises.

    Attributes:
        plan: the plan (rows, ``expected_run``, ``time_saved``).
    """

    def __init__(
        self, job: Any, memo_plan: MemoPlan, max_nodes: int | None, engine: str | None
    ) -> None:
        self.job = job
        self.plan = memo_plan
        self.max_nodes = max_nodes
        self.engine = engine

    @property
    def rows(self) -> tuple[PlanRow, ...]:
        return self.plan.rows

    @property
    def to_run(self) -> tuple[str, ...]:
        return self.plan.to_run

    @property
    def memoized(self) -> tuple[str, ...]:
        return self.plan.memoized

    @property
    def expected_seconds(self) -> float | None:
        return self.plan.expected_seconds

    @property
    def saved_seconds(self) -> float | None:
        return self.plan.saved_seconds

    def dag(self) -> DagDisplay:
        """The DAG coloured by the plan (``.source`` is its DOT text, ``.svg`` its drawing)."""
        return DagDisplay(
            plan_view(self.job, self.plan), max_nodes=self.max_nodes, engine=self.engine
        )

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame: step, action, expected_seconds, reasons."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise MissingExtraError.build("pandas", "notebook") from exc
        return pd.DataFrame(
            {
                "step": [r.step_key for r in self.rows],
                "action": [r.action for r in self.rows],
                "expected_seconds": [r.expected_seconds for r in self.rows],
                "reasons": ["; ".join(r.reasons) for r in self.rows],
            },
            columns=list(FRAME_COLUMNS),
        )

    def html(self) -> str:
        """The plan as HTML: a headline, one row per step, the totals and the coloured DAG."""
        plan = self.plan
        headline = (
            f"<b>Memo plan</b> of job <code>{escape(plan.job_name)}</code>: "
            f"{len(plan.to_run)} to run {_pill(TO_BE_RECOMPUTED, 'run')}, "
            f"{len(plan.memoized)} memoized {_pill(STORED, 'memoized')}"
        )
        heads = "".join(f"<th {_CELL}>{h}</th>" for h in ("Step", "Plan", "Expected", "Reasons"))
        body = "".join(
            f"<tr><td {_CELL}><code>{escape(r.step_key)}</code></td>"
            f"<td {_CELL}>{_pill(TO_BE_RECOMPUTED if r.will_run else STORED, r.action)}</td>"
            f"<td {_CELL}>{_seconds(r.expected_seconds)}</td>"
            f"<td {_CELL}>{escape('; '.join(r.reasons))}</td></tr>"
            for r in plan.rows
        )
        table = (
            f'<table style="border-collapse:collapse;font-size:12px"><tr>{heads}</tr>{body}</table>'
        )
        totals = "<br>".join(escape(line) for line in plan.summary().splitlines())
        return (
            f'<div class="nbflow-plan"><div style="margin-bottom:4px">{headline}</div>{table}'
            f'<div style="margin-top:4px;font-size:12px">{totals}</div>{self._dag_html()}</div>'
        )

    def _dag_html(self) -> str:
        try:
            return self.dag().html()
        except Exception as exc:
            return f"{_SMALL}(DAG not drawn: {escape(type(exc).__name__)})</div>"

    def _repr_html_(self) -> str | None:
        try:
            return self.html()
        except Exception:
            return None

    def __str__(self) -> str:
        return str(self.plan)

    def __repr__(self) -> str:
        try:
            return str(self.plan)
        except Exception:
            return "<PlanDisplay>"


def _pill(status: str, text: str) -> str:
    style = style_for(status)
    return (
        f'<span style="background:{style.fill};border:1px solid {style.border};color:{style.text};'
        f'border-radius:9px;padding:0 7px;white-space:nowrap">{escape(text)}</span>'
    )


def _seconds(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else format_seconds(seconds)


def plan(
    job: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    max_nodes: int | None = MAX_NODES,
    engine: str | None = None,
) -> PlanDisplay:
    """What a memoized run of ``job`` would do now: which steps run and why, which are
    stored, the expected run time and the time saved, shown as a table and a coloured DAG.

    Times come from the job's earlier runs on ``instance`` (``unknown`` without history):
    pass the instance your runs use, e.g. ``nbflow.Instance.get()``; the default ephemeral
    instance has no history.

    Args:
        job: a memoized job (version strategy, or the memoization tag).
        run_config: the run config the run would use.
        instance: where stored versions and earlier runs are looked up.
        resources: extra resources, as for ``list_versions``.
        tags: run tags, merged over the job's.
        max_nodes: bigger DAGs are summarised; ``None`` draws everything.
        engine: where to start the drawing chain (``dot``, ``pygraphviz``, ``builtin``).

    Raises:
        MemoizationOffError: the job does not run memoized.
        MissingVersionError: an op has no version and the job no version strategy.
    """
    memo_plan = plan_run(job, run_config, instance, resources, tags)
    return PlanDisplay(job, memo_plan, max_nodes, engine)
