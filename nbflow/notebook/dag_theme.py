"""The colours of an inline DAG as CSS variables that follow the notebook's theme.

The static SVG keeps the fixed colours of :data:`~nbflow.execution.views.graph_dot.STATUS_STYLES`
(it is the fallback and the file written by ``render``). Inline, the HTML output carries this
style sheet: every node, edge, box and the background take their colours from variables
that default to JupyterLab's theme variables (``--jp-layout-color0``,
``--jp-ui-font-color0``...), then VS Code's, then the light palette; under JupyterLab's dark
theme (``body[data-jp-theme-light="false"]``) or VS Code's (``body.vscode-dark``) the
status colours switch to a dark palette.
"""

from __future__ import annotations

from nbflow.execution.views.graph_dot import STATUS_STYLES, StatusStyle

DARK_STYLES: dict[str, StatusStyle] = {
    "pending": StatusStyle("#374151", "#9ca3af", "#f3f4f6"),
    "stored": StatusStyle("#1e3a8a", "#60a5fa", "#dbeafe"),
    "to-be-recomputed": StatusStyle("#713f12", "#f59e0b", "#fef3c7"),
    "running": StatusStyle("#164e63", "#22d3ee", "#cffafe", dashed=True),
    "succeeded": StatusStyle("#14532d", "#4ade80", "#dcfce7"),
    "failed": StatusStyle("#7f1d1d", "#f87171", "#fee2e2"),
    "memoized": StatusStyle("#4c1d95", "#a78bfa", "#ede9fe"),
    "skipped": StatusStyle("#292524", "#78716c", "#d6d3d1", dashed=True),
}
"""Colours per node status on a dark background."""

ROOT = ".nbflow-dag-view"
DARK = 'body[data-jp-theme-light="false"] .nbflow-dag-view, body.vscode-dark .nbflow-dag-view'

_BASE = {
    "bg": "var(--jp-layout-color0, var(--vscode-editor-background, #ffffff))",
    "fg": "var(--jp-ui-font-color0, var(--vscode-editor-foreground, #111827))",
    "muted": "var(--jp-ui-font-color2, var(--vscode-descriptionForeground, #6b7280))",
    "line": "var(--jp-border-color1, #9ca3af)",
    "edge": "var(--jp-ui-font-color2, #6b7280)",
    "panel": "var(--jp-layout-color2, #f3f4f6)",
    "hit": "#e11d48",
}


def _variables(styles: dict[str, StatusStyle]) -> str:
    return "".join(
        f"--nbflow-{status}-fill:{s.fill};--nbflow-{status}-border:{s.border};"
        f"--nbflow-{status}-text:{s.text};"
        for status, s in styles.items()
    )


def _status_rules() -> str:
    rules = []
    for status in STATUS_STYLES:
        node = f"{ROOT} svg g.nbflow-{status}"
        rules.append(
            f"{node} :is(path,polygon,rect,ellipse){{fill:var(--nbflow-{status}-fill);"
            f"stroke:var(--nbflow-{status}-border)}}"
            f"{node} text{{fill:var(--nbflow-{status}-text)}}"
            f"{ROOT} .nbflow-swatch.nbflow-s-{status}{{background:var(--nbflow-{status}-fill);"
            f"border-color:var(--nbflow-{status}-border)}}"
        )
    return "".join(rules)


