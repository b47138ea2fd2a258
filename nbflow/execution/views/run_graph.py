"""The DAG of a recorded run, rebuilt from its events when the job itself is not at hand.

The run history keeps events, not job definitions: ``nbflow runs report RUN_ID`` knows the
steps that an event names, and the edges that ``STEP_INPUT`` events name (``up.result``
feeding an input). A step that never loaded an input (memoized, skipped) shows no edge into
it; the view's note says so. With a run result at hand, use
:func:`~nbflow.execution.views.graph_view.graph_view` instead: it has the whole plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.events import EventType, StepInputData
from nbflow.execution.engine.step_states import StepStates
from nbflow.execution.views.graph_view import ClusterView, EdgeView, GraphView, NodeView

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.events import Event

NOTE = "Edges are the inputs the steps loaded in this run; steps that did not run show none."


def recorded_graph_view(title: str, events: Sequence[Event]) -> GraphView:
    """A :class:`GraphView` of the steps named in ``events``, coloured by how they went.

    Args:
        title: the caption (usually the job's name).
        events: the run's events, in the order they happened.
    """
    order: dict[str, None] = {}
    feeds: dict[tuple[str, str], list[str]] = {}
    for event in events:
        key = event.step_key
        if key is None:
            continue
        order.setdefault(key, None)
        if event.event_type is EventType.STEP_INPUT and isinstance(event.data, StepInputData):
            for up, output in _sources(event.data.source):
                feeds.setdefault((up, key), []).append(f"{up}.{output} → {event.data.input_name}")
    nodes = []
    clusters: dict[str, ClusterView] = {}
    for key in order:
        head, _, name = key.rpartition(".")
        if head:
            _add_cluster(head, clusters)
        nodes.append(NodeView(key, name, tooltip=key, cluster=head or None))
    edges = [
        EdgeView(up, down, "\n".join(lines))
        for (up, down), lines in feeds.items()
        if up in order and up != down
    ]
    view = GraphView(title, tuple(nodes), tuple(edges), tuple(clusters.values()), NOTE)
    return view.with_step_states(StepStates(events))


def _sources(text: str) -> list[tuple[str, str]]:
    """``"a.result, b.out"`` → ``[("a", "result"), ("b", "out")]``; ``"value"`` → ``[]``."""
    found = []
    for part in text.split(", "):
        up, dot, output = part.strip().rpartition(".")
        if dot and up:
            found.append((up, output))
    return found


def _add_cluster(key: str, clusters: dict[str, ClusterView]) -> None:
    if key in clusters:
        return
    parent, _, name = key.rpartition(".")
    if parent:
        _add_cluster(parent, clusters)
    clusters[key] = ClusterView(key, name, parent or None)
