"""Canceling a run on the Dask executor: tasks are canceled, the cluster it started is shut
down (stopping code still running), and the run ends CANCELED."""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any

from nbflow import EventType, Instance, execute_job
from nbflow.dask import dask_executor
from nbflow.execution.engine.executor import CANCELED_REASON
from nbflow.execution.engine.run_context import request_cancel
from nbflow.storage.run import RunStatus

live_jobs: Any = importlib.import_module("live_jobs")
process_check: Any = importlib.import_module("process_check")


def test_dask_run_canceled_while_a_step_runs_ends_canceled_with_no_worker_left() -> None:
    job, config = live_jobs.napping_chain(3, 60.0, executor_def=dask_executor)
    config["execution"] = {"config": {"n_workers": 1}}
    instance = Instance.ephemeral()
    asked: list[bool] = []

    def cancel_once_submitted() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for run in instance.get_runs():
                submitted = [
                    e
                    for e in instance.get_events(run.run_id)
                    if e.event_type is EventType.STEP_WORKER_STARTING and e.step_key == "nap_0"
                ]
                if submitted:
                    time.sleep(0.5)  # let the task start sleeping on the worker
                    asked.append(request_cancel(run.run_id))
                    return
            time.sleep(0.02)

    canceller = threading.Thread(target=cancel_once_submitted)
    canceller.start()
    started = time.monotonic()
    result = execute_job(job, run_config=config, instance=instance)
    took = time.monotonic() - started
    canceller.join(5)

    assert asked == [True]
    assert took < 40, f"cancel took {took:.1f} s"
    assert result.run.status is RunStatus.CANCELED
    summaries = {s.step_key: s for s in result.step_summaries()}
    assert summaries["zero"].status == "succeeded"
    assert summaries["nap_0"].status == "failed"
    assert "Dask task was canceled" in summaries["nap_0"].detail
    assert [summaries[f"nap_{i}"].detail for i in (1, 2)] == [CANCELED_REASON] * 2
    assert process_check.leftover_processes() == []
