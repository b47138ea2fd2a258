"""``context.log`` messages as LOG_MESSAGE events, and what step processes print as
LOGS_CAPTURED events: in-process, multiprocess and Dask, stored in the run history."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    Event,
    EventType,
    Instance,
    IOManager,
    execute_job,
    failure_hook,
    io_manager,
    job,
    multiprocess_executor,
    op,
    resource,
)
from nbflow.errors import LogLevelError
from nbflow.events import CapturedOutputData, LogMessageData
from nbflow.execution.executors.output_capture import STREAM_LIMIT, BoundedText


def _logs(events: list[Event]) -> list[tuple[str | None, int, str]]:
    return [
        (e.step_key, e.data.level, e.message)
        for e in events
        if e.event_type is EventType.LOG_MESSAGE
    ]


def _captured(events: list[Event], step_key: str) -> list[CapturedOutputData]:
    return [
        e.data for e in events if e.event_type is EventType.LOGS_CAPTURED and e.step_key == step_key
    ]


@resource
def talkative_resource(context: Any) -> str:
    context.log.info("resource ready")
    return "db"


@failure_hook
def on_failure(context: Any) -> None:
    context.log.warning("hook saw a failure")


@op(required_resource_keys={"db"})
def chatty(context: Any) -> int:
    context.log.debug("debug detail")
    context.log.info("hello %s", "there")
    context.log.warning("careful")
    return 1


@op
def breaks(context: Any, value: int) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        context.log.exception("it broke")
    raise RuntimeError("stop")


@job(resource_defs={"db": talkative_resource}, hooks={on_failure})
def talking() -> None:
    breaks(chatty())


def test_in_process_log_lines_are_events_of_the_run_stored_and_heard(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    heard: list[Event] = []
    instance.add_event_listener("talk", heard.append)

    stdout = sys.stdout
    result = talking.execute_in_process(instance=instance, run_id="talk", raise_on_error=False)
    assert sys.stdout is stdout  # in-process runs never touch the user's streams

    logs = _logs(result.all_events)
    assert logs[:3] == [
        (None, logging.INFO, "resource ready"),
        ("chatty", logging.INFO, "hello there"),
        ("chatty", logging.WARNING, "careful"),
    ]
    assert logs[3][:2] == ("breaks", logging.ERROR)
    assert logs[3][2].startswith("it broke\nTraceback (most recent call last):")
    assert logs[3][2].endswith("ValueError: boom")
    assert logs[4] == ("breaks", logging.WARNING, "hook saw a failure")
    assert len(logs) == 5  # DEBUG is below the default level
    log_events = [e for e in result.all_events if e.event_type is EventType.LOG_MESSAGE]
    assert all(e.data == LogMessageData(e.data.level, "nbflow") for e in log_events)
    assert _logs(heard) == logs
    kinds = [e.event_type for e in result.all_events if e.step_key == "chatty"]
    assert kinds.index(EventType.STEP_START) < kinds.index(EventType.LOG_MESSAGE)
    assert kinds.index(EventType.LOG_MESSAGE) < kinds.index(EventType.STEP_SUCCESS)
    assert not _captured(result.all_events, "chatty")  # in-process prints are left alone


def test_log_events_are_read_back_from_sqlite_in_another_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    talking.execute_in_process(instance=Instance.local(home), run_id="kept", raise_on_error=False)
    reader = textwrap.dedent(
        f"""
        import json
        from nbflow import Instance
        events = Instance.local({str(home)!r}).get_events("kept")
        print(json.dumps([
            [e.step_key, e.data.level, e.data.logger_name, e.message]
            for e in events if e.event_type.name == "LOG_MESSAGE"
        ]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", reader], capture_output=True, text=True, check=True
    ).stdout
    read_back = json.loads(out)
    assert [row[:3] for row in read_back[:3]] == [
        [None, logging.INFO, "nbflow"],
        ["chatty", logging.INFO, "nbflow"],
        ["chatty", logging.WARNING, "nbflow"],
    ]
    assert read_back[1][3] == "hello there"


def test_nbflow_log_level_lowers_and_raises_what_is_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "debug")
    lowered = _logs(talking.execute_in_process(raise_on_error=False).all_events)
    assert ("chatty", logging.DEBUG, "debug detail") in lowered

    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "ERROR")
    raised = _logs(talking.execute_in_process(raise_on_error=False).all_events)
    assert [(key, level) for key, level, _ in raised] == [("breaks", logging.ERROR)]

    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "30")
    numeric = _logs(talking.execute_in_process(raise_on_error=False).all_events)
    assert {level for _, level, _ in numeric} == {logging.WARNING, logging.ERROR}


