"""``step_timings``: recent step durations of one job, read from a run history.

Runs and their events are written to real storages (SQLite and in memory), as a run would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nbflow import Instance
from nbflow.events import Event, EventType, StepDurationData
from nbflow.storage.run import Run
from nbflow.storage.step_history import MAX_RUNS, SAMPLES, step_timings

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(params=["sqlite", "memory"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Instance:
    return Instance.local(tmp_path) if request.param == "sqlite" else Instance.ephemeral()


def record(instance: Instance, run_id: str, job: str, seconds: dict[str, float]) -> None:
    """A run of ``job`` in which each step of ``seconds`` started and succeeded."""
    instance.add_run(Run(run_id, job))
    events = []
    for step, took in seconds.items():
        events.append(Event(EventType.STEP_START, job, step, run_id=run_id))
        events.append(
            Event(
                EventType.STEP_SUCCESS, job, step, data=StepDurationData(took * 1000), run_id=run_id
            )
        )
        events.append(Event(EventType.HANDLED_OUTPUT, job, step, run_id=run_id))
    events.append(Event(EventType.RUN_SUCCESS, job, run_id=run_id))
    instance.store_events(events)


def test_the_expected_time_is_the_median_of_the_newest_samples(instance: Instance) -> None:
    for i, took in enumerate([9.0, 1.0, 2.0, 6.0]):  # oldest first
        record(instance, f"r{i}", "job", {"a": took})
    record(instance, "failed", "job", {})  # a run in which nothing succeeded

    timings = step_timings(instance, "job", ["a", "b"])

    assert timings.durations == {"a": (6.0, 2.0, 1.0)}  # newest first, SAMPLES of them
    assert SAMPLES == 3
    assert timings.expected_seconds("a") == 2.0
    assert timings.expected_seconds("b") is None
    assert timings.runs_read == 5  # b never ran: every run of the job is read


def test_other_jobs_are_ignored_and_old_runs_are_found_past_many_newer_ones(
    instance: Instance,
) -> None:
    record(instance, "first", "job", {"a": 0.5, "b": 0.25})
    for i in range(150):  # more than a page of runs of another job, with the same step keys
        record(instance, f"other{i}", "other", {"a": 99.0})
    for i in range(3):  # later runs of the job that ran only b
        record(instance, f"later{i}", "job", {"b": 0.125})

    timings = step_timings(instance, "job", ["a", "b"])

    assert timings.durations == {"a": (0.5,), "b": (0.125, 0.125, 0.125)}
    assert timings.runs_read == 4


def test_reading_stops_once_every_step_has_its_samples(instance: Instance) -> None:
    for i in range(6):
        record(instance, f"r{i}", "job", {"a": 1.0, "b": 1.0})

    assert step_timings(instance, "job", ["a", "b"]).runs_read == SAMPLES


def test_reading_stops_after_max_runs(instance: Instance) -> None:
    record(instance, "oldest", "job", {"a": 1.0})
    for i in range(5):
        record(instance, f"r{i}", "job", {"b": 1.0})

    timings = step_timings(instance, "job", ["a", "b"], max_runs=3)

    assert "a" not in timings.durations
    assert timings.runs_read == 3
    assert MAX_RUNS >= 100


def test_a_step_that_never_succeeded_costs_a_bounded_number_of_events(instance: Instance) -> None:
    steps = {f"s{i}": 0.01 for i in range(400)}
    for i in range(20):
        record(instance, f"r{i}", "job", steps)

    timings = step_timings(instance, "job", [*steps, "never"])

    assert "never" not in timings.durations
    assert len(timings.durations) == 400
    assert timings.runs_read < 20  # the event budget (12 events per step) ran out first


def test_events_of_types_keeps_only_those_types_in_order(instance: Instance) -> None:
    record(instance, "r", "job", {"a": 1.0, "b": 2.0})

    found = instance.run_storage.get_events_of_types(
        "r", (EventType.STEP_SUCCESS, EventType.RUN_SUCCESS)
    )

    assert [(e.event_type, e.step_key) for e in found] == [
        (EventType.STEP_SUCCESS, "a"),
        (EventType.STEP_SUCCESS, "b"),
        (EventType.RUN_SUCCESS, None),
    ]
    assert found[1].data == StepDurationData(2000.0)
    assert instance.run_storage.get_events_of_types("r", ()) == []
