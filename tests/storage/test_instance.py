"""The instance: where runs and their events are kept."""

from __future__ import annotations

import pytest

from nbflow import EventType, Instance, RunStatus, job, op
from nbflow.storage import InMemoryRunStorage


@op
def work():
    return 1


@op
def broken():
    raise RuntimeError("broken")


@job
def working():
    work()


@job
def failing():
    broken()


def test_ephemeral_instance_is_in_memory() -> None:
    instance = Instance.ephemeral()
    assert isinstance(instance.run_storage, InMemoryRunStorage)
    assert instance.is_persistent is False
    assert instance.get_runs() == []
    assert repr(instance) == "<Instance ephemeral>"


def test_a_run_without_an_instance_uses_a_fresh_ephemeral_one() -> None:
    @op
    def grab(context):
        return context.instance

    @job
    def grabbing():
        grab()

    first = grabbing.execute_in_process()
    second = grabbing.execute_in_process()

    first_instance = first.output_for_node("grab")
    second_instance = second.output_for_node("grab")
    assert isinstance(first_instance, Instance)
    assert first_instance.is_persistent is False
    assert first_instance is not second_instance
    assert first_instance.get_run(first.run_id) == first.run
    assert first_instance.get_run(second.run_id) is None


def test_passed_instance_keeps_the_run_and_its_events(tmp_instance: Instance) -> None:
    result = working.execute_in_process(instance=tmp_instance)

    run = tmp_instance.get_run(result.run_id)
    assert run is not None
    assert run == result.run
    assert run.status is RunStatus.SUCCESS
    assert run.job_name == "working"
    assert tmp_instance.get_events(result.run_id) == result.all_events
    assert tmp_instance.get_runs() == [run]


def test_instance_keeps_failed_runs_too(tmp_instance: Instance) -> None:
    with pytest.raises(RuntimeError, match="broken"):
        failing.execute_in_process(instance=tmp_instance, run_id="failed-run")

    run = tmp_instance.get_run("failed-run")
    assert run is not None
    assert run.status is RunStatus.FAILURE
    events = tmp_instance.get_events("failed-run")
    assert events[-1].event_type is EventType.RUN_FAILURE
    assert EventType.STEP_FAILURE in {e.event_type for e in events}


def test_instance_lists_runs_newest_first_and_keeps_them_apart(tmp_instance: Instance) -> None:
    working.execute_in_process(instance=tmp_instance, run_id="one")
    working.execute_in_process(instance=tmp_instance, run_id="two", tags={"k": "v"})

    assert [r.run_id for r in tmp_instance.get_runs()] == ["two", "one"]
    assert [r.run_id for r in tmp_instance.get_runs(limit=1)] == ["two"]
    assert tmp_instance.get_run("two").tags == {"k": "v"}
    assert {e.run_id for e in tmp_instance.get_events("one")} == {"one"}
    assert tmp_instance.get_run("missing") is None
    assert tmp_instance.get_events("missing") == []


def test_run_records_config_tags_and_selection(tmp_instance: Instance) -> None:
    working.execute_in_process(
        instance=tmp_instance, run_id="sel", op_selection=["work"], tags={"a": "b"}
    )
    run = tmp_instance.get_run("sel")
    assert run is not None
    assert run.op_selection == ["work"]
    assert run.tags == {"a": "b"}
    assert run.run_config["ops"] == {"work": {}}
    assert run.pipeline_name == "working"