def test_a_bad_log_level_is_a_clear_error_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "LOUD")
    instance = Instance.ephemeral()
    with pytest.raises(LogLevelError, match="NBFLOW_LOG_LEVEL='LOUD' is not a logging level"):
        talking.execute_in_process(instance=instance)
    assert instance.get_runs() == []


_SCRIPT = """
import sys
from nbflow import Instance, RetryPolicy, execute_job, job, multiprocess_executor, op

@op(retry_policy=RetryPolicy(max_retries=1))
def flaky(context):
    attempt = context.retry_number
    context.log.info("attempt %d", attempt)
    print(f"out of attempt {attempt}")
    print(f"err of attempt {attempt}", file=sys.stderr)
    if attempt == 0:
        raise ValueError("first attempt fails")
    return attempt

@op
def loud(context, value):
    print("x" * 50_000 + "MIDDLE" + "y" * 100_000 + "THE END")
    print("before the failure", file=sys.stderr)
    raise RuntimeError("loud failed")

@job(executor_def=multiprocess_executor)
def printing():
    loud(flaky())

result = execute_job(printing, instance=Instance.local(sys.argv[1]), run_id="mp",
                     raise_on_error=False)
print("RUN", result.success)
"""


def test_multiprocess_log_lines_and_prints_are_stored_per_attempt_and_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "printing.py"
    script.write_text(_SCRIPT)
    monkeypatch.delenv("NBFLOW_LOG_LEVEL", raising=False)
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "RUN False" in run.stdout, run.stderr
    # Still echoed to the terminal of the run, as before.
    assert "out of attempt 0" in run.stdout and "out of attempt 1" in run.stdout
    assert "err of attempt 1" in run.stderr and "before the failure" in run.stderr
    assert "MIDDLE" in run.stdout

    events = Instance.local(tmp_path / "home").get_events("mp")
    parent = next(e.pid for e in events if e.event_type is EventType.RUN_START)
    logs = [e for e in events if e.event_type is EventType.LOG_MESSAGE]
    assert [(e.step_key, e.message) for e in logs] == [
        ("flaky", "attempt 0"),
        ("flaky", "attempt 1"),
    ]
    assert all(e.pid != parent for e in logs)  # made in the step process

    first, second = _captured(events, "flaky")
    assert (first.stdout, first.stderr) == ("out of attempt 0\n", "err of attempt 0\n")
    assert (second.stdout, second.stderr) == ("out of attempt 1\n", "err of attempt 1\n")
    flaky_kinds = [e.event_type for e in events if e.step_key == "flaky"]
    captured_at = [i for i, k in enumerate(flaky_kinds) if k is EventType.LOGS_CAPTURED]
    assert flaky_kinds[captured_at[0] + 1] is EventType.STEP_UP_FOR_RETRY
    assert flaky_kinds[captured_at[1] + 1] is EventType.STEP_SUCCESS

    (loud,) = _captured(events, "loud")  # a failing step's prints are kept too
    printed = 50_000 + 6 + 100_000 + 7 + 1
    assert loud.dropped_chars == printed - STREAM_LIMIT
    assert loud.stdout.startswith("x" * 1000)
    assert loud.stdout.endswith("y" * 1000 + "THE END\n")
    assert f"[... {printed - STREAM_LIMIT} characters left out ...]" in loud.stdout
    assert "MIDDLE" not in loud.stdout
    assert len(loud.stdout) < STREAM_LIMIT + 100
    assert loud.stderr == "before the failure\n"
    loud_kinds = [e.event_type for e in events if e.step_key == "loud"]
    assert loud_kinds[-2:] == [EventType.LOGS_CAPTURED, EventType.STEP_FAILURE]


