"""nbflow's own DAG drawing: a layered layout written as SVG, for when Graphviz is missing
(the notebook's last resort) and for self-contained run reports.

Layers are longest paths from the sources; the order inside each layer comes from a few
barycenter sweeps (down, then up), then nodes of one nested graph are kept side by side so
its box can be drawn around them. Nodes are rounded rectangles coloured by status, edges
are curves with arrowheads, tooltips are SVG ``<title>`` elements. Standard library only.
"""

from __future__ import annotations

import textwrap
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from nbflow.execution.views.graph_dot import FONT, style_for
from nbflow.execution.views.graph_view import ASSET, SOURCE

if TYPE_CHECKING:
    from nbflow.execution.views.graph_view import GraphView

NODE_H = 30.0
CHAR_W = 6.8  # average width of a 12px sans-serif character
MIN_W = 56.0
MAX_LABEL = 40
SWEEPS = 4
_SIDE = 8.0  # cluster padding per nesting level, left, right and bottom
_TOP = 19.0  # cluster padding per nesting level on top, where its label goes
_BAD_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


@dataclass
class _Layout:
    layer: list[int]
    rows: list[list[int]] = field(default_factory=list)
    x: list[float] = field(default_factory=list)  # left edge
    y: list[float] = field(default_factory=list)  # top edge
    width: list[float] = field(default_factory=list)
    boxes: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    size: tuple[float, float] = (0.0, 0.0)


def layout_svg(view: GraphView, caption: str = "") -> str:
    """The SVG drawing of ``view``; ``caption`` is written in small type under the graph."""
    keys = [n.key for n in view.nodes]
    index = {k: i for i, k in enumerate(keys)}
    succs: list[list[int]] = [[] for _ in keys]
    preds: list[list[int]] = [[] for _ in keys]
    edges: list[tuple[int, int, str]] = []
    for edge in view.edges:
        s, t = index.get(edge.source), index.get(edge.target)
        if s is None or t is None or s == t:
            continue
        edges.append((s, t, edge.tooltip))
        if t not in succs[s]:
            succs[s].append(t)
            preds[t].append(s)
    layers = _layers(len(keys), succs, preds)
    ancestors = [_ancestors(n.cluster) for n in view.nodes]
    rows = _order(layers, succs, preds, ancestors)
    layout = _place(view, rows, ancestors, layers)
    return _write(view, layout, edges, caption)


def _layers(count: int, succs: list[list[int]], preds: list[list[int]]) -> list[int]:
    """Longest-path layer of each node (Kahn's order; nodes on a cycle go last)."""
    indegree = [len(p) for p in preds]
    ready = [v for v in range(count) if indegree[v] == 0]
    order: list[int] = []
    while ready:
        ready.sort(reverse=True)
        v = ready.pop()
        order.append(v)
        for t in succs[v]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    seen = set(order)
    order += [v for v in range(count) if v not in seen]
    rank = {v: i for i, v in enumerate(order)}
    layer = [0] * count
    for v in order:
        before = [layer[p] + 1 for p in preds[v] if rank[p] < rank[v]]
        layer[v] = max(before, default=0)
    return layer


def _ancestors(cluster: str | None) -> list[str]:
    if cluster is None:
        return []
    parts = cluster.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


