"""Show part of a DAG: what lies within ``depth`` steps of one step, or only what runs or
changed.

``show_graph(job, focus="scale", depth=2)`` keeps ``scale``, what it reads from up to two
steps up and what reads from it up to two steps down. ``only="changed"`` keeps the steps
whose stored output is out of date (``to-be-recomputed`` in the version table; for a run,
the steps that ran); ``only="runs"`` keeps every step that runs, or ran: also those that
nothing is known about (``pending``); ``only="failed"`` keeps the failed and skipped ones.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

from nbflow.errors import GraphFilterError
from nbflow.execution.views.graph_view import (
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    TO_BE_RECOMPUTED,
)

if TYPE_CHECKING:
    from nbflow.execution.views.graph_view import GraphView, NodeView

ONLY: dict[str, frozenset[str]] = {
    "changed": frozenset({TO_BE_RECOMPUTED, RUNNING, SUCCEEDED, FAILED}),
    "runs": frozenset({TO_BE_RECOMPUTED, PENDING, RUNNING, SUCCEEDED, FAILED}),
    "failed": frozenset({FAILED, SKIPPED}),
}
"""Statuses kept by each ``only=`` choice."""

NEEDS_VERSIONS = frozenset({"changed", "runs"})
"""``only=`` choices that need the version table when a job (not a run) is drawn."""


def check_only(only: str | None) -> None:
    """Raise :class:`GraphFilterError` for an ``only=`` value that is not a known choice."""
    if only is not None and only not in ONLY:
        raise GraphFilterError.unknown_only(only, tuple(ONLY))


def find_step(view: GraphView, name: str) -> NodeView:
    """The node called ``name``: its step key, else its label, else a key ending in it."""
    for matches in (
        [n for n in view.nodes if n.key == name],
        [n for n in view.nodes if n.label == name],
        [n for n in view.nodes if n.key.endswith("." + name)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise GraphFilterError.ambiguous_focus(name, [n.key for n in matches])
    raise GraphFilterError.unknown_focus(name, [n.key for n in view.nodes])


def around(view: GraphView, focus: str, depth: int | None = None) -> GraphView:
    """``view`` cut to ``focus`` and the steps up to ``depth`` edges up or down from it
    (``None``: every ancestor and descendant)."""
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise GraphFilterError.bad_depth(depth)
    centre = find_step(view, focus)
    ups: dict[str, list[str]] = {}
    downs: dict[str, list[str]] = {}
    for edge in view.edges:
        downs.setdefault(edge.source, []).append(edge.target)
        ups.setdefault(edge.target, []).append(edge.source)
    kept = {centre.key}
    for links in (ups, downs):
        queue = deque([(centre.key, 0)])
        seen = {centre.key}
        while queue:
            key, far = queue.popleft()
            if depth is not None and far >= depth:
                continue
            for other in links.get(key, ()):
                if other not in seen:
                    seen.add(other)
                    kept.add(other)
                    queue.append((other, far + 1))
    reach = "every step" if depth is None else f"{depth} step{'s' if depth != 1 else ''}"
    return _keep(view, kept, f"{reach} up and down from {centre.key}")


def only_statuses(view: GraphView, only: str) -> GraphView:
    """``view`` cut to the steps ``only`` keeps (see :data:`ONLY`)."""
    check_only(only)
    kept = {n.key for n in view.nodes if n.status in ONLY[only]}
    return _keep(view, kept, f"only what {_WHAT[only]}")


_WHAT = {"changed": "changed", "runs": "runs", "failed": "failed or was skipped"}


def _keep(view: GraphView, kept: set[str], why: str) -> GraphView:
    nodes = tuple(n for n in view.nodes if n.key in kept)
    edges = tuple(e for e in view.edges if e.source in kept and e.target in kept)
    used = {n.cluster for n in nodes}
    clusters = tuple(
        c
        for c in view.clusters
        if any(u is not None and (u == c.key or u.startswith(c.key + ".")) for u in used)
    )
    note = f"Showing {len(nodes)} of {len(view.nodes)} steps: {why}."
    return replace(
        view,
        nodes=nodes,
        edges=edges,
        clusters=clusters,
        note=f"{view.note} {note}".strip(),
    )