def test_multiprocess_log_messages_follow_the_runs_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @op
    def leveled(context: Any) -> None:
        context.log.debug("fine detail")
        context.log.info("routine")
        context.log.error("serious")

    @job(executor_def=multiprocess_executor)
    def leveled_job() -> None:
        leveled()

    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "DEBUG")
    everything = _logs(execute_job(leveled_job).all_events)
    assert [level for _, level, _ in everything] == [logging.DEBUG, logging.INFO, logging.ERROR]
    monkeypatch.setenv("NBFLOW_LOG_LEVEL", "WARNING")
    assert _logs(execute_job(leveled_job).all_events) == [("leveled", logging.ERROR, "serious")]


def test_a_step_that_prints_a_lot_keeps_a_bounded_buffer() -> None:
    text = BoundedText(limit=100)
    for i in range(10_000):
        text.write(f"line {i}\n")
    kept = text.text()
    assert kept.startswith("line 0\nline 1\n")
    assert kept.endswith("line 9999\n")
    total = sum(len(f"line {i}\n") for i in range(10_000))
    assert text.dropped == total - 100
    assert len(kept) - len(f"\n[... {text.dropped} characters left out ...]\n") == 100
    assert sum(len(part) for part in text._tail) <= 100  # trimmed as it goes


@pytest.mark.dask
def test_dask_log_lines_and_prints_are_events_of_the_run(tmp_path: Path) -> None:
    from nbflow.dask import dask_executor

    @op
    def on_worker(context: Any) -> int:
        context.log.info("from worker %d", os.getpid())
        print("printed on a worker")
        return os.getpid()

    @job(executor_def=dask_executor)
    def dask_logged() -> None:
        on_worker()

    instance = Instance.local(tmp_path / "home")
    result = execute_job(
        dask_logged,
        instance=instance,
        run_config={"execution": {"config": {"n_workers": 1}}},
    )
    worker = result.output_for_node("on_worker")
    assert worker != os.getpid()
    stored = instance.get_events(result.run_id)
    assert _logs(stored) == [("on_worker", logging.INFO, f"from worker {worker}")]
    (captured,) = _captured(stored, "on_worker")
    assert captured.stdout == "printed on a worker\n"


def test_loading_an_output_after_the_run_adds_no_event_to_it(tmp_path: Path) -> None:
    @io_manager
    def chatty_files(init_context: Any) -> IOManager:
        folder = tmp_path / "values"
        folder.mkdir(exist_ok=True)

        class Manager(IOManager):
            def handle_output(self, context: Any, obj: Any) -> None:
                (folder / context.step_key).write_text(json.dumps(obj))

            def load_input(self, context: Any) -> Any:
                context.log.info("loading %s", context.upstream_output.step_key)
                return json.loads((folder / context.upstream_output.step_key).read_text())

        return Manager()

    @op
    def stored() -> int:
        return 5

    @op
    def plus_one(value: int) -> int:
        return value + 1

    @job(executor_def=multiprocess_executor, resource_defs={"io_manager": chatty_files})
    def loaded() -> None:
        plus_one(stored())

    instance = Instance.local(tmp_path / "home")
    result = execute_job(loaded, instance=instance)
    during = instance.get_events(result.run_id)
    assert _logs(during) == [("plus_one", logging.INFO, "loading stored")]
    assert result.output_for_node("plus_one") == 6  # loaded here, after the run
    assert instance.get_events(result.run_id) == during
