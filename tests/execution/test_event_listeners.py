"""``Instance.add_event_listener``: a run's events, in order, to a callback, from every executor."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import pytest

from nbflow import Event, EventType, Instance, execute_job, job, op

mp_jobs: Any = importlib.import_module("mp_jobs")


@op
def one() -> int:
    return 1


@op
def plus_one(x: int) -> int:
    return x + 1


@job
def chain() -> None:
    plus_one(one())


def test_a_listener_gets_every_event_of_its_run_in_order() -> None:
    instance = Instance.ephemeral()
    heard: list[Event] = []
    instance.add_event_listener("watched", heard.append)

    result = chain.execute_in_process(instance=instance, run_id="watched")
    other = chain.execute_in_process(instance=instance)  # another run: not heard

    assert result.run_id == "watched"
    assert heard == result.all_events == instance.get_events("watched")
    assert heard[0].event_type is EventType.RUN_START
    assert heard[-1].event_type is EventType.RUN_SUCCESS
    assert all(e.run_id == "watched" for e in heard)
    assert other.run_id != "watched"


def test_a_listener_hears_the_step_processes_of_the_multiprocess_executor(
    tmp_path: Path,
) -> None:
    instance = Instance.local(tmp_path / "home")
    heard: list[Event] = []
    instance.add_event_listener("mp-run", heard.append)

    result = execute_job(
        mp_jobs.flaky_job,
        run_config=mp_jobs.recorder_config(tmp_path),
        instance=instance,
        run_id="mp-run",
    )

    assert result.success and result.run_id == "mp-run"
    assert heard == result.all_events
    assert [e.event_type for e in heard] == [e.event_type for e in instance.get_events("mp-run")]
    step_pids = {e.pid for e in heard if e.event_type is EventType.STEP_RESTARTED}
    assert step_pids and step_pids.isdisjoint({heard[0].pid})  # from the step process
    kinds = [e.event_type for e in heard if e.step_key == "flaky"]
    assert kinds.index(EventType.STEP_UP_FOR_RETRY) < kinds.index(EventType.STEP_SUCCESS)


def test_a_listener_that_raises_is_logged_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    instance = Instance.ephemeral()
    heard: list[Event] = []

    def broken(event: Event) -> None:
        raise ValueError("listener bug")

    instance.add_event_listener("noisy", broken)
    instance.add_event_listener("noisy", heard.append)
    with caplog.at_level(logging.WARNING, logger="nbflow"):
        result = chain.execute_in_process(instance=instance, run_id="noisy")

    assert result.success
    assert heard == result.all_events  # the next listener still hears everything
    warnings = [r for r in caplog.records if "listener" in r.getMessage()]
    assert len(warnings) == len(result.all_events)
    assert warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is not None and "listener bug" in str(warnings[0].exc_info[1])


def test_a_removed_listener_hears_nothing_more() -> None:
    instance = Instance.ephemeral()
    heard: list[Event] = []
    instance.add_event_listener("first", heard.append)
    chain.execute_in_process(instance=instance, run_id="first")
    instance.remove_event_listener("first", heard.append)
    instance.remove_event_listener("first", heard.append)  # twice: nothing happens
    count = len(heard)

    instance.handle_event(Event(EventType.ENGINE_EVENT, "chain", run_id="first"))

    assert len(heard) == count
    assert len(instance.get_events("first")) == count + 1
