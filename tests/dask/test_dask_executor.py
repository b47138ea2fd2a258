"""The Dask executor on real clusters: a LocalCluster it starts, and an existing scheduler."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, Instance, execute_job, job, mem_io_manager, op
from nbflow.dask import dask_executor
from nbflow.errors import MissingExtraError, OutOfProcessStorageError
from nbflow.storage.instance import InMemoryRunStorage

mp_jobs: Any = importlib.import_module("mp_jobs")
process_check: Any = importlib.import_module("process_check")


@op
def fresh_value() -> str:
    return uuid.uuid4().hex


@op
def pid_of(value: str) -> list[Any]:
    return [value, os.getpid()]


@job(executor_def=dask_executor)
def dask_job() -> None:
    pid_of(fresh_value())


def test_a_local_cluster_runs_steps_in_worker_processes(tmp_path: Path) -> None:
    # Runs before the shared cluster below exists, so every process here is this run's.
    config = mp_jobs.recorder_config(tmp_path, n_workers=2, processes=True)
    result = execute_job(mp_jobs.sleepers(4, 0.4, executor_def=dask_executor), run_config=config)
    assert result.success
    pids = {result.output_for_node(f"sleep_{i}") for i in range(4)}
    assert len(pids) == 2 and os.getpid() not in pids
    assert mp_jobs.max_overlap(list(mp_jobs.recorded(tmp_path).values())) == 2
    assert process_check.leftover_processes() == []  # the cluster is gone with the run


@pytest.fixture(scope="module")
def scheduler() -> Any:
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    yield cluster.scheduler_address
    cluster.close()


def _on(address: str, **config: Any) -> dict[str, Any]:
    return {"execution": {"config": {"address": address, **config}}}


def test_an_existing_scheduler_is_used_with_unique_keys(
    scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import distributed

    keys: list[str] = []
    submit = distributed.Client.submit

    def recording_submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        keys.append(kwargs["key"])
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", recording_submit)
    first = execute_job(dask_job, run_config=_on(scheduler))
    second = execute_job(dask_job, run_config=_on(scheduler))
    assert first.output_for_node("pid_of")[0] != second.output_for_node("pid_of")[0]
    assert first.output_for_node("pid_of")[1] != os.getpid()
    assert len(set(keys)) == 4
    assert all(first.run_id in k for k in keys[:2]) and all(second.run_id in k for k in keys[2:])
    assert first.filter_events(EventType.ENGINE_EVENT) == []  # allowed-failures is 0 here


def test_context_log_on_a_worker_reaches_the_runs_logger(
    scheduler: str, caplog: pytest.LogCaptureFixture
) -> None:
    @op
    def chatty(context: Any) -> int:
        context.log.warning("from pid %d", os.getpid())
        return os.getpid()

    @job(executor_def=dask_executor)
    def logged() -> None:
        chatty()

    with caplog.at_level(logging.INFO, logger="nbflow"):
        result = execute_job(logged, run_config=_on(scheduler))
    worker_pid = result.output_for_node("chatty")
    assert worker_pid != os.getpid()
    (record,) = [r for r in caplog.records if "chatty - from pid" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.process == os.getpid()
    assert record.getMessage().endswith(f"chatty - from pid {worker_pid}")


class _ArrivalLog(InMemoryRunStorage):
    """Records when each event reached the parent's instance."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, Any]] = []

    def store_event(self, event: Any) -> None:
        self.arrivals.append((time.time(), event))
        super().store_event(event)


