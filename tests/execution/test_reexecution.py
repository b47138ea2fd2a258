"""Re-execution: execute_job(reexecution_options=...) re-runs steps and loads the rest."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    EventType,
    Instance,
    ReexecutionOptions,
    RunStatus,
    execute_job,
    in_process_executor,
    job,
)
from nbflow.errors import OutputNotFoundError, ReexecutionError

reexec_jobs: Any = importlib.import_module("reexec_jobs")
chain_in_process = reexec_jobs.chain_in_process
chain = reexec_jobs.chain
aside = reexec_jobs.aside


def _runs(folder: Path, name: str) -> int:
    return int(reexec_jobs.runs(folder, name))


def _config(folder: Path, *, fail: bool) -> dict[str, Any]:
    return {
        "ops": {
            "source": {"config": {"folder": str(folder)}},
            "flaky": {"config": {"folder": str(folder), "fail": fail}},
        }
    }


def _started(result: Any) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type is EventType.STEP_START}


def _failed_parent(tmp_path: Path, instance: Instance, job_def: Any = chain_in_process) -> str:
    parent = execute_job(job_def, instance, _config(tmp_path, fail=True), raise_on_error=False)
    assert not parent.success
    return parent.run_id


def test_from_failure_reruns_the_failed_step_and_what_depends_on_it(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent_id = _failed_parent(tmp_path, instance)
    options = ReexecutionOptions.from_failure(parent_id, instance)
    assert options.parent_run_id == parent_id

    result = execute_job(
        chain_in_process,
        instance,
        _config(tmp_path, fail=False),
        reexecution_options=options,
    )
    assert result.success
    assert _started(result) == {"flaky", "final"}
    assert result.output_for_node("final") == 42
    assert _runs(tmp_path, "source") == 1  # loaded from the parent's storage
    assert _runs(tmp_path, "flaky") == 2
    loaded = [e for e in result.all_events if e.event_type is EventType.LOADED_INPUT]
    assert [e.step_key for e in loaded if "source.result" in e.message] == ["flaky"]


def test_the_run_records_its_parent_and_root(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent_id = _failed_parent(tmp_path, instance)
    second = execute_job(
        chain_in_process,
        instance,
        reexecution_options=ReexecutionOptions.from_failure(parent_id, instance),
        raise_on_error=False,
    )  # no run config: the parent's, so flaky fails again
    assert not second.success
    assert second.run.parent_run_id == parent_id
    assert second.run.root_run_id == parent_id
    assert second.run.tags["nbflow/parent_run_id"] == parent_id
    assert second.run.tags["nbflow/root_run_id"] == parent_id

    third = execute_job(
        chain_in_process,
        instance,
        _config(tmp_path, fail=False),
        reexecution_options=ReexecutionOptions.from_failure(second.run_id, instance),
    )
    assert third.success
    assert third.output_for_node("final") == 42  # source's output is in the root run
    stored = Instance.local(tmp_path / "home").get_run(third.run_id)
    assert stored is not None
    assert (stored.parent_run_id, stored.root_run_id) == (second.run_id, parent_id)
    assert _runs(tmp_path, "source") == 1


def test_a_step_selection_runs_those_steps_only(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent = execute_job(chain_in_process, instance, _config(tmp_path, fail=False))
    result = execute_job(
        chain_in_process,
        instance,
        reexecution_options=ReexecutionOptions(parent.run_id, step_selection=["final"]),
    )
    assert _started(result) == {"final"}
    assert result.output_for_node("final") == 42


def test_reexecution_works_across_processes(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent_id = _failed_parent(tmp_path, instance, chain)
    result = execute_job(
        chain,
        instance,
        _config(tmp_path, fail=False),
        reexecution_options=ReexecutionOptions.from_failure(parent_id, instance),
    )
    assert result.output_for_node("final") == 42
    assert _runs(tmp_path, "source") == 1


def test_an_unknown_parent_run_is_refused(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    with pytest.raises(ReexecutionError, match="'nope' is not recorded on this instance"):
        ReexecutionOptions.from_failure("nope", instance)
    with pytest.raises(ReexecutionError, match="'nope' is not recorded on this instance"):
        execute_job(chain_in_process, instance, reexecution_options=ReexecutionOptions("nope"))


def test_from_failure_refuses_a_successful_run(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent = execute_job(chain_in_process, instance, _config(tmp_path, fail=False))
    assert parent.run.status is RunStatus.SUCCESS
    with pytest.raises(ReexecutionError, match="not FAILURE"):
        ReexecutionOptions.from_failure(parent.run_id, instance)


def test_a_parent_of_another_job_is_refused(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent_id = _failed_parent(tmp_path, instance)

    @job(executor_def=in_process_executor)
    def other() -> None:
        aside()

    with pytest.raises(ReexecutionError, match="ran job 'chain', not 'other'"):
        execute_job(other, instance, reexecution_options=ReexecutionOptions(parent_id))


def test_outputs_the_parent_kept_in_memory_are_reported(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent = chain_in_process.execute_in_process(
        run_config=_config(tmp_path, fail=True), instance=instance, raise_on_error=False
    )
    with pytest.raises(OutputNotFoundError, match=r"output 'source.result' \(output of run"):
        execute_job(
            chain_in_process,
            instance,
            _config(tmp_path, fail=False),
            reexecution_options=ReexecutionOptions.from_failure(parent.run_id, instance),
        )


def test_a_step_the_parent_never_ran_must_be_selected(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    parent_id = _failed_parent(tmp_path, instance)
    options = ReexecutionOptions(parent_id, step_selection=["final"])
    with pytest.raises(ReexecutionError, match=r"never completed the steps \['flaky'\]"):
        execute_job(chain_in_process, instance, reexecution_options=options)


_FIRST_SCHEMA = (
    """CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE,
    job_name TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL, run_config TEXT NOT NULL,
    op_selection TEXT, start_time REAL, end_time REAL, created_at REAL NOT NULL)""",
    """CREATE TABLE events (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,
    job_name TEXT NOT NULL, step_key TEXT, event_type TEXT NOT NULL, timestamp REAL NOT NULL,
    message TEXT NOT NULL, pid INTEGER NOT NULL, payload TEXT)""",
    """CREATE TABLE manifests (id INTEGER PRIMARY KEY, step_key TEXT NOT NULL,
    output_name TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL,
    recorded_at REAL NOT NULL, UNIQUE (step_key, output_name, version))""",
    """INSERT INTO runs (run_id, job_name, status, tags, run_config, op_selection,
    start_time, end_time, created_at) VALUES ('old', 'chain', 'SUCCESS', '{}', '{}', NULL,
    1.0, 2.0, 2.0)""",
    "PRAGMA user_version = 1",
)


def test_a_history_written_before_run_lineage_keeps_its_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "runs.db")
    for statement in _FIRST_SCHEMA:
        conn.execute(statement)
    conn.commit()
    conn.close()

    instance = Instance.local(home)
    old = instance.get_run("old")
    assert old is not None
    assert (old.job_name, old.status, old.parent_run_id) == ("chain", RunStatus.SUCCESS, None)
    parent_id = _failed_parent(tmp_path, instance)
    result = execute_job(
        chain_in_process,
        instance,
        _config(tmp_path, fail=False),
        reexecution_options=ReexecutionOptions.from_failure(parent_id, instance),
    )
    stored = Instance.local(home).get_run(result.run_id)
    assert stored is not None
    assert stored.parent_run_id == parent_id
    assert [r.run_id for r in instance.get_runs()][-1] == "old"
