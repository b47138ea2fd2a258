"""The multiprocess executor with real processes: isolation, limits, crashes, streaming, cleanup."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    EventType,
    Instance,
    execute_job,
    job,
    logger,
    mem_io_manager,
    multiprocess_executor,
    op,
    resource,
)
from nbflow.errors import (
    OutOfProcessStorageError,
    ReconstructionError,
    RunConfigValidationError,
    StepProcessError,
)
from nbflow.storage.instance import InMemoryRunStorage

mp_jobs: Any = importlib.import_module("mp_jobs")
process_check: Any = importlib.import_module("process_check")


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Any:
    yield
    assert process_check.leftover_processes() == []


def test_steps_run_in_at_most_max_concurrent_warm_workers(tmp_path: Path) -> None:
    result = execute_job(
        mp_jobs.sleepers(8, 0.05), run_config=mp_jobs.recorder_config(tmp_path, max_concurrent=2)
    )
    assert result.success
    pids = {result.output_for_node(f"sleep_{i}") for i in range(8)}
    assert len(pids) == 2  # two workers, each reused for the next steps
    assert os.getpid() not in pids
    starts = result.filter_events(EventType.STEP_START)
    assert {e.pid for e in starts} == pids  # the events come from the workers
    handed = [e.message for e in result.filter_events(EventType.STEP_WORKER_STARTING)]
    assert sum("to warm worker process" in m for m in handed) == 6


def test_process_per_step_runs_each_step_in_its_own_fresh_process(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path, max_concurrent=2, process_per_step=True)
    result = execute_job(mp_jobs.sleepers(8, 0.05), run_config=config)
    assert result.success
    pids = {result.output_for_node(f"sleep_{i}") for i in range(8)}
    assert len(pids) == 8  # one fresh process per step
    assert os.getpid() not in pids
    starts = result.filter_events(EventType.STEP_START)
    assert {e.pid for e in starts} == pids  # the events come from the step processes


def test_steps_see_the_environment_and_folder_the_parent_has_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert execute_job(mp_jobs.surroundings_job).success  # the fork server runs from here on
    monkeypatch.setenv("NBFLOW_TEST_SETTING", "set after the first run")
    monkeypatch.chdir(tmp_path)

    result = execute_job(mp_jobs.surroundings_job)

    assert result.output_for_node("surroundings") == ["set after the first run", str(tmp_path)]


def test_max_concurrent_is_never_exceeded(tmp_path: Path) -> None:
    result = execute_job(
        mp_jobs.sleepers(8, 0.15), run_config=mp_jobs.recorder_config(tmp_path, max_concurrent=2)
    )
    assert result.success
    spans = list(mp_jobs.recorded(tmp_path).values())
    assert len(spans) == 8
    assert mp_jobs.max_overlap(spans) == 2  # used both slots, never a third


def test_tag_concurrency_limits_hold_among_tagged_steps(tmp_path: Path) -> None:
    tagged = {i: {"db": "main"} for i in range(4)}
    config = mp_jobs.recorder_config(
        tmp_path,
        max_concurrent=4,
        tag_concurrency_limits=[{"key": "db", "value": "main", "limit": 1}],
    )
    result = execute_job(mp_jobs.sleepers(6, 0.1, tags=tagged), run_config=config)
    assert result.success
    spans = mp_jobs.recorded(tmp_path)
    assert mp_jobs.max_overlap([spans[f"sleep_{i}"] for i in range(4)]) == 1
    assert mp_jobs.max_overlap(list(spans.values())) >= 2


def test_executor_config_in_the_seed_form_is_validated_and_honoured(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path)
    config["execution"] = {"multiprocess": {"config": {"max_concurrent": 1}}}
    result = execute_job(mp_jobs.sleepers(3, 0.1), run_config=config)
    assert result.success
    assert mp_jobs.max_overlap(list(mp_jobs.recorded(tmp_path).values())) == 1

    config["execution"] = {"multiprocess": {"config": {"max_concurrent": "two"}}}
    bad_value = "execution:config:max_concurrent: expected Int"
    with pytest.raises(RunConfigValidationError, match=bad_value):
        execute_job(mp_jobs.sleepers(3, 0.1), run_config=config)
    config["execution"] = {"config": {}, "multiprocess": {"config": {"max_concurrent": 1}}}
    with pytest.raises(RunConfigValidationError, match="are both given; keep one"):
        execute_job(mp_jobs.sleepers(3, 0.1), run_config=config)


def test_tag_limit_below_one_is_refused(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path, tag_concurrency_limits=[{"key": "db", "limit": 0}])
    with pytest.raises(ValueError, match=r"limit 0 for tag 'db' is below 1"):
        execute_job(mp_jobs.sleepers(1, 0), run_config=config)


def test_ready_steps_start_by_priority(tmp_path: Path) -> None:
    tags = {0: {"nbflow/priority": "-1"}, 2: {"nbflow/priority": "5"}}
    result = execute_job(
        mp_jobs.sleepers(3, 0.0, tags=tags),
        run_config=mp_jobs.recorder_config(tmp_path, max_concurrent=1),
    )
    order = [e.step_key for e in result.filter_events(EventType.STEP_START)]
    assert order == ["sleep_2", "sleep_1", "sleep_0"]


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("os_exit", "exited with code 3"),
        ("segfault", "killed by signal SIGSEGV (11)"),
        ("sigkill", "killed by signal SIGKILL (9)"),
    ],
    ids=["os-exit", "segfault", "sigkill"],
)
def test_a_dying_step_process_fails_only_its_step(kind: str, named: str) -> None:
    crasher = mp_jobs.CRASHERS[kind].name
    result = execute_job(mp_jobs.crashing_job(kind), raise_on_error=False)
    assert not result.success
    failures = result.filter_events(EventType.STEP_FAILURE)
    assert [e.step_key for e in failures] == [crasher]
    assert named in failures[0].message
    assert failures[0].data.error.cls_name == "StepProcessError"
    assert result.output_for_node("add_one") == 8  # the healthy branch completed
    skipped = result.filter_events(EventType.STEP_SKIPPED)
    assert [e.step_key for e in skipped] == ["after_crash"]


def test_a_segfault_in_a_warm_worker_fails_only_its_step_and_later_steps_still_run() -> None:
    config = {"execution": {"config": {"max_concurrent": 1}}}
    result = execute_job(mp_jobs.segfault_then_more_job(), run_config=config, raise_on_error=False)

    failures = result.filter_events(EventType.STEP_FAILURE)
    assert [e.step_key for e in failures] == ["segfault"]
    assert "killed by signal SIGSEGV (11)" in failures[0].message
    before, after = result.output_for_node("pid_before"), result.output_for_node("pid_after")
    assert before != after  # the crashed worker was replaced for the step after it
    assert os.getpid() not in (before, after)


@pytest.mark.parametrize(("per_step", "seen"), [(True, []), (False, ["left by an earlier step"])])
def test_state_a_step_leaves_reaches_later_steps_only_in_warm_workers(
    per_step: bool, seen: list[str]
) -> None:
    config = {"execution": {"config": {"max_concurrent": 1, "process_per_step": per_step}}}
    result = execute_job(mp_jobs.state_job, run_config=config)
    assert result.output_for_node("read_state") == seen


def test_a_dying_step_process_raises_when_asked() -> None:
    with pytest.raises(StepProcessError, match="exited with code 3"):
        execute_job(mp_jobs.crashing_job("os_exit"))


def test_retries_follow_the_retry_policy_inside_the_step_process(tmp_path: Path) -> None:
    result = execute_job(mp_jobs.flaky_job, run_config=mp_jobs.recorder_config(tmp_path))
    assert result.output_for_node("flaky") == "ok after 2"
    kinds = [e.event_type for e in result.events_for_node("flaky")]
    assert EventType.STEP_UP_FOR_RETRY in kinds
    assert EventType.STEP_RESTARTED in kinds
    assert kinds.count(EventType.STEP_WORKER_STARTED) == 1  # retried in the same process


def test_retries_disabled_by_config_fail_the_step(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path, retries={"disabled": {}})
    result = execute_job(mp_jobs.flaky_job, run_config=config, raise_on_error=False)
    assert not result.success
    assert (tmp_path / "attempts").read_text() == "1"


def test_context_log_in_a_step_process_reaches_the_runs_loggers() -> None:
    received: list[tuple[int, str, int]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            received.append((record.levelno, record.getMessage(), os.getpid()))

    @logger
    def collecting(init_context: Any) -> logging.Logger:
        target = logging.getLogger("nbflow.tests.mp_collect")
        target.handlers[:] = [Collect()]
        target.propagate = False
        target.setLevel(logging.INFO)
        return target

    @op
    def chatty(context: Any) -> None:
        context.log.debug("below the logger's level")
        context.log.info("hello %s", "there")
        try:
            raise ValueError("boom")
        except ValueError:
            context.log.exception("it broke")

    @job(executor_def=multiprocess_executor, logger_defs={"collect": collecting})
    def logged() -> None:
        chatty()

    result = execute_job(logged)
    assert result.success
    prefix = f"logged - {result.run_id[:8]} - chatty - "
    assert [(level, pid) for level, _, pid in received] == [
        (logging.INFO, os.getpid()),
        (logging.ERROR, os.getpid()),
    ]
    assert received[0][1] == prefix + "hello there"
    assert received[1][1].startswith(prefix + "it broke\nTraceback (most recent call last):")
    assert received[1][1].rstrip().endswith("ValueError: boom")


def test_each_step_process_builds_and_reports_only_the_resources_it_uses(
    tmp_path: Path,
) -> None:
    @resource
    def database(_: Any) -> str:
        raise ConnectionError("no database here")

    @op(required_resource_keys={"database"})
    def query(context: Any) -> str:
        return str(context.resources.database)

    @op
    def plain() -> int:
        return 1

    @job(executor_def=multiprocess_executor, resource_defs={"database": database})
    def two_steps() -> None:
        query()
        plain()

    result = execute_job(two_steps, raise_on_error=False)
    assert result.output_for_node("plain") == 1
    plain_init = [
        e for e in result.events_for_node("plain") if e.event_type.name.startswith("RESOURCE")
    ]
    assert [(e.event_type, e.data.resource_keys) for e in plain_init] == [
        (EventType.RESOURCE_INIT_STARTED, ("io_manager",)),
        (EventType.RESOURCE_INIT_SUCCESS, ("io_manager",)),
    ]
    kinds = [e.event_type for e in result.events_for_node("query")]
    assert kinds[2:] == [
        EventType.RESOURCE_INIT_STARTED,
        EventType.RESOURCE_INIT_FAILURE,
        EventType.STEP_FAILURE,
    ]
    failure = result.events_for_node("query")[3]
    assert failure.pid != os.getpid()
    assert "Resource 'database' failed to initialise: ConnectionError" in failure.message


class _ArrivalLog(InMemoryRunStorage):
    """Records when each event reached the parent's instance."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, Any]] = []

    def store_event(self, event: Any) -> None:
        self.arrivals.append((time.time(), event))
        super().store_event(event)