# Barycentre sweeps with their two small closures; splitting them apart hides the shared state.
def _order(  # noqa: C901
    layer: list[int],
    succs: list[list[int]],
    preds: list[list[int]],
    ancestors: list[list[str]],
) -> list[list[int]]:
    rows: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for v, n in enumerate(layer):
        rows[n].append(v)
    pos = [0.0] * len(layer)

    def settle(row: list[int]) -> None:
        for i, v in enumerate(row):
            pos[v] = (i + 0.5) / len(row)

    for row in rows:
        settle(row)

    def sweep(row: list[int], neighbours: list[list[int]]) -> None:
        def key(v: int) -> tuple[float, float]:
            near = neighbours[v]
            return (sum(pos[u] for u in near) / len(near) if near else pos[v], pos[v])

        row.sort(key=key)
        settle(row)

    for _ in range(SWEEPS):
        for row in rows[1:]:
            sweep(row, preds)
        for row in reversed(rows[:-1]):
            sweep(row, succs)
    totals: dict[str, list[float]] = {}
    for v, chain in enumerate(ancestors):
        for cluster in chain:
            totals.setdefault(cluster, []).append(pos[v])
    mean = {c: sum(p) / len(p) for c, p in totals.items()}
    for row in rows:
        row.sort(key=lambda v: (*((mean[c], c) for c in ancestors[v]), (pos[v], "")))
    return rows


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _place(
    view: GraphView, rows: list[list[int]], ancestors: list[list[str]], layer: list[int]
) -> _Layout:
    depth = max((len(a) for a in ancestors), default=0)
    margin = 16.0 + _SIDE * depth
    gap_y = 30.0 + (_SIDE + _TOP) * depth
    layout = _Layout(layer=layer, rows=rows)
    layout.width = [max(MIN_W, CHAR_W * len(_label(n.label)) + 24.0) for n in view.nodes]
    layout.x = [0.0] * len(view.nodes)
    top = 16.0 + _TOP * depth
    layout.y = [top + n * (NODE_H + gap_y) for n in layer]
    spans: list[float] = []
    for row in rows:
        cursor = 0.0
        for i, v in enumerate(row):
            if i:
                differ = set(ancestors[row[i - 1]]) ^ set(ancestors[v])
                cursor += 18.0 + 14.0 * len(differ)
            layout.x[v] = cursor
            cursor += layout.width[v]
        spans.append(cursor)
    widest = max(spans, default=0.0)
    for row, span in zip(rows, spans, strict=True):
        shift = margin + (widest - span) / 2
        for v in row:
            layout.x[v] += shift
    layout.boxes = _boxes(view, layout, ancestors)
    right = max((layout.x[v] + layout.width[v] for v in range(len(layer))), default=0.0)
    bottom = max((layout.y[v] + NODE_H for v in range(len(layer))), default=0.0)
    for _, _x0, _y0, x1, y1 in layout.boxes:
        right, bottom = max(right, x1), max(bottom, y1)
    layout.size = (max(right + margin, 120.0), bottom + margin)
    return layout


def _boxes(
    view: GraphView, layout: _Layout, ancestors: list[list[str]]
) -> list[tuple[str, float, float, float, float]]:
    members: dict[str, list[int]] = {}
    for v, chain in enumerate(ancestors):
        for cluster in chain:
            members.setdefault(cluster, []).append(v)
    labels = {c.key: c.label for c in view.clusters}
    nesting: dict[str, int] = {}
    for cluster in sorted(members, key=lambda c: -c.count(".")):
        inner = [nesting[c] for c in nesting if c.startswith(cluster + ".")]
        nesting[cluster] = 1 + max(inner, default=0)
    boxes = []
    for cluster in sorted(members, key=lambda c: c.count(".")):
        vs = members[cluster]
        pad = _SIDE * nesting[cluster]
        x0 = min(layout.x[v] for v in vs) - pad
        x1 = max(layout.x[v] + layout.width[v] for v in vs) + pad
        y0 = min(layout.y[v] for v in vs) - _TOP * nesting[cluster]
        y1 = max(layout.y[v] + NODE_H for v in vs) + pad
        boxes.append((labels.get(cluster, cluster.rsplit(".", 1)[-1]), x0, y0, x1, y1))
    return boxes


def _edge_path(
    layout: _Layout, s: int, t: int, x1: float, y1: float, x2: float, y2: float
) -> tuple[str, float]:
    """A curve from ``s`` down to ``t``, and its rightmost x.

    Edges over several layers go round the nodes between them, on the right.
    """
    first, last = layout.layer[s] + 1, layout.layer[t] - 1
    detour = None
    if first <= last:
        hit = []
        for n in range(first, last + 1):
            at = x1 + (x2 - x1) * (n - first + 1) / (last - first + 2)  # the straight line here
            hit += [
                layout.x[v] + layout.width[v]
                for v in layout.rows[n]
                if layout.x[v] - 8 <= at <= layout.x[v] + layout.width[v] + 8
            ]
        detour = max(hit) + 12.0 if hit else None
    if detour is None:
        bend = max(20.0, abs(y2 - y1) / 2)
        straight = (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} "
            f"{x2:.1f},{y2 - 1:.1f}"
        )
        return straight, max(x1, x2)
    top = layout.y[layout.rows[first][0]]
    bottom = layout.y[layout.rows[last][0]] + NODE_H
    a, b = (top - y1) / 2, (y2 - bottom) / 2
    around = (
        f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + a:.1f} {detour:.1f},{top - a:.1f} "
        f"{detour:.1f},{top:.1f} L{detour:.1f},{bottom:.1f} C{detour:.1f},{bottom + b:.1f} "
        f"{x2:.1f},{y2 - b:.1f} {x2:.1f},{y2 - 1:.1f}"
    )
    return around, detour


