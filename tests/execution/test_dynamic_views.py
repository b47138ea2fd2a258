"""Views of a job with dynamic outputs: before a run a mapped op is one step ``op[*]``; a
run's result shows each mapped step ``op[key]``; the collecting op is shown as any op."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow import DynamicOut, DynamicOutput, Instance, SourceHashVersionStrategy, job, op
from nbflow.execution.views.graph_dot import to_dot
from nbflow.execution.views.graph_view import graph_view
from nbflow.execution.views.list_versions import list_versions
from nbflow.execution.views.memo_plan import plan_run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@op(out=DynamicOut())
def pieces() -> Iterator[DynamicOutput]:
    for key in ["a", "b"]:
        yield DynamicOutput(key * 2, mapping_key=key)


@op
def length(piece: str) -> int:
    return len(piece)


@op
def summed(lengths: list) -> int:  # type: ignore[type-arg]
    return sum(lengths)


@job(version_strategy=SourceHashVersionStrategy())
def pieces_job() -> None:
    summed(pieces().map(length).collect())


def test_list_versions_lists_a_mapped_op_once_as_op_star(tmp_path: Path) -> None:
    rows = {r.step_output: r for r in list_versions(pieces_job, instance=Instance.local(tmp_path))}
    assert list(rows) == ["pieces.result", "length[*].result", "summed.result"]
    mapped = rows["length[*].result"]
    assert mapped.status == "to-be-recomputed"
    assert "mapped over 'pieces.result'" in mapped.reasons[0]


@op
def doubled(total: int) -> int:
    return 2 * total


@job(version_strategy=SourceHashVersionStrategy())
def pieces_then_doubled() -> None:
    doubled(summed(pieces().map(length).collect()))


def test_after_a_run_steps_fed_by_mapped_steps_wait_for_the_keys_with_a_true_reason(
    tmp_path: Path,
) -> None:
    instance = Instance.local(tmp_path)
    pieces_then_doubled.execute_in_process(instance=instance)
    rows = {r.step_output: r for r in list_versions(pieces_then_doubled, instance=instance)}
    assert rows["pieces.result"].status == "stored"
    for downstream in ("summed.result", "doubled.result"):
        row = rows[downstream]
        assert row.version == ""  # not a guess at a version the run would not use
        assert row.reasons == (
            "reads the outputs of 'length' (mapped): versioned once the run knows its "
            "mapping keys (a stored output of that version is not recomputed)",
        )


def test_graph_view_shows_the_mapped_op_between_the_dynamic_and_the_collecting_op() -> None:
    view = graph_view(pieces_job)
    assert [n.key for n in view.nodes] == ["pieces", "length[*]", "summed"]
    assert [(e.source, e.target) for e in view.edges] == [
        ("pieces", "length[*]"),
        ("length[*]", "summed"),
    ]
    dot = to_dot(view)
    assert '"pieces" -> "length[*]"' in dot and '"length[*]" -> "summed"' in dot


def test_graph_view_with_versions_colours_the_mapped_op(tmp_path: Path) -> None:
    view = graph_view(pieces_job, instance=Instance.local(tmp_path), with_versions=True)
    node = view.node("length[*]")
    assert node.status == "to-be-recomputed"
    assert "mapped over 'pieces.result'" in node.tooltip


def test_a_results_graph_shows_each_mapped_step() -> None:
    view = graph_view(pieces_job.execute_in_process())
    assert [n.key for n in view.nodes] == ["pieces", "length[a]", "length[b]", "summed"]
    assert {n.status for n in view.nodes} == {"succeeded"}
    assert ("length[b]", "summed") in [(e.source, e.target) for e in view.edges]


def test_the_memo_plan_lists_the_mapped_op_to_run(tmp_path: Path) -> None:
    plan = plan_run(pieces_job, instance=Instance.local(tmp_path))
    assert [r.step_key for r in plan.rows] == ["pieces", "length[*]", "summed"]
    assert plan.row("length[*]").will_run
    assert "length[*]" in plan.table()
