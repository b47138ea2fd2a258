"""The built-in layered SVG layout and the summary of big graphs (pure Python, no Graphviz)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from nbflow.execution.views.graph_dot import STATUS_STYLES
from nbflow.execution.views.graph_view import ClusterView, EdgeView, GraphView, NodeView
from nbflow.execution.views.svg_layout import NODE_H, layout_svg
from nbflow.notebook._summarize import MORE_KEY, group_status, summarize

NS = "{http://www.w3.org/2000/svg}"


def chain(n: int, prefix: str = "n", cluster: str | None = None) -> list[NodeView]:
    return [NodeView(f"{prefix}{i}", f"{prefix}{i}", cluster=cluster) for i in range(n)]


def links(keys: list[str]) -> list[EdgeView]:
    return [EdgeView(a, b) for a, b in itertools.pairwise(keys)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """Node id → (x, y, width, height) of its rectangle."""
    found = {}
    for group in parse(svg).iter(f"{NS}g"):
        if (group.get("id") or "").startswith("node-"):
            rect = group.find(f"{NS}rect")
            assert rect is not None
            found[group.get("id", "")[5:]] = tuple(
                float(rect.get(k, "0")) for k in ("x", "y", "width", "height")
            )
    return found  # type: ignore[return-value]


DIAMOND = GraphView(
    "diamond",
    (
        NodeView("top", "top"),
        NodeView("left", "left"),
        NodeView("right", "right"),
        NodeView("bottom", "bottom", status="failed", tooltip="bottom: op\nfailed: ValueError"),
    ),
    (
        EdgeView("top", "left"),
        EdgeView("top", "right"),
        EdgeView("left", "bottom"),
        EdgeView("right", "bottom", tooltip="right.result → y"),
    ),
)


class TestLayout:
    def test_the_svg_is_well_formed_and_has_every_label(self) -> None:
        svg = layout_svg(DIAMOND)

        root = parse(svg)
        assert root.tag == f"{NS}svg"
        labels = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
        assert labels == ["top", "left", "right", "bottom"]

    def test_upstream_nodes_sit_on_higher_layers(self) -> None:
        placed = boxes(layout_svg(DIAMOND))

        assert placed["top"][1] < placed["left"][1] == placed["right"][1] < placed["bottom"][1]
        assert placed["left"][0] + placed["left"][2] <= placed["right"][0], "no overlap"

    def test_left_to_right_puts_layers_in_columns_and_a_wide_fan_in_one_column(self) -> None:
        fan = [NodeView(f"transform_{i:02d}", f"transform_{i:02d}") for i in range(61)]
        view = GraphView(
            "fan",
            (NodeView("load", "load"), *fan, NodeView("report", "report")),
            (
                *(EdgeView("load", n.key) for n in fan),
                *(EdgeView(n.key, "report") for n in fan),
            ),
        )

        svg = layout_svg(view, rankdir="LR")
        placed = boxes(svg)

        width = float(parse(svg).get("width", "0").removesuffix("pt"))
        assert width < 500, "top to bottom, one row of 61 steps is about 7,000 px wide"
        load, report = placed["load"], placed["report"]
        for node in fan:
            x, _, w, _ = placed[node.key]
            assert load[0] + load[2] < x and x + w < report[0]
        assert len({placed[n.key][0] for n in fan}) == 1
        tops = sorted(placed[n.key][1] for n in fan)
        assert all(b - a >= NODE_H for a, b in itertools.pairwise(tops)), "no overlap"
        paths = [
            path.get("d", "")
            for group in parse(svg).iter(f"{NS}g")
            if group.get("class") == "edge"
            for path in group.iter(f"{NS}path")
        ]
        assert len(paths) == 122
        starts = {tuple(round(float(v)) for v in d[1:].split(" ")[0].split(",")) for d in paths}
        assert (round(load[0] + load[2]), round(load[1] + NODE_H / 2)) in starts

    def test_layers_follow_the_longest_path(self) -> None:
        view = GraphView(
            "skip",
            tuple(chain(3)),
            (*links(["n0", "n1", "n2"]), EdgeView("n0", "n2")),
        )

        placed = boxes(layout_svg(view))

        assert placed["n0"][1] < placed["n1"][1] < placed["n2"][1]

    def test_nodes_are_coloured_by_status_and_tooltips_are_titles(self) -> None:
        svg = layout_svg(DIAMOND)

        failed = STATUS_STYLES["failed"]
        assert f'fill="{failed.fill}" stroke="{failed.border}"' in svg
        titles = ["".join(t.itertext()) for t in parse(svg).iter(f"{NS}title")]
        assert "bottom: op\nfailed: ValueError" in titles
        assert "right.result → y" in titles
        assert len(re.findall(r'<g class="edge">', svg)) == 4
        assert svg.count('marker-end="url(#nbflow-arrow-') == 4

    def test_text_is_escaped_and_control_characters_dropped(self) -> None:
        view = GraphView(
            'a <"weird"> & title',
            (NodeView("x", "<b>&amp;</b>", tooltip="ansi \x1b[31mred\x1b[0m & <tag>"),),
            (),
        )

        root = parse(layout_svg(view, caption="caption <with> & marks"))

        texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
        assert texts == ["caption <with> & marks", "<b>&amp;</b>"], "the caption comes first"
        titles = ["".join(t.itertext()) for t in root.iter(f"{NS}title")]
        assert titles == ['a <"weird"> & title', "ansi [31mred[0m & <tag>\npending"]

    def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip(self) -> None:
        name = "a_very_long_op_name_that_goes_on_and_on_forever"
        svg = layout_svg(GraphView("t", (NodeView(name, name),), ()))

        texts = ["".join(t.itertext()) for t in parse(svg).iter(f"{NS}text")]
        assert texts == [name[:39] + "…"]
        assert f"<title>{name}\npending</title>" in svg

    def test_clusters_are_boxes_around_their_nodes_with_labels(self) -> None:
        nodes = [
            NodeView("a", "a"),
            *chain(2, "outer.inner.", "outer.inner"),
            NodeView("outer.b", "b", cluster="outer"),
            NodeView("c", "c"),
        ]
        view = GraphView(
            "nested",
            tuple(nodes),
            tuple(links(["a", "outer.inner.0", "outer.inner.1", "outer.b", "c"])),
            (ClusterView("outer", "outer"), ClusterView("outer.inner", "inner (sub)", "outer")),
        )

        svg = layout_svg(view)

        placed = boxes(svg)
        clusters = {}
        for group in parse(svg).iter(f"{NS}g"):
            if group.get("class") == "cluster":
                rect = group.find(f"{NS}rect")
                label = group.find(f"{NS}text")
                assert rect is not None and label is not None
                clusters[label.text] = [
                    float(rect.get(k, "0")) for k in ("x", "y", "width", "height")
                ]
        assert set(clusters) == {"outer", "inner (sub)"}

        def inside(box: list[float], node: tuple[float, float, float, float]) -> bool:
            return (
                box[0] < node[0]
                and node[0] + node[2] < box[0] + box[2]
                and box[1] < node[1]
                and node[1] + node[3] < box[1] + box[3]
            )

        assert inside(clusters["outer"], placed["outer.b"])
        assert inside(clusters["inner (sub)"], placed["outer.inner.0"])
        assert inside(clusters["outer"], placed["outer.inner.1"])
        assert not inside(clusters["outer"], placed["a"])
        assert clusters["outer"][1] + 12 < clusters["inner (sub)"][1], "labels do not overlap"

    def test_an_edge_over_several_layers_goes_round_the_nodes_between(self) -> None:
        view = GraphView(
            "skip", tuple(chain(3)), (*links(["n0", "n1", "n2"]), EdgeView("n0", "n2"))
        )

        svg = layout_svg(view)

        paths = re.findall(r'<path d="([^"]+)" fill="none"', svg)
        x, _, width, _ = boxes(svg)["n1"]
        around = [p for p in paths if " L" in p]
        assert len(around) == 1
        detour = float(re.findall(r"L([\d.]+),", around[0])[0])
        assert detour > x + width

    def test_a_cycle_or_a_dangling_edge_does_not_break_the_layout(self) -> None:
        view = GraphView(
            "odd",
            tuple(chain(3)),
            (
                *links(["n0", "n1", "n2"]),
                EdgeView("n2", "n0"),
                EdgeView("n1", "ghost"),
                EdgeView("n1", "n1"),
            ),
        )

        assert len(boxes(layout_svg(view))) == 3

    def test_an_empty_graph_is_a_small_valid_svg(self) -> None:
        root = parse(layout_svg(GraphView("nothing", (), ())))

        assert root.get("class") == "nbflow-dag nbflow-builtin"

    def test_five_hundred_nodes_lay_out(self) -> None:
        nodes = chain(500)
        edges = [
            *links([n.key for n in nodes]),
            *(EdgeView(f"n{i}", f"n{i + 7}") for i in range(493)),
        ]

        placed = boxes(layout_svg(GraphView("big", tuple(nodes), tuple(edges))))

        assert len(placed) == 500
        assert all(h == NODE_H for _, _, _, h in placed.values())


def cluster_boxes(svg: str) -> dict[str, tuple[float, float, float, float, float, float]]:
    """Cluster label → its box (x0, y0, x1, y1) and where its label's text starts (x, y)."""
    found = {}
    for group in parse(svg).iter(f"{NS}g"):
        if group.get("class") == "cluster":
            rect, text = group.find(f"{NS}rect"), group.find(f"{NS}text")
            assert rect is not None and text is not None and text.text
            x, y, w, h = (float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
            found[text.text] = (
                x,
                y,
                x + w,
                y + h,
                float(text.get("x", 0)),
                float(text.get("y", 0)),
            )
    return found


def nested_branches(branches: int) -> GraphView:
    """A source feeding ``branches`` nested graphs side by side; every second one holds a
    graph of its own; all of them feed one sink. Labels get longer than their contents."""
    nodes = [NodeView("start", "start")]
    edges = []
    clusters = []
    for b in range(branches):
        outer = f"branch_{b}"
        clusters.append(ClusterView(outer, f"{outer} (a_rather_long_graph_name_{b})"))
        inner_nodes = chain(2 + b % 3, f"{outer}.op", outer)
        if b % 2:
            clusters.append(ClusterView(f"{outer}.inner", f"inner_{b} (sub)", outer))
            inner_nodes[1:1] = chain(2, f"{outer}.inner.op", f"{outer}.inner")
        nodes += inner_nodes
        keys = [n.key for n in inner_nodes]
        edges += [EdgeView("start", keys[0]), *links(keys), EdgeView(keys[-1], "end")]
        if b % 3 == 1:  # a cross link to the branch before: these two stack
            edges.append(EdgeView(f"branch_{b - 1}.op0", keys[-1]))
    nodes.append(NodeView("end", "end"))
    return GraphView("branches", tuple(nodes), tuple(edges), tuple(clusters))


class TestNestedGraphBoxes:
    @pytest.mark.parametrize("rankdir", ["TB", "LR"])
    @pytest.mark.parametrize("branches", [3, 4, 7, 10])
    def test_boxes_never_overlap_unless_nested_and_hold_their_nodes_and_labels(
        self, branches: int, rankdir: str
    ) -> None:
        view = nested_branches(branches)
        svg = layout_svg(view, rankdir=rankdir)

        found = cluster_boxes(svg)
        placed = boxes(svg)
        by_label = {c.label: c.key for c in view.clusters}
        assert set(found) == set(by_label)
        keyed = {by_label[label]: box for label, box in found.items()}
        for (a, box_a), (b, box_b) in itertools.combinations(keyed.items(), 2):
            nested = a.startswith(b + ".") or b.startswith(a + ".")
            apart = (
                box_a[2] <= box_b[0]
                or box_b[2] <= box_a[0]
                or box_a[3] <= box_b[1]
                or box_b[3] <= box_a[1]
            )
            assert nested or apart, f"{a} and {b} overlap: {box_a} {box_b}"
        for label, (x0, y0, x1, y1, tx, ty) in found.items():
            width = len(label) * 6.8  # the layout's estimate for 12px type, above 11px's
            assert x0 < tx and tx + width <= x1 and y0 < ty - 10 and ty < y1, label
        for node in view.nodes:
            x, y, w, h = placed[node.key]
            for key, (x0, y0, x1, y1, _, ty) in keyed.items():
                holds = node.cluster is not None and (
                    node.cluster == key or node.cluster.startswith(key + ".")
                )
                inside = x0 < x and x + w < x1 and ty < y and y + h < y1
                apart = x + w <= x0 or x1 <= x or y + h <= y0 or y1 <= y
                assert (holds and inside) or (not holds and apart), (node.key, key)


class TestSummarize:
    def test_small_graphs_are_left_alone(self) -> None:
        assert summarize(DIAMOND, 10) is DIAMOND

    def test_a_long_chain_becomes_one_node(self) -> None:
        nodes = chain(300)
        view = GraphView("long", tuple(nodes), tuple(links([n.key for n in nodes])))

        small = summarize(view, 200)

        assert [(n.key, n.label) for n in small.nodes] == [("n0…", "n0 … n299 (300 steps)")]
        assert small.edges == ()
        assert small.note == "Summarised: 300 steps shown as 1 nodes (chains collapsed)."
        assert small.nodes[0].tooltip.startswith("300 steps: 300 pending\nn0\nn1\n")

    def test_chains_break_where_the_status_changes(self) -> None:
        nodes = [
            NodeView(f"n{i}", f"n{i}", status="succeeded" if i < 150 else "failed")
            for i in range(300)
        ]
        view = GraphView("long", tuple(nodes), tuple(links([n.key for n in nodes])))

        small = summarize(view, 200)

        assert [(n.label, n.status) for n in small.nodes] == [
            ("n0 … n149 (150 steps)", "succeeded"),
            ("n150 … n299 (150 steps)", "failed"),
        ]
        assert [(e.source, e.target) for e in small.edges] == [("n0…", "n150…")]

    def test_nested_graphs_collapse_first_deepest_first(self) -> None:
        nodes = [NodeView("start", "start")]
        edges = []
        clusters = []
        for g in range(3):
            clusters.append(ClusterView(f"g{g}", f"g{g}"))
            clusters.append(ClusterView(f"g{g}.deep", "deep", f"g{g}"))
            for i in range(40):
                key = f"g{g}.deep.op{i}"
                nodes.append(NodeView(key, f"op{i}", cluster=f"g{g}.deep"))
                edges.append(EdgeView("start", key))
            nodes.append(NodeView(f"g{g}.end", "end", cluster=f"g{g}"))
            edges += [EdgeView(f"g{g}.deep.op{i}", f"g{g}.end") for i in range(40)]
        view = GraphView("nested", tuple(nodes), tuple(edges), tuple(clusters))

        small = summarize(view, 50)

        assert [n.key for n in small.nodes] == [
            "start",
            "g0.deep",
            "g0.end",
            "g1.deep",
            "g1.end",
            "g2.deep",
            "g2.end",
        ]
        assert small.node("g1.deep").label == "deep (40 steps)"
        assert small.node("g1.deep").cluster == "g1"
        assert [c.key for c in small.clusters] == ["g0", "g1", "g2"]
        assert {(e.source, e.target) for e in small.edges} >= {
            ("start", "g0.deep"),
            ("g0.deep", "g0.end"),
        }
        assert "nested graphs collapsed" in small.note

    def test_what_cannot_be_collapsed_is_cut_with_a_stand_in_node(self) -> None:
        view = GraphView("wide", tuple(chain(300)), ())

        small = summarize(view, 200)

        assert len(small.nodes) == 200
        assert small.nodes[-1].key == MORE_KEY
        assert small.nodes[-1].label == "… 101 more steps"
        assert "only the first 199 shown" in small.note

    @pytest.mark.parametrize(
        ("statuses", "shown"),
        [
            (["succeeded", "failed", "pending"], "failed"),
            (["succeeded", "memoized"], "succeeded"),
            (["stored", "to-be-recomputed"], "to-be-recomputed"),
            (["memoized", "memoized"], "memoized"),
            (["stored"], "stored"),
        ],
    )
    def test_a_group_shows_its_most_urgent_status(self, statuses: list[str], shown: str) -> None:
        assert group_status(statuses) == shown


class TestSummarizedCounts:
    def test_a_chain_of_collapsed_graphs_counts_every_step_it_holds(self) -> None:
        nodes, clusters = [], []
        for g in range(30):
            clusters.append(ClusterView(f"g{g}", f"g{g}"))
            nodes += chain(5, f"g{g}.op", f"g{g}")
        view = GraphView(
            "graphs", tuple(nodes), tuple(links([n.key for n in nodes])), tuple(clusters)
        )

        small = summarize(view, 20)

        assert [(n.label, n.size) for n in small.nodes] == [("g0 … g29 (150 steps)", 150)]
        assert small.nodes[0].tooltip.startswith("150 steps: 150 pending\ng0 (5 steps)\n")

    def test_a_fan_of_chains_becomes_one_node_counting_all_their_steps(self) -> None:
        nodes = [NodeView("source", "source")]
        edges = []
        for c in range(60):
            branch = chain(5, f"c{c}_")
            nodes += branch
            edges += [EdgeView("source", branch[0].key), *links([n.key for n in branch])]
        view = GraphView("fan", tuple(nodes), tuple(edges))

        small = summarize(view, 50)

        assert [n.label for n in small.nodes] == [
            "source",
            "c0_0 … c0_4 (60 branches, 300 steps)",
        ]
        assert small.nodes[1].size == 300
        assert [(e.source, e.target) for e in small.edges] == [("source", small.nodes[1].key)]
        assert small.note == (
            "Summarised: 301 steps shown as 2 nodes "
            "(chains collapsed, parallel branches collapsed)."
        )

    def test_the_stand_in_node_counts_the_steps_of_the_groups_it_replaces(self) -> None:
        nodes, clusters = [], []
        for g in range(300):
            clusters.append(ClusterView(f"g{g}", f"g{g}"))
            nodes += chain(2, f"g{g}.op", f"g{g}")
        view = GraphView("wide", tuple(nodes), (), tuple(clusters))

        small = summarize(view, 200)

        assert small.nodes[-1].label == "… 202 more steps"
        assert sum(n.size for n in small.nodes) == 600
