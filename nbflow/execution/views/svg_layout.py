"""nbflow's own DAG drawing: a layered layout written as SVG, for when Graphviz is missing
(the notebook's last resort) and for self-contained run reports.

Layers are longest paths from the sources; the order inside each layer comes from a few
barycenter sweeps (down, then up). Each nested graph is laid out on its own and placed as
one block in its parent's layers, so the boxes of nested graphs never overlap and each
label sits inside its box. Layers go top to bottom, or left to right (``rankdir="LR"``, for
graphs much wider than deep). Nodes are rounded rectangles coloured by status, edges
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
GAP_X = 18.0  # between neighbours in a layer
GAP_Y = 30.0  # between layers
GAP_IN_COLUMN = 10.0  # between neighbours in a layer, left to right
GAP_X_LAYERS = 44.0  # between layers, left to right
MARGIN = 16.0
_SIDE = 10.0  # a nested graph's padding, left, right and bottom
_TOP = 22.0  # a nested graph's padding on top, where its label goes
_BAD_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


@dataclass
class _Layout:
    """Where everything goes, in absolute coordinates (before the caption's shift)."""

    x: list[float]  # left edge of each node
    y: list[float]  # top edge of each node
    width: list[float]
    boxes: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    size: tuple[float, float] = (0.0, 0.0)
    # the top-level rows, for edges that go round what lies between: the row of each
    # top-level node (-1 inside a nested graph), each row's top and bottom, and the
    # horizontal spans taken in each row (nodes and nested-graph boxes alike)
    row_of: list[int] = field(default_factory=list)
    row_y: list[tuple[float, float]] = field(default_factory=list)
    row_spans: list[list[tuple[float, float]]] = field(default_factory=list)


@dataclass
class _Block:
    """A nested graph (or the whole graph) laid out on its own: its size and, relative to
    its top-left corner, where its nodes and inner boxes go."""

    width: float
    height: float
    at: dict[int, tuple[float, float]] = field(default_factory=dict)
    boxes: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    rows: list[tuple[float, float, list[tuple[float, float]], list[int]]] = field(
        default_factory=list
    )


CAPTION_LINE = 17.0  # the caption's line height (13px type)


def layout_svg(view: GraphView, caption: str = "", rankdir: str = "TB") -> str:
    """The SVG drawing of ``view``; ``caption`` is written in readable type above the graph.

    ``rankdir="LR"`` draws it left to right (for a graph much wider than deep, such as a fan
    of many steps from one source, which top to bottom would be a thin strip).
    """
    keys = [n.key for n in view.nodes]
    index = {k: i for i, k in enumerate(keys)}
    edges: list[tuple[int, int, str]] = []
    for edge in view.edges:
        s, t = index.get(edge.source), index.get(edge.target)
        if s is None or t is None or s == t:
            continue
        edges.append((s, t, edge.tooltip))
    lr = rankdir == "LR"
    layout = _place(view, edges, lr)
    return _write(view, layout, edges, caption, lr)


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


def _order(layer: list[int], succs: list[list[int]], preds: list[list[int]]) -> list[list[int]]:
    """The items of each layer, left to right, after a few barycentre sweeps."""
    rows: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for v, n in enumerate(layer):
        rows[n].append(v)
    pos = [0.0] * len(layer)

    def settle(row: list[int]) -> None:
        for i, v in enumerate(row):
            pos[v] = (i + 0.5) / len(row)

    def key(v: int, neighbours: list[list[int]]) -> tuple[float, float]:
        near = neighbours[v]
        return (sum(pos[u] for u in near) / len(near) if near else pos[v], pos[v])

    for row in rows:
        settle(row)
    for _ in range(SWEEPS):
        for row in rows[1:]:
            row.sort(key=lambda v: key(v, preds))
            settle(row)
        for row in reversed(rows[:-1]):
            row.sort(key=lambda v: key(v, succs))
            settle(row)
    return rows


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _place(view: GraphView, edges: list[tuple[int, int, str]], lr: bool = False) -> _Layout:
    """Every nested graph is laid out as a block of its own (its nodes and inner blocks in
    layers), then placed as one item in its parent's layers: boxes never overlap."""
    blocks = _Blocks(view, edges, lr)
    whole = blocks.block(None)
    count = len(view.nodes)
    layout = _Layout(
        x=[whole.at[v][0] + MARGIN for v in range(count)],
        y=[whole.at[v][1] + MARGIN for v in range(count)],
        width=blocks.widths,
        boxes=[
            (n, x0 + MARGIN, y0 + MARGIN, x1 + MARGIN, y1 + MARGIN)
            for n, x0, y0, x1, y1 in whole.boxes
        ],
        size=(max(whole.width + 2 * MARGIN, 120.0), whole.height + 2 * MARGIN),
        row_of=[-1] * count,
    )
    for n, (top_y, bottom_y, taken, nodes) in enumerate(whole.rows):
        layout.row_y.append((top_y + MARGIN, bottom_y + MARGIN))
        layout.row_spans.append([(a + MARGIN, b + MARGIN) for a, b in taken])
        for v in nodes:
            layout.row_of[v] = n
    return layout


class _Blocks:
    """The tree of nested graphs, and each one's layout as a block."""

    def __init__(
        self, view: GraphView, edges: list[tuple[int, int, str]], lr: bool = False
    ) -> None:
        self.lr = lr
        chains = [_ancestors(n.cluster) for n in view.nodes]
        self.widths = [max(MIN_W, CHAR_W * len(_label(n.label)) + 24.0) for n in view.nodes]
        self.labels = {c.key: c.label for c in view.clusters}
        self.members: dict[str | None, list[int]] = {}
        self.children: dict[str | None, list[str]] = {}
        for v, chain in enumerate(chains):
            self.members.setdefault(chain[-1] if chain else None, []).append(v)
            for depth, cluster in enumerate(chain):
                siblings = self.children.setdefault(chain[depth - 1] if depth else None, [])
                if cluster not in siblings:
                    siblings.append(cluster)
        # every edge belongs to the innermost nested graph holding both its ends
        self.links: dict[str | None, list[tuple[int | str, int | str]]] = {}
        for s, t, _ in edges:
            a, b = chains[s], chains[t]
            common = 0
            while common < min(len(a), len(b)) and a[common] == b[common]:
                common += 1
            source: int | str = a[common] if len(a) > common else s
            target: int | str = b[common] if len(b) > common else t
            self.links.setdefault(a[common - 1] if common else None, []).append((source, target))

    def _rows(self, key: str | None, items: list[int | str]) -> list[list[int]]:
        position = {item: i for i, item in enumerate(items)}
        succs: list[list[int]] = [[] for _ in items]
        preds: list[list[int]] = [[] for _ in items]
        for source, target in self.links.get(key, ()):
            s, t = position[source], position[target]
            if s != t and t not in succs[s]:
                succs[s].append(t)
                preds[t].append(s)
        return _order(_layers(len(items), succs, preds), succs, preds)

    def _title(self, key: str) -> str:
        return self.labels.get(key, key.rsplit(".", 1)[-1])

    def block(self, key: str | None) -> _Block:
        """``key``'s nested graph (``None``: the whole graph) laid out on its own.

        Top to bottom, a layer is a row and its items go left to right; left to right
        (``self.lr``), a layer is a column and its items go down. A nested graph's label sits
        on its top edge either way.
        """
        lr = self.lr
        items: list[int | str] = [*self.children.get(key, ()), *self.members.get(key, ())]
        inner = {c: self.block(c) for c in self.children.get(key, ())}
        sizes = [  # (width, height) of each item
            (inner[i].width, inner[i].height) if isinstance(i, str) else (self.widths[i], NODE_H)
            for i in items
        ]
        along = [h if lr else w for w, h in sizes]  # the extent inside a layer
        across = [w if lr else h for w, h in sizes]  # the extent from one layer to the next
        gap_in, gap_between = (GAP_IN_COLUMN, GAP_X_LAYERS) if lr else (GAP_X, GAP_Y)
        rows = self._rows(key, items)
        spans = [sum(along[i] for i in row) + gap_in * (len(row) - 1) for row in rows]
        side, top, title = 0.0, 0.0, 0.0
        if key is not None:
            side, top = _SIDE, _TOP
            title = CHAR_W * len(_label(self._title(key))) + 16.0
        # padding before and after the items: inside a layer, then across the layers
        in_start, across_start = (top, side) if lr else (side, top)
        inside = max([*spans, 0.0 if lr else title - 2 * side, 0.0])
        result = _Block(width=0.0, height=0.0)
        offset = across_start
        for row, span in zip(rows, spans, strict=True):
            pos = in_start + (inside - span) / 2
            thick = max(across[i] for i in row)
            taken: list[tuple[float, float]] = []
            nodes: list[int] = []
            for i in row:
                item = items[i]
                centred = offset + (thick - across[i]) / 2
                x, y = (centred, pos) if lr else (pos, centred)
                if isinstance(item, str):
                    _put(result, inner[item], self._title(item), x, y)
                else:
                    result.at[item] = (x, y)
                    nodes.append(item)
                taken.append((pos, pos + along[i]))
                pos += along[i] + gap_in
            if not lr:  # edges that skip rows go round them (top to bottom only)
                result.rows.append((offset, offset + thick, taken, nodes))
            offset += thick + gap_between
        length = (offset - gap_between if rows else offset) + side
        breadth = in_start + inside + side
        result.width, result.height = (length, breadth) if lr else (breadth, length)
        if lr:
            result.width = max(result.width, title)
        return result


def _put(outer: _Block, inner: _Block, label: str, x: float, y: float) -> None:
    """Place ``inner`` (with its box labelled ``label``) at ``(x, y)`` in ``outer``."""
    outer.boxes.append((label, x, y, x + inner.width, y + inner.height))
    outer.boxes += [(n, x + x0, y + y0, x + x1, y + y1) for n, x0, y0, x1, y1 in inner.boxes]
    outer.at.update({v: (x + vx, y + vy) for v, (vx, vy) in inner.at.items()})


def _edge_path(
    layout: _Layout, s: int, t: int, x1: float, y1: float, x2: float, y2: float
) -> tuple[str, float]:
    """A curve from ``s`` down to ``t``, and its rightmost x.

    Edges over several top-level layers go round what lies between them, on the right.
    """
    first, last = layout.row_of[s] + 1, layout.row_of[t] - 1
    detour = None
    if layout.row_of[s] >= 0 and layout.row_of[t] >= 0 and first <= last:
        hit = []
        for n in range(first, last + 1):
            at = x1 + (x2 - x1) * (n - first + 1) / (last - first + 2)  # the straight line here
            hit += [right for left, right in layout.row_spans[n] if left - 8 <= at <= right + 8]
        detour = max(hit) + 12.0 if hit else None
    if detour is None:
        bend = max(20.0, abs(y2 - y1) / 2)
        straight = (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} "
            f"{x2:.1f},{y2 - 1:.1f}"
        )
        return straight, max(x1, x2)
    top, bottom = layout.row_y[first][0], layout.row_y[last][1]
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


