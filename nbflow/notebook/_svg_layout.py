"""The built-in DAG layout, now in :mod:`nbflow.execution.views.svg_layout` so that run
reports (which must not need the notebook layer) draw with it too."""

from __future__ import annotations

from nbflow.execution.views.svg_layout import NODE_H, layout_svg

__all__ = ["NODE_H", "layout_svg"]
