"""``graph_view`` and ``to_dot``: nodes, edges, clusters and statuses of jobs, plans and results."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    AssetIn,
    Out,
    Output,
    ResourceDefinition,
    SourceAsset,
    asset,
    graph,
    job,
    op,
    versioned_filesystem_io_manager,
)
from nbflow.errors import GraphViewError, MissingVersionError
from nbflow.events import Event, EventType
from nbflow.execution import build_plan, graph_view, to_dot
from nbflow.execution.views.graph_dot import STATUS_STYLES, node_statement, quote
from nbflow.execution.views.graph_view import STATUSES, GraphView, NodeView
from nbflow.storage import clear_memoized_values

seed_002: Any = importlib.import_module("seed_002")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from nbflow import JobDefinition


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@op
def start() -> int:
    return 1


@op
def plus_one(x: int) -> int:
    return x + 1


@op(out={"left": Out(), "right": Out()})
def split(x: int) -> Any:
    yield Output(x, "left")
    yield Output(-x, "right")


@op
def add(x: int, y: int) -> int:
    return x + y


@graph
def inner(x: int) -> Any:
    left, right = split(plus_one(x))
    return add(left, right)


@graph
def outer(x: int) -> Any:
    return inner(x)


@job
def nested() -> None:
    value = start()
    add.alias("total")(outer(value), value)


def seed_002_job(base_dir: Path) -> tuple[JobDefinition, dict[str, Any], dict[str, Any]]:
    """Seed 002's job with fixed versions, and its california and maryland configs."""

    my_job = seed_002.dogs_and_trees(resource_defs={"io_manager": versioned_filesystem_io_manager})

    def config(tree: str) -> dict[str, Any]:
        return {
            "ops": {
                "emit_dog": {"config": {"dog_breed": "poodle"}},
                "emit_tree": {"config": {"tree_species": tree}},
            },
            "resources": {"io_manager": {"config": {"base_dir": str(base_dir)}}},
        }

    return my_job, config("douglas_fir"), config("red_maple")


def doubling_graph() -> Any:
    @op(name="start_v", version="1")
    def start_v() -> int:
        return 1

    @op(name="plus_one_v", version="1")
    def plus_one_v(x: int) -> int:
        return x + 1

    @graph
    def doubling() -> None:
        plus_one_v(start_v())

    return doubling


def statuses(view: GraphView) -> dict[str, str]:
    return {n.key: n.status for n in view.nodes}


class TestStructure:
    def test_nodes_are_steps_in_topological_order_with_their_names_as_labels(self) -> None:
        view = graph_view(nested)

        assert view.title == "nested"
        assert [n.key for n in view.nodes] == [
            "start",
            "outer.inner.plus_one",
            "outer.inner.split",
            "outer.inner.add",
            "total",
        ]
        assert [n.label for n in view.nodes] == ["start", "plus_one", "split", "add", "total"]
        assert {n.kind for n in view.nodes} == {"op"}
        assert set(statuses(view).values()) == {"pending"}
        assert view.node("total").tooltip == "total: op 'add'"

    def test_nested_graphs_are_clusters_inside_their_parents(self) -> None:
        view = graph_view(nested)

        assert [(c.key, c.label, c.parent) for c in view.clusters] == [
            ("outer", "outer", None),
            ("outer.inner", "inner", "outer"),
        ]
        assert view.node("outer.inner.split").cluster == "outer.inner"
        assert view.node("start").cluster is None

    def test_edges_join_steps_once_and_name_the_outputs_and_inputs_they_carry(self) -> None:
        view = graph_view(nested)

        assert {(e.source, e.target) for e in view.edges} == {
            ("start", "outer.inner.plus_one"),
            ("outer.inner.plus_one", "outer.inner.split"),
            ("outer.inner.split", "outer.inner.add"),
            ("outer.inner.add", "total"),
            ("start", "total"),
        }
        both = next(e for e in view.edges if e.target == "outer.inner.add")
        assert both.tooltip == "outer.inner.split.left → x\nouter.inner.split.right → y"

    def test_a_graph_definition_is_drawn_even_when_it_needs_resources(self) -> None:
        @op(required_resource_keys={"db"})
        def query(context: Any) -> int:
            return 1

        @graph
        def reporting() -> None:
            plus_one(query())

        view = graph_view(reporting)

        assert [n.key for n in view.nodes] == ["query", "plus_one"]
        assert [n.key for n in graph_view(doubling_graph(), with_versions=True).nodes] == [
            "start_v",
            "plus_one_v",
        ]

    def test_a_plan_with_an_op_selection_shows_only_the_selected_steps(self) -> None:
        plan = build_plan(nested, op_selection=["total"])

        view = graph_view(plan)

        assert [n.key for n in view.nodes] == ["total"]
        assert view.edges == ()

    def test_assets_are_labelled_by_key_and_source_assets_are_nodes_too(self) -> None:
        @asset(key_prefix="warehouse")
        def orders(raw_orders: int) -> int:
            return raw_orders

        @asset(ins={"orders": AssetIn(key=["warehouse", "orders"])})
        def report(orders: int) -> int:
            return orders

        @asset
        def alone() -> int:
            return 1

        view = graph_view([SourceAsset("raw_orders"), orders, report])

        assert [(n.key, n.label, n.kind) for n in view.nodes] == [
            ("source:raw_orders", "raw_orders", "source"),
            ("warehouse__orders", "warehouse/orders", "asset"),
            ("report", "report", "asset"),
        ]
        assert [(e.source, e.target) for e in view.edges] == [
            ("source:raw_orders", "warehouse__orders"),
            ("warehouse__orders", "report"),
        ]
        assert [n.label for n in graph_view(alone).nodes] == ["alone"]

    @pytest.mark.parametrize("thing", [42, "nested", [1, 2], None], ids=repr)
    def test_anything_else_is_refused_with_what_to_pass(self, thing: object) -> None:
        with pytest.raises(GraphViewError, match="expected a JobDefinition") as caught:
            graph_view(thing)

        assert isinstance(caught.value, TypeError)
        assert "Fix: pass the job" in str(caught.value)