def _sideways_path(layout: _Layout, s: int, t: int) -> str:
    """A curve from the right side of ``s`` to the left side of ``t`` (left to right)."""
    x1, y1 = layout.x[s] + layout.width[s], layout.y[s] + NODE_H / 2
    x2, y2 = layout.x[t], layout.y[t] + NODE_H / 2
    bend = max(16.0, abs(x2 - x1) / 2)
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} "
        f"{x2 - 1:.1f},{y2:.1f}"
    )


def _write(
    view: GraphView,
    layout: _Layout,
    edges: list[tuple[int, int, str]],
    caption: str,
    lr: bool = False,
) -> str:
    paths = []
    for s, t, tip in edges:
        if lr:
            paths.append((_sideways_path(layout, s, t), tip))
            continue
        x1 = layout.x[s] + layout.width[s] / 2
        x2 = layout.x[t] + layout.width[t] / 2
        path, right = _edge_path(layout, s, t, x1, layout.y[s] + NODE_H, x2, layout.y[t])
        paths.append((path, tip))
        layout.size = (max(layout.size[0], right + 16.0), layout.size[1])
    width, height = layout.size
    lines = textwrap.wrap(caption, max(40, int(width / 7.0))) if caption else []
    shift = CAPTION_LINE * len(lines) + (6.0 if lines else 0.0)
    height += shift
    marker = f"nbflow-arrow-{zlib.crc32(view.title.encode('utf-8', 'replace')) & 0xFFFFFF:06x}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" class="nbflow-dag nbflow-builtin" '
        f"font-family={_attr(FONT)}>",
        f"<title>{_text(view.title)}</title>",
        f'<defs><marker id="{marker}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker>'
        "</defs>",
        f'<rect class="background" x="0" y="0" width="{width:.1f}" height="{height:.1f}" '
        'fill="white"/>',
    ]
    for i, line in enumerate(lines):
        out.append(
            f'<text class="caption" x="8" y="{12.0 + CAPTION_LINE * i:.1f}" font-size="13" '
            f'fill="#374151">{_text(line)}</text>'
        )
    if shift:
        out.append(f'<g transform="translate(0,{shift:.1f})">')
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
    if shift:
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