def _clean(text: str) -> str:
    return text.translate(_BAD_XML).encode("utf-8", "replace").decode("utf-8")


def _text(text: str) -> str:
    return escape(_clean(text))


def _attr(text: str) -> str:
    return quoteattr(_clean(text))


def _write(
    view: GraphView, layout: _Layout, edges: list[tuple[int, int, str]], caption: str
) -> str:
    paths = []
    for s, t, tip in edges:
        x1 = layout.x[s] + layout.width[s] / 2
        x2 = layout.x[t] + layout.width[t] / 2
        path, right = _edge_path(layout, s, t, x1, layout.y[s] + NODE_H, x2, layout.y[t])
        paths.append((path, tip))
        layout.size = (max(layout.size[0], right + 16.0), layout.size[1])
    width, height = layout.size
    lines = textwrap.wrap(caption, max(40, int(width / 6.0))) if caption else []
    height += 14.0 * len(lines)
    marker = f"nbflow-arrow-{zlib.crc32(view.title.encode('utf-8', 'replace')) & 0xFFFFFF:06x}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" class="nbflow-dag nbflow-builtin" '
        f"font-family={_attr(FONT)}>",
        f"<title>{_text(view.title)}</title>",
        f'<defs><marker id="{marker}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker>'
        "</defs>",
        f'<rect x="0" y="0" width="{width:.1f}" height="{height:.1f}" fill="white"/>',
    ]
    for label, x0, y0, x1, y1 in layout.boxes:
        out.append(
            f'<g class="cluster"><title>{_text(label)}</title><rect x="{x0:.1f}" y="{y0:.1f}" '
            f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="8" fill="none" stroke="#9ca3af" '
            f'stroke-dasharray="5,3"/><text x="{x0 + 8:.1f}" y="{y0 + 13:.1f}" font-size="11" '
            f'fill="#374151">{_text(_label(label))}</text></g>'
        )
    for path, tip in paths:
        title = f"<title>{_text(tip)}</title>" if tip else ""
        out.append(
            f'<g class="edge">{title}<path d="{path}" '
            'fill="none" stroke="#6b7280" '
            f'stroke-width="1.2" marker-end="url(#{marker})"/></g>'
        )
    for v, node in enumerate(view.nodes):
        style = style_for(node.status)
        x, y, w = layout.x[v], layout.y[v], layout.width[v]
        dash = ' stroke-dasharray="4,2"' if style.dashed or node.kind == SOURCE else ""
        radius = 2 if node.kind == ASSET else 7
        stroke = 1.8 if node.kind == ASSET else 1.2
        tip = node.tooltip or node.key
        if node.status not in tip:
            tip += f"\n{node.status}"
        out.append(
            f"<g class={_attr(f'node nbflow-{node.kind} nbflow-{node.status}')} "
            f"id={_attr('node-' + node.key)}><title>{_text(tip)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{NODE_H:.0f}" rx="{radius}" '
            f'fill="{style.fill}" stroke="{style.border}" stroke-width="{stroke}"{dash}/>'
            f'<text x="{x + w / 2:.1f}" y="{y + NODE_H / 2 + 4:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{style.text}">{_text(_label(node.label))}</text></g>'
        )
    top = layout.size[1]
    for i, line in enumerate(lines):
        out.append(
            f'<text class="caption" x="8" y="{top + 14.0 * i:.1f}" font-size="10" '
            f'fill="#6b7280">{_text(line)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