def test_events_reach_the_parent_while_the_step_still_runs() -> None:
    @op
    def slow() -> int:
        time.sleep(0.6)
        return 1

    @job(executor_def=multiprocess_executor)
    def slow_job() -> None:
        slow()

    storage = _ArrivalLog()
    execute_job(slow_job, instance=Instance(storage))
    arrived = {e.event_type: t for t, e in storage.arrivals}
    created = {e.event_type: e.timestamp for _, e in storage.arrivals}
    assert arrived[EventType.STEP_START] < created[EventType.STEP_SUCCESS] - 0.4
    per_step = [e.event_type for _, e in storage.arrivals if e.step_key == "slow"]
    assert per_step[:5] == [
        EventType.STEP_WORKER_STARTING,
        EventType.STEP_WORKER_STARTED,
        EventType.RESOURCE_INIT_STARTED,
        EventType.RESOURCE_INIT_SUCCESS,
        EventType.STEP_START,
    ]
    assert per_step[-1] is EventType.STEP_SUCCESS


def test_unpicklable_ops_are_all_listed_before_the_run() -> None:
    lock = threading.Lock()

    @op
    def uses_lock() -> bool:
        return lock.locked()

    @op
    def also_uses_lock() -> bool:
        return lock.locked()

    @op
    def innocent() -> int:
        return 1

    @job(executor_def=multiprocess_executor)
    def locked() -> None:
        uses_lock()
        also_uses_lock()
        innocent()

    instance = Instance.ephemeral()
    with pytest.raises(ReconstructionError) as info:
        execute_job(locked, instance=instance)
    message = str(info.value)
    assert "cloudpickle failed on 2 parts" in message
    assert "op 'uses_lock': TypeError: cannot pickle '_thread.lock' object" in message
    assert "op 'also_uses_lock'" in message
    assert "innocent" not in message
    assert "reconstructable(" in message  # the fix
    assert instance.get_runs() == []