def test_events_and_logs_reach_the_run_while_the_step_still_runs(
    scheduler: str, caplog: pytest.LogCaptureFixture
) -> None:
    @op
    def slow(context: Any) -> int:
        context.log.info("halfway")
        time.sleep(1.0)
        return 1

    @job(executor_def=dask_executor)
    def slow_job() -> None:
        slow()

    storage = _ArrivalLog()
    logged_at: list[float] = []

    class Stamp(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged_at.append(time.time())

    stamp = Stamp()
    logging.getLogger("nbflow").addHandler(stamp)
    try:
        with caplog.at_level(logging.INFO, logger="nbflow"):
            result = execute_job(slow_job, instance=Instance(storage), run_config=_on(scheduler))
    finally:
        logging.getLogger("nbflow").removeHandler(stamp)
    arrived = {e.event_type: t for t, e in storage.arrivals}
    created = {e.event_type: e.timestamp for _, e in storage.arrivals}
    assert arrived[EventType.STEP_START] < created[EventType.STEP_SUCCESS] - 0.5
    assert len(logged_at) == 1 and logged_at[0] < created[EventType.STEP_SUCCESS] - 0.5
    per_step = [e.event_type for e in result.events_for_node("slow")]
    assert per_step.count(EventType.STEP_START) == 1  # streamed once, not again from the result
    assert per_step[-1] is EventType.STEP_SUCCESS
    assert [e.event_type for _, e in storage.arrivals] == [e.event_type for e in result.all_events]


def test_a_step_that_kills_its_worker_fails_once(scheduler: str, tmp_path: Path) -> None:
    @job(executor_def=dask_executor, resource_defs={"recorder": mp_jobs.recorder})
    def crashing() -> None:
        mp_jobs.exit_once_recorded()
        fresh_value()

    config = {**mp_jobs.recorder_config(tmp_path), **_on(scheduler)}
    result = execute_job(crashing, run_config=config, raise_on_error=False)
    (failure,) = result.filter_events(EventType.STEP_FAILURE)
    assert failure.step_key == "exit_once_recorded"
    assert "Dask worker running step 'exit_once_recorded' died" in failure.message
    assert len((tmp_path / "attempts").read_text().splitlines()) == 1  # not re-run
    assert result.output_for_node("fresh_value")


def test_a_retrying_scheduler_is_reported(scheduler: str) -> None:
    import distributed

    def set_allowed(value: int, dask_scheduler: Any = None) -> None:
        dask_scheduler.allowed_failures = value

    with distributed.Client(scheduler, set_as_default=False) as client:
        client.run_on_scheduler(set_allowed, 3)
        try:
            result = execute_job(dask_job, run_config=_on(scheduler))
        finally:
            client.run_on_scheduler(set_allowed, 0)
    (warning,) = result.filter_events(EventType.ENGINE_EVENT)
    assert "re-runs a task up to 3 times" in warning.message


def test_memoized_steps_are_not_submitted(scheduler: str, tmp_path: Path) -> None:
    memo_job = mp_jobs.memo_job_on(dask_executor)
    instance = Instance.local(tmp_path / "home")
    first = execute_job(memo_job, run_config=_on(scheduler), instance=instance)
    assert first.output_for_node("report") == "number=40"
    second = execute_job(memo_job, run_config=_on(scheduler), instance=instance)
    assert second.filter_events(EventType.STEP_WORKER_STARTING) == []
    assert second.output_for_node("report") == "number=40"


def test_in_memory_io_manager_is_refused_before_the_run() -> None:
    @job(executor_def=dask_executor, resource_defs={"io_manager": mem_io_manager})
    def in_memory() -> None:
        fresh_value()

    instance = Instance.ephemeral()
    with pytest.raises(OutOfProcessStorageError, match="The 'dask' executor runs steps"):
        execute_job(in_memory, instance=instance)
    assert instance.get_runs() == []


def test_a_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    instance = Instance.ephemeral()
    with pytest.raises(MissingExtraError, match=r'pip install "nbflowkit\[dask\]"'):
        execute_job(dask_job, instance=instance)
    assert instance.get_runs() == []


def test_importing_nbflow_and_its_dask_package_does_not_import_dask() -> None:
    probe = (
        "import sys, nbflow, nbflow.dask, nbflow.execution; "
        "print(sorted(m for m in ('dask', 'distributed', 'cloudpickle') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