class TestStatusesFromRuns:
    def test_a_successful_run_marks_every_step_succeeded_with_its_duration(self) -> None:
        result = nested.execute_in_process()

        view = graph_view(result)

        assert set(statuses(view).values()) == {"succeeded"}
        node = view.node("outer.inner.split")
        assert node.duration_ms is not None and node.duration_ms >= 0
        assert node.tooltip.startswith("outer.inner.split: op 'split'\nsucceeded in ")

    def test_a_failure_carries_its_message_and_downstream_steps_are_skipped(self) -> None:
        @op
        def broken(x: int) -> int:
            raise ValueError("the river is frozen")

        @job
        def failing() -> None:
            plus_one(broken(start()))

        result = failing.execute_in_process(raise_on_error=False)
        view = graph_view(result)

        assert statuses(view) == {"start": "succeeded", "broken": "failed", "plus_one": "skipped"}
        assert "ValueError: the river is frozen" in view.node("broken").tooltip
        assert "the river is frozen" in to_dot(view)

    def test_memoized_steps_show_the_versions_found(self, tmp_path: Path) -> None:
        my_job, california, maryland = seed_002_job(tmp_path)
        my_job.execute_in_process(run_config=california)

        view = graph_view(my_job.execute_in_process(run_config=maryland))

        assert statuses(view) == {
            "emit_dog": "memoized",
            "emit_tree": "succeeded",
            "emit_sentence": "succeeded",
        }
        assert "memoized: stored result @ " in view.node("emit_dog").tooltip
        assert "versions: result @ " in view.node("emit_tree").tooltip

    def test_events_so_far_show_a_running_step(self) -> None:
        view = graph_view(nested)
        events = [
            Event(EventType.STEP_START, "nested", "start"),
            Event(EventType.STEP_SUCCESS, "nested", "start"),
            Event(EventType.STEP_START, "nested", "outer.inner.plus_one"),
        ]

        live = view.with_events(events)

        assert statuses(live)["start"] == "succeeded"
        assert statuses(live)["outer.inner.plus_one"] == "running"
        assert statuses(live)["total"] == "pending"
        assert live.status_counts() == {"pending": 3, "running": 1, "succeeded": 1}


