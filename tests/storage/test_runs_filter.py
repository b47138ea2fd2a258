"""``Instance.get_runs(filters=RunsFilter(...))`` and ``Instance.delete_run``, in memory and
in SQLite alike."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from nbflow import Instance, RunStatus
from nbflow.events import Event, EventType
from nbflow.storage import RunsFilter
from nbflow.storage.run import Run

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(params=["ephemeral", "sqlite"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Instance:
    return Instance.ephemeral() if request.param == "ephemeral" else Instance.local(tmp_path)


def record(instance: Instance, run_id: str, job: str, status: RunStatus) -> None:
    run = Run(run_id=run_id, job_name=job)
    instance.add_run(run)
    instance.update_run(run.with_status(status, time.time()))
    instance.handle_event(Event(EventType.RUN_START, job, run_id=run_id))


def ids(runs: list[Run]) -> list[str]:
    return [run.run_id for run in runs]


def test_filters_pick_runs_by_job_status_and_time(instance: Instance) -> None:
    record(instance, "a", "etl", RunStatus.SUCCESS)
    record(instance, "b", "etl", RunStatus.FAILURE)
    middle = time.time()
    time.sleep(0.01)
    record(instance, "c", "report", RunStatus.FAILURE)
    record(instance, "d", "report", RunStatus.CANCELED)

    assert ids(instance.get_runs(filters=RunsFilter())) == ["d", "c", "b", "a"]
    assert ids(instance.get_runs(filters=RunsFilter(job_name="etl"))) == ["b", "a"]
    failed = RunsFilter(statuses=[RunStatus.FAILURE, RunStatus.CANCELED])
    assert ids(instance.get_runs(filters=failed)) == ["d", "c", "b"]
    assert ids(instance.get_runs(limit=1, filters=failed)) == ["d"]
    both = RunsFilter(job_name="report", statuses=[RunStatus.FAILURE])
    assert ids(instance.get_runs(filters=both)) == ["c"]
    assert ids(instance.get_runs(filters=RunsFilter(created_before=middle))) == ["b", "a"]
    assert instance.get_runs(filters=RunsFilter(job_name="nope")) == []


def test_delete_run_forgets_the_run_and_only_its_events(instance: Instance) -> None:
    record(instance, "a", "etl", RunStatus.SUCCESS)
    record(instance, "b", "etl", RunStatus.SUCCESS)

    assert instance.delete_run("a") is True
    assert instance.get_run("a") is None
    assert instance.get_events("a") == []
    assert ids(instance.get_runs()) == ["b"]
    assert [e.event_type for e in instance.get_events("b")] == [EventType.RUN_START]
    assert instance.delete_run("a") is False


def test_deleting_from_an_empty_folder_creates_nothing(tmp_path: Path) -> None:
    assert Instance.local(tmp_path / "home").delete_run("x") is False
    assert not (tmp_path / "home").exists()
