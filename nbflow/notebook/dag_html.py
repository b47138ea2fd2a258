"""An inline DAG as HTML: the SVG itself (tooltips reachable), fitted to the output's width,
with zoom, pan and search, a legend, and theme-following colours.

The SVG is put inline, not as an image, so its ``<title>`` tooltips reach the pointer. Its
ids are prefixed with the output's own id, so two DAGs in one notebook never share one.
It is drawn at most at its natural size and at least as narrow as the output: the width
follows the output area, the height the drawing's proportions. The toolbar shows only
where the script runs (see :mod:`nbflow.notebook.dag_script`); where it does not (an
untrusted notebook, a widget) the drawing is still fitted, themed and has its legend.
"""

from __future__ import annotations

import re
import secrets
from html import escape
from typing import TYPE_CHECKING

from nbflow.notebook.dag_legend import legend_html
from nbflow.notebook.dag_script import dag_script
from nbflow.notebook.dag_theme import stylesheet

if TYPE_CHECKING:
    from nbflow.execution.views.graph_view import GraphView

PT = 4 / 3  # CSS pixels per point, the unit of Graphviz's (and the built-in layout's) sizes
_SVG_TAG = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_SIZE = re.compile(r'\s(width|height)="([\d.]+)(pt|px)?"')
_VIEWBOX = re.compile(r'viewBox="([^"]+)"')
_IDS = re.compile(r'(\sid=")|(url\(#)|(href="#)')


def new_uid() -> str:
    """A fresh id for one output's DAG."""
    return f"nbflow-dag-{secrets.token_hex(6)}"


def fitted_svg(svg: str, uid: str) -> str:
    """``svg`` ready to sit inline in ``uid``'s output: no XML prolog, its own ids, and sized
    to the output's width (never wider than its natural width)."""
    start = svg.find("<svg")
    svg = svg[start:] if start > 0 else svg
    svg = _IDS.sub(lambda m: m.group(0) + uid + "-", svg)
    tag = _SVG_TAG.search(svg)
    if tag is None:
        return svg
    opening = tag.group(0)
    sizes = {
        name: float(value) * (PT if unit != "px" else 1.0)
        for name, value, unit in _SIZE.findall(opening)
    }
    box = _VIEWBOX.search(opening)
    if box is None or "width" not in sizes:
        return svg
    parts = [float(p) for p in box.group(1).replace(",", " ").split()]
    if len(parts) != 4 or parts[2] <= 0 or parts[3] <= 0:
        return svg
    style = (
        f'style="width:100%;max-width:{sizes["width"]:.0f}px;'
        f'aspect-ratio:{parts[2]:.2f} / {parts[3]:.2f}"'
    )
    fitted = _SIZE.sub("", opening)
    fitted = fitted[:-1].rstrip("/").rstrip() + f" {style}>"
    if opening.endswith("/>"):
        fitted = fitted[:-1] + "/>"
    return svg[: tag.start()] + fitted + svg[tag.end() :]


def dag_html(
    svg: str,
    view: GraphView,
    degraded: str = "",
    *,
    uid: str | None = None,
    interactive: bool = True,
) -> str:
    """The HTML of an inline DAG.

    Args:
        svg: the drawing (any engine's SVG).
        view: the view drawn: its note (a summary) is shown above the drawing, its statuses
            and kinds make the legend under it.
        degraded: a note on a degraded drawing (shown small, under it).
        uid: the output's id (a fresh one by default).
        interactive: add the zoom/pan/search script (leave it out where scripts never run,
            such as a widget's HTML).
    """
    uid = uid or new_uid()
    note = f'<div class="nbflow-dag-note">{escape(view.note)}</div>' if view.note else ""
    small = f'<div class="nbflow-dag-degraded">{escape(degraded)}</div>' if degraded else ""
    toolbar = (
        '<div class="nbflow-dag-toolbar" data-lm-suppress-shortcuts="true">'
        '<input class="nbflow-dag-search" type="search" placeholder="Find a step…" '
        'aria-label="Find a step by name" data-lm-suppress-shortcuts="true"/>'
        '<span class="nbflow-dag-found"></span>'
        '<button type="button" data-act="in" title="Zoom in">+</button>'
        '<button type="button" data-act="out" title="Zoom out">&#8722;</button>'
        '<button type="button" data-act="fit" title="Fit the width again">Fit</button>'
        '<span class="nbflow-dag-hint">Ctrl + wheel to zoom, drag to pan</span></div>'
        if interactive
        else ""
    )
    script = f"<script>{dag_script(uid)}</script>" if interactive else ""
    return (
        f'<div class="nbflow-dag-view" id="{uid}"><style>{stylesheet()}</style>{note}{toolbar}'
        f'<div class="nbflow-dag-canvas">{fitted_svg(svg, uid)}</div>'
        f'<div class="nbflow-dag-tip" hidden></div>{legend_html(view)}{small}{script}</div>'
    )