class TestStatusesFromVersions:
    def test_before_a_run_every_step_is_to_be_recomputed_as_never_run(self, tmp_path: Path) -> None:
        my_job, california, _ = seed_002_job(tmp_path)

        view = graph_view(my_job, california, with_versions=True)

        assert set(statuses(view).values()) == {"to-be-recomputed"}
        assert "result @ " in view.node("emit_dog").tooltip
        assert "never run" in view.node("emit_dog").tooltip

    def test_after_a_run_a_changed_config_names_its_reasons(self, tmp_path: Path) -> None:
        my_job, california, maryland = seed_002_job(tmp_path)
        my_job.execute_in_process(run_config=california)

        stored = graph_view(my_job, california, with_versions=True)
        changed = graph_view(my_job, maryland, with_versions=True)

        assert set(statuses(stored).values()) == {"stored"}
        assert statuses(changed) == {
            "emit_dog": "stored",
            "emit_tree": "to-be-recomputed",
            "emit_sentence": "to-be-recomputed",
        }
        assert "config key 'tree_species' changed" in changed.node("emit_tree").tooltip
        assert "upstream 'emit_tree.result' changed" in changed.node("emit_sentence").tooltip
        assert "config key 'tree_species' changed" in to_dot(changed)

    def test_a_step_is_stored_only_when_every_output_is(self, tmp_path: Path) -> None:
        @op(version="1", out={"left": Out(), "right": Out()})
        def halves() -> Any:
            yield Output(1, "left")
            yield Output(2, "right")

        @job(
            resource_defs={"io_manager": versioned_filesystem_io_manager},
            tags={MEMOIZED_RUN_TAG: "true"},
        )
        def halving() -> None:
            halves()

        run_config = {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path)}}}}
        halving.execute_in_process(run_config=run_config)
        for stored in (tmp_path / "halves" / "right").iterdir():
            stored.unlink()

        view = graph_view(halving, run_config, with_versions=True)

        assert statuses(view) == {"halves": "to-be-recomputed"}
        lines = view.node("halves").tooltip.splitlines()
        assert lines[1] == "to-be-recomputed"
        assert lines[2].startswith("left @ ") and lines[2].endswith(": stored")
        assert lines[3].startswith("right @ ") and ": to-be-recomputed — " in lines[3]

    def test_an_unversioned_job_says_which_ops_lack_a_version(self) -> None:
        with pytest.raises(MissingVersionError, match="start"):
            graph_view(nested, with_versions=True)


class TestDot:
    def test_clusters_nest_and_hold_their_steps(self) -> None:
        dot = to_dot(graph_view(nested))

        assert dot.startswith('digraph "nested" {\n')
        assert dot.endswith("}\n")
        outer_at = dot.index('subgraph "cluster_outer" {')
        inner_at = dot.index('subgraph "cluster_outer.inner" {')
        split_at = dot.index('"outer.inner.split" [label="split"')
        assert outer_at < inner_at < split_at
        assert 'label="inner"; tooltip="outer.inner"' in dot

    def test_every_edge_is_written(self) -> None:
        view = graph_view(nested)

        dot = to_dot(view)

        for edge in view.edges:
            assert f'"{edge.source}" -> "{edge.target}"' in dot
        assert '"start" -> "total" [tooltip="start.result → y"];' in dot

    @pytest.mark.parametrize("status", STATUSES)
    def test_each_status_has_its_own_colours(self, status: str) -> None:
        view = graph_view(nested).with_statuses({"total": status})

        line = next(x for x in to_dot(view).splitlines() if x.strip().startswith('"total" ['))

        style = STATUS_STYLES[status]
        assert f'fillcolor="{style.fill}"' in line
        assert f'color="{style.border}"' in line
        assert f'class="nbflow-op nbflow-{status}"' in line
        assert ("dashed" in line) == style.dashed

    def test_the_colours_of_the_statuses_differ(self) -> None:
        fills = [STATUS_STYLES[s].fill for s in STATUSES]

        assert len(set(fills)) == len(fills)

    def test_text_is_quoted_so_that_any_label_or_tooltip_is_valid_dot(self) -> None:
        node = NodeView('we"ird\\key', "a\nb", tooltip='say "hi"\x1b[31m\\n')

        line = node_statement(node)

        assert line.startswith('"we\\"ird\\\\key" [label="a\\nb"')
        assert 'tooltip="say \\"hi\\"[31m\\\\n\\npending"' in line
        assert quote("plain") == '"plain"'

    def test_a_note_becomes_the_graph_label(self) -> None:
        view = GraphView("t", (NodeView("a", "a"),), (), note="Summarised: 3 steps")

        assert 'label="Summarised: 3 steps"; labelloc=t;' in to_dot(view), "the note at the top"

    def test_assets_are_square_and_source_assets_dashed(self) -> None:
        view = GraphView(
            "assets", (NodeView("s", "s", kind="source"), NodeView("a", "a", kind="asset")), ()
        )

        dot = to_dot(view)

        assert '"s" [label="s", style="rounded,filled,dashed"' in dot
        assert '"a" [label="a", style="filled"' in dot and "penwidth=1.6" in dot


def test_a_hardcoded_resource_graph_keeps_its_wiring() -> None:
    @op(required_resource_keys={"number"})
    def read(context: Any) -> int:
        return int(context.resources.number)

    @job(resource_defs={"number": ResourceDefinition.hardcoded_resource(3)})
    def reading() -> None:
        plus_one(read())

    view = graph_view(reading)

    assert [(e.source, e.target) for e in view.edges] == [("read", "plus_one")]
