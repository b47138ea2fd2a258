"""``to_dot``: a :class:`GraphView` as Graphviz DOT text, and the colours of each status.

Pure string building: any Graphviz (the ``dot`` program, pygraphviz) can lay the text out,
and tests assert on it directly. :data:`STATUS_STYLES` is shared with the notebook layer's
built-in SVG layout and tables, so every drawing uses the same colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.execution.views.graph_view import ASSET, SOURCE

if TYPE_CHECKING:
    from nbflow.execution.views.graph_view import ClusterView, GraphView, NodeView


@dataclass(frozen=True, slots=True)
class StatusStyle:
    """How a status is drawn: fill, border and text colours, and whether the border is dashed."""

    fill: str
    border: str
    text: str = "#111827"
    dashed: bool = False


STATUS_STYLES: dict[str, StatusStyle] = {
    "pending": StatusStyle("#f3f4f6", "#6b7280"),
    "stored": StatusStyle("#dbeafe", "#2563eb"),
    "to-be-recomputed": StatusStyle("#fef3c7", "#d97706"),
    "running": StatusStyle("#cffafe", "#0891b2", dashed=True),
    "succeeded": StatusStyle("#dcfce7", "#16a34a"),
    "failed": StatusStyle("#fee2e2", "#dc2626", "#7f1d1d"),
    "memoized": StatusStyle("#ede9fe", "#7c3aed"),
    "skipped": StatusStyle("#f5f5f4", "#a8a29e", "#57534e", dashed=True),
}
"""Colours per node status (unknown statuses are drawn as ``pending``)."""

FONT = "Helvetica,Arial,sans-serif"


def style_for(status: str) -> StatusStyle:
    """The style of ``status``; ``pending``'s for a status nbflow does not know."""
    return STATUS_STYLES.get(status, STATUS_STYLES["pending"])


_CONTROL = {c: None for c in range(32) if chr(c) not in "\t\n\r"}


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (backslashes, quotes and newlines escaped).

    Control characters (such as the ANSI colour codes in some error messages) are dropped:
    they are not allowed in the SVG that Graphviz writes.
    """
    escaped = text.translate(_CONTROL).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def to_dot(view: GraphView, rankdir: str = "TB") -> str:
    """The DOT source of ``view``: one node per step, clusters for nested graphs.

    Node attributes carry the status as colours and ``tooltip`` (the reasons, durations or
    error); each node also has a ``class`` naming its status and kind, kept in the SVG that
    Graphviz writes.
    """
    lines = [
        f"digraph {quote(view.title)} {{",
        f"  graph [rankdir={rankdir}, fontname={quote(FONT)}, fontsize=11, "
        f"tooltip={quote(view.title)}, nodesep=0.3, ranksep=0.45];",
        f'  node [shape=box, style="rounded,filled", fontname={quote(FONT)}, fontsize=11, '
        'height=0.36, margin="0.14,0.05"];',
        '  edge [color="#6b7280", arrowsize=0.7];',
    ]
    children: dict[str | None, list[ClusterView]] = {}
    for cluster in view.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    members: dict[str | None, list[NodeView]] = {}
    for node in view.nodes:
        members.setdefault(node.cluster, []).append(node)
    _emit(None, children, members, lines, "  ")
    for edge in view.edges:
        attrs = f" [tooltip={quote(edge.tooltip)}]" if edge.tooltip else ""
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)}{attrs};")
    if view.note:
        lines.append(f"  label={quote(view.note)}; labelloc=t; labeljust=l; fontsize=14;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _emit(
    parent: str | None,
    children: dict[str | None, list[ClusterView]],
    members: dict[str | None, list[NodeView]],
    lines: list[str],
    indent: str,
) -> None:
    for cluster in children.get(parent, ()):
        lines.append(f"{indent}subgraph {quote('cluster_' + cluster.key)} {{")
        lines.append(
            f"{indent}  label={quote(cluster.label)}; tooltip={quote(cluster.key)}; "
            'style="rounded,dashed"; color="#9ca3af"; fontcolor="#374151";'
        )
        _emit(cluster.key, children, members, lines, indent + "  ")
        lines.append(f"{indent}}}")
    for node in members.get(parent, ()):
        lines.append(indent + node_statement(node))


def node_statement(node: NodeView) -> str:
    """``"key" [label=..., colours..., tooltip=...];`` for one node."""
    style = style_for(node.status)
    shapes = ["filled"]
    if node.kind != ASSET:
        shapes.insert(0, "rounded")
    if style.dashed or node.kind == SOURCE:
        shapes.append("dashed")
    tooltip = node.tooltip or node.key
    if node.status not in tooltip:
        tooltip += f"\n{node.status}"
    attrs = [
        f"label={quote(node.label)}",
        f"style={quote(','.join(shapes))}",
        f'fillcolor="{style.fill}"',
        f'color="{style.border}"',
        f'fontcolor="{style.text}"',
        f"tooltip={quote(tooltip)}",
        f"class={quote(f'nbflow-{node.kind} nbflow-{node.status}')}",
    ]
    if node.kind == ASSET:
        attrs.append("penwidth=1.6")
    return f"{quote(node.key)} [{', '.join(attrs)}];"
