"""The legend under an inline DAG: only the statuses and node shapes the drawing shows.

Each entry says what its colour or shape means on hover (``title``), so "stored" and
"memoized" are explained where they are seen.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from nbflow.execution.views.graph_view import ASSET, OP, SOURCE, STATUSES

if TYPE_CHECKING:
    from nbflow.execution.views.graph_view import GraphView

MEANINGS = {
    "pending": "not run yet, and nothing known about stored outputs",
    "stored": "an output of this exact version is stored: a memoized run reuses it",
    "to-be-recomputed": "no stored output of this version: the next memoized run runs it",
    "running": "running now",
    "succeeded": "ran in this run and succeeded",
    "failed": "ran in this run and failed",
    "memoized": "not run in this run: its stored output of the same version was reused",
    "skipped": "not run: an upstream step failed or produced no output",
}
"""What each status means, in a few words."""

SHAPES = {
    OP: ("op", "rounded box: an op"),
    ASSET: ("asset", "square box: an asset"),
    SOURCE: ("source asset", "dashed box: a source asset, read but not made here"),
}


def legend_entries(view: GraphView) -> tuple[list[tuple[str, int]], list[str]]:
    """The statuses present in ``view`` with their node counts, in legend order, and the
    kinds of node present (``op``, ``asset``, ``source``)."""
    counts = view.status_counts()
    statuses = [(s, counts[s]) for s in STATUSES if s in counts]
    statuses += [(s, n) for s, n in counts.items() if s not in STATUSES]
    kinds = [k for k in SHAPES if any(n.kind == k for n in view.nodes)]
    return statuses, kinds


def legend_html(view: GraphView) -> str:
    """A one-line HTML legend of ``view``: a swatch per status present, then the shapes."""
    statuses, kinds = legend_entries(view)
    items = [
        f'<span class="nbflow-legend-item" data-status="{escape(status)}" '
        f'title="{escape(MEANINGS.get(status, status))}">'
        f'<i class="nbflow-swatch nbflow-s-{escape(status)}"></i>{escape(status)} '
        f'<span class="nbflow-legend-count">{count}</span></span>'
        for status, count in statuses
    ]
    if len(kinds) > 1 or ASSET in kinds:  # shapes only matter when they differ
        items += [
            f'<span class="nbflow-legend-item" data-kind="{kind}" '
            f'title="{escape(SHAPES[kind][1])}"><i class="nbflow-swatch nbflow-shape-{kind}">'
            f"</i>{escape(SHAPES[kind][0])}</span>"
            for kind in kinds
        ]
    return f'<div class="nbflow-dag-legend">{"".join(items)}</div>' if items else ""


def legend_text(view: GraphView) -> str:
    """The legend as one line of text: ``"Legend: succeeded = …; memoized = …"``."""
    statuses, _ = legend_entries(view)
    return "Legend: " + "; ".join(f"{s} = {MEANINGS.get(s, s)}" for s, _ in statuses)
