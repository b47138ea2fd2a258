"""The inline DAG's HTML (inline SVG, unique ids, fitted, legend, theme) and show_graph's
focus/depth/only filters."""

from __future__ import annotations

import re

import pytest

from nbflow import job, op
from nbflow.errors import GraphFilterError
from nbflow.execution.views.graph_view import EdgeView, GraphView, NodeView
from nbflow.notebook.dag import show_graph
from nbflow.notebook.dag_html import dag_html
from nbflow.notebook.dag_legend import legend_entries


@op
def load() -> int:
    return 1


@op
def scale(x: int) -> int:
    return 2 * x


@op
def report(x: int) -> int:
    return x


@op
def archive(x: int) -> int:
    return x


@job
def line() -> None:
    archive(report(scale(load())))


def test_the_html_holds_the_svg_inline_fitted_with_its_own_ids() -> None:
    display = show_graph(line, engine="builtin")

    first, second = display.html(), display.html()

    assert "<img" not in first and "<?xml" not in first
    assert re.search(r"<svg[^>]*style=\"width:100%;max-width:\d+px", first)
    ids = set(re.findall(r'\sid="([^"]+)"', first))
    assert ids and ids.isdisjoint(re.findall(r'\sid="([^"]+)"', second)), "ids never clash"
    assert "<title>" in first and "<script>" in first and "--jp-layout-color0" in first


def test_the_legend_lists_only_the_statuses_present() -> None:
    view = GraphView(
        "v",
        (NodeView("a", "a", status="memoized"), NodeView("b", "b", "asset", "failed")),
        (EdgeView("a", "b"),),
    )

    html = dag_html("<svg></svg>", view)

    assert re.findall(r'data-status="([^"]+)"', html) == ["failed", "memoized"]
    assert re.findall(r'data-kind="([^"]+)"', html) == ["op", "asset"]
    assert legend_entries(view)[0] == [("failed", 1), ("memoized", 1)]


def test_the_summary_note_is_above_the_drawing() -> None:
    view = GraphView("v", (NodeView("a", "a"),), (), note="Summarised: 9 steps")

    html = dag_html("<svg></svg>", view)

    assert html.index("Summarised: 9 steps") < html.index('class="nbflow-dag-canvas"')


def test_focus_keeps_what_lies_within_depth_up_and_down() -> None:
    shown = show_graph(line, focus="scale", depth=1).shown

    assert [n.key for n in shown.nodes] == ["load", "scale", "report"]
    assert "Showing 3 of 4 steps: 1 step up and down from scale." in shown.note
    assert [n.key for n in show_graph(line, focus="report").shown.nodes] == [
        "load",
        "scale",
        "report",
        "archive",
    ]


def test_only_failed_keeps_the_failed_and_skipped_steps() -> None:
    view = show_graph(line.execute_in_process()).view.with_statuses(
        {"report": "failed", "archive": "skipped"}
    )

    shown = show_graph(view, only="failed").shown

    assert [n.key for n in shown.nodes] == ["report", "archive"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"focus": "scael"}, "no step has that name"),
        ({"focus": "scale", "depth": -1}, "expected a whole number"),
        ({"only": "chnaged"}, "expected one of"),
    ],
)
def test_bad_filters_are_refused_before_drawing(options: dict[str, object], message: str) -> None:
    with pytest.raises(GraphFilterError, match=message):
        show_graph(line, **options)  # type: ignore[arg-type]