def stylesheet() -> str:
    """The CSS of every inline DAG (the same text each time, scoped to its class)."""
    base = "".join(f"--nbflow-{k}:{v};" for k, v in _BASE.items())
    svg = f"{ROOT} svg"
    return (
        f"{ROOT}{{{base}{_variables(STATUS_STYLES)}position:relative;background:var(--nbflow-bg);"
        "color:var(--nbflow-fg);font:12px var(--jp-ui-font-family,Helvetica,Arial,sans-serif);"
        "padding:4px 0;max-width:100%}"
        f"{DARK}{{{_variables(DARK_STYLES)}--nbflow-hit:#fb7185}}"
        f"{ROOT} .nbflow-dag-canvas{{overflow:hidden;max-width:100%;touch-action:none}}"
        f"{ROOT} .nbflow-dag-canvas svg{{display:block;height:auto;cursor:grab;user-select:none}}"
        f"{ROOT}.nbflow-dag-dragging .nbflow-dag-canvas svg{{cursor:grabbing}}"
        # the background, boxes of nested graphs, edges and captions
        f"{svg} g.graph>g>a>polygon,{svg} g.graph>polygon,{svg} rect.background"
        "{fill:var(--nbflow-bg);stroke:none}"
        f"{svg} g.graph>g>a>text,{svg} text.caption{{display:none}}"
        f"{svg} g.cluster :is(path,polygon,rect){{stroke:var(--nbflow-line);fill:none}}"
        f"{svg} g.cluster text{{fill:var(--nbflow-muted)}}"
        f"{svg} g.edge path{{stroke:var(--nbflow-edge)}}"
        f"{svg} g.edge polygon,{svg} marker path"
        "{fill:var(--nbflow-edge);stroke:var(--nbflow-edge)}"
        f"{_status_rules()}"
        # search hits, and what is not a hit while searching
        f"{svg} g.nbflow-dag-hit :is(path,polygon,rect){{stroke:var(--nbflow-hit);"
        "stroke-width:3px}"
        f"{svg} g.nbflow-dag-dim{{opacity:.25}}"
        # toolbar (shown once the script runs), note, legend, tooltip
        f"{ROOT} .nbflow-dag-toolbar{{display:none;gap:4px;align-items:center;margin:0 0 4px}}"
        f"{ROOT}.nbflow-dag-live .nbflow-dag-toolbar{{display:flex;flex-wrap:wrap}}"
        f"{ROOT} .nbflow-dag-toolbar button{{min-width:26px;height:22px;padding:0 6px;"
        "border:1px solid var(--nbflow-line);border-radius:4px;background:var(--nbflow-panel);"
        "color:var(--nbflow-fg);cursor:pointer}"
        f"{ROOT} .nbflow-dag-toolbar input{{width:160px;height:20px;padding:0 6px;"
        "border:1px solid var(--nbflow-line);border-radius:4px;background:var(--nbflow-bg);"
        "color:var(--nbflow-fg)}"
        f"{ROOT} .nbflow-dag-found,{ROOT} .nbflow-dag-hint{{color:var(--nbflow-muted)}}"
        f"{ROOT} .nbflow-dag-note{{font-size:13px;margin:0 0 4px;color:var(--nbflow-fg)}}"
        f"{ROOT} .nbflow-dag-degraded{{font-size:11px;color:var(--nbflow-muted)}}"
        f"{ROOT} .nbflow-dag-legend{{display:flex;flex-wrap:wrap;gap:4px 12px;margin-top:4px;"
        "color:var(--nbflow-fg)}"
        f"{ROOT} .nbflow-legend-item{{display:inline-flex;align-items:center;gap:4px}}"
        f"{ROOT} .nbflow-swatch{{display:inline-block;width:16px;height:11px;border:1.5px solid;"
        "border-radius:4px;box-sizing:border-box}"
        f"{ROOT} .nbflow-shape-op{{border-color:var(--nbflow-fg);border-radius:5px}}"
        f"{ROOT} .nbflow-shape-asset{{border-color:var(--nbflow-fg);border-radius:0;"
        "border-width:2px}"
        f"{ROOT} .nbflow-shape-source{{border-color:var(--nbflow-fg);border-radius:0;"
        "border-style:dashed}"
        f"{ROOT} .nbflow-dag-tip{{position:absolute;z-index:10;max-width:420px;padding:4px 7px;"
        "white-space:pre-line;pointer-events:none;font-size:12px;border-radius:4px;"
        "background:var(--nbflow-panel);color:var(--nbflow-fg);border:1px solid var(--nbflow-line);"
        "box-shadow:0 2px 6px rgba(0,0,0,.25)}"
    )