def test_in_memory_io_manager_is_refused_before_the_run() -> None:
    @op
    def produce() -> int:
        return 1

    @job(executor_def=multiprocess_executor, resource_defs={"io_manager": mem_io_manager})
    def in_memory() -> None:
        produce()

    instance = Instance.ephemeral()
    with pytest.raises(OutOfProcessStorageError, match=r"'produce.result' \('io_manager'\)"):
        execute_job(in_memory, instance=instance)
    assert instance.get_runs() == []


def test_spawn_start_method_works_too(tmp_path: Path) -> None:
    config = mp_jobs.recorder_config(tmp_path, max_concurrent=2, start_method={"spawn": {}})
    result = execute_job(mp_jobs.sleepers(2, 0.0), run_config=config)
    assert result.success
    assert "spawn process" in result.filter_events(EventType.STEP_WORKER_STARTING)[0].message


_UNGUARDED_SCRIPT = """
import json, os
from nbflow import Instance, execute_job, job, op

@op
def where() -> int:
    return os.getpid()

@op
def plus(pid: int) -> list:
    return [pid, os.getpid()]

@job
def pipeline():
    plus(where())
    plus.alias("again")(where.alias("where_again")())

result = execute_job(pipeline, instance=Instance.local("instance"))
print(json.dumps({"ok": result.success, "parent": os.getpid(),
                  "values": [result.output_for_node("plus"), result.output_for_node("again")]}))
"""


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(_UNGUARDED_SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1  # the script did not run again in the step processes
    report = __import__("json").loads(lines[0])
    assert report["ok"]
    pids = {pid for pair in report["values"] for pid in pair}
    assert len(pids) >= 2 and report["parent"] not in pids  # steps ran in worker processes


_INTERACTIVE_SESSION = """
import os
from nbflow import execute_job, job, op

def helper(value):
    return value * 3

@op
def typed_in() -> int:
    return helper(14)

@op
def where(value: int) -> list:
    return [value, os.getpid()]

@job
def session_job():
    where(typed_in())

value, pid = execute_job(session_job).output_for_node("where")
print(value, pid != os.getpid())
"""


def test_ops_typed_into_an_interactive_session_run_in_step_processes(tmp_path: Path) -> None:
    # Code read from stdin has a __main__ without a file, as in a REPL or a notebook kernel:
    # the job travels by value (cloudpickle), helpers and all.
    done = subprocess.run(
        [sys.executable, "-"],
        input=textwrap.dedent(_INTERACTIVE_SESSION),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42", "True"]


_INTERRUPTED_SCRIPT = """
import os, sys, time
from pathlib import Path
from nbflow import execute_job, job, op, multiprocess_executor

folder = Path(sys.argv[1])

def sleeper(i):
    @op(name=f"sleeper_{i}")
    def run():
        (folder / f"{i}.tmp").write_text(str(os.getpid()))
        (folder / f"{i}.tmp").rename(folder / f"{i}.pid")  # whole, never read half-written
        time.sleep(60)
    return run

@job(executor_def=multiprocess_executor)
def long_job():
    for i in range(2):
        sleeper(i)()

if __name__ == "__main__":
    execute_job(long_job)
"""


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["sigint", "sigterm", "sigkill"]
)
def test_stopping_the_parent_stops_its_step_processes(tmp_path: Path, signum: int) -> None:
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent(_INTERRUPTED_SCRIPT))
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2:
            assert time.monotonic() < deadline, "step processes did not start"
            assert parent.poll() is None, "the driver exited early"
            time.sleep(0.05)
        children = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
        parent.send_signal(signum)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(process_check.is_running(pid) for pid in children):
            assert time.monotonic() < deadline, f"orphaned step processes {children}"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
