"""Job subsets: to_job(op_selection=, hooks=), get_subset, ["*"], and graph aliases as jobs."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    EventType,
    HookContext,
    Instance,
    build_reconstructable_job,
    execute_job,
    graph,
    in_process_executor,
    job,
    op,
    success_hook,
)
from nbflow.errors import InvalidDefinitionError, RunConfigValidationError

reexec_jobs: Any = importlib.import_module("reexec_jobs")


@op
def one() -> int:
    return 1


@op
def plus_one(value: int) -> int:
    return value + 1


@op
def alone() -> str:
    return "alone"


@graph
def counting() -> None:
    plus_one(one())
    alone()


def _ran(result: Any) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS}


def test_to_job_with_op_selection_runs_the_selected_ops_only() -> None:
    subset = counting.to_job(name="ones", op_selection=["one*"])
    assert subset.op_selection == ("one*",)
    result = subset.execute_in_process()
    assert _ran(result) == {"one", "plus_one"}
    assert result.output_for_node("plus_one") == 2
    assert result.run.op_selection == ["one*"]


def test_a_run_selection_replaces_the_jobs() -> None:
    subset = counting.to_job(op_selection=["one"])
    assert _ran(subset.execute_in_process(op_selection=["alone"])) == {"alone"}


def test_to_job_applies_hooks_to_every_op() -> None:
    seen: list[str] = []

    @success_hook
    def record(context: HookContext) -> None:
        seen.append(context.op.name)

    counting.to_job(hooks={record}).execute_in_process()
    assert sorted(seen) == ["alone", "one", "plus_one"]


def test_get_subset_keeps_the_job_and_narrows_its_ops() -> None:
    @job(executor_def=in_process_executor, tags={"team": "data"})
    def full() -> None:
        plus_one(one())
        alone()

    subset = full.get_subset(op_selection=["alone"])
    assert (subset.name, dict(subset.tags), subset.executor_def) == (
        "full",
        {"team": "data"},
        in_process_executor,
    )
    assert _ran(subset.execute_in_process()) == {"alone"}
    assert full.get_subset() is full
    assert _ran(full.execute_in_process()) == {"one", "plus_one", "alone"}


def test_a_star_selects_every_op() -> None:
    assert _ran(counting.to_job(op_selection=["*"]).execute_in_process()) == {
        "one",
        "plus_one",
        "alone",
    }
    assert _ran(counting.to_job().execute_in_process(op_selection=["*"])) == {
        "one",
        "plus_one",
        "alone",
    }


def test_a_bad_selection_fails_when_the_subset_is_made() -> None:
    with pytest.raises(InvalidDefinitionError, match="'nope' names no node of the job"):
        counting.to_job().get_subset(op_selection=["nope"])
    with pytest.raises(InvalidDefinitionError, match="'nope' names no node of the job"):
        counting.to_job(op_selection=["nope"])


def test_an_input_the_subset_cuts_off_comes_from_run_config() -> None:
    subset = counting.to_job(op_selection=["plus_one"])
    with pytest.raises(RunConfigValidationError, match=r"ops:plus_one:inputs: missing .*'value'"):
        subset.execute_in_process()
    given = {"ops": {"plus_one": {"inputs": {"value": 41}}}}
    assert subset.execute_in_process(run_config=given).output_for_node("plus_one") == 42


def test_a_graph_alias_becomes_a_job_of_that_name() -> None:
    seen: list[str] = []

    @success_hook
    def record(context: HookContext) -> None:
        seen.append(context.op.name)

    aliased = counting.alias("renamed").with_hooks({record}).tag({"kind": "alias"})
    job_def = aliased.to_job(op_selection=["alone"])
    assert (job_def.name, job_def.tags["kind"]) == ("renamed", "alias")
    result = job_def.execute_in_process()
    assert _ran(result) == {"alone"}
    assert seen == ["alone"]
    assert counting.alias("other").to_job(name="named").name == "named"


def test_an_op_alias_is_not_a_job() -> None:
    with pytest.raises(InvalidDefinitionError, match="op 'one' is not a graph"):
        one.alias("uno").to_job()


def test_a_reconstructable_subset_runs_in_step_processes(tmp_path: Path) -> None:
    pointer = build_reconstructable_job("reexec_jobs", "chain_job")
    subset = pointer.get_subset(op_selection=["source", "aside"])
    assert subset.get_definition().op_selection == ("source", "aside")
    assert pointer.get_subset() is pointer
    config = {"ops": {"source": {"config": {"folder": str(tmp_path)}}}}
    result = execute_job(subset, Instance.ephemeral(), config)
    assert _ran(result) == {"source", "aside"}
    assert reexec_jobs.runs(tmp_path, "flaky") == 0
