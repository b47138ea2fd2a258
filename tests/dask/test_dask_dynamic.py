"""Dynamic outputs on the Dask executor: mapped steps ``op[key]`` run on a real LocalCluster."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from nbflow import DynamicOut, DynamicOutput, EventType, Instance, execute_job, job, op
from nbflow.dask import dask_executor

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

process_check: Any = importlib.import_module("process_check")


@op(out=DynamicOut())
def chunks() -> Iterator[DynamicOutput]:
    for key in ["q", "b", "k"]:
        yield DynamicOutput(ord(key), mapping_key=key)


@op
def halved(context: Any, code: int) -> list:  # type: ignore[type-arg]
    return [context.get_mapping_key(), code // 2, os.getpid()]


@op
def summed(values: list) -> list:  # type: ignore[type-arg]
    return [[key, half] for key, half, _pid in values]


@job(executor_def=dask_executor)
def chunks_job() -> None:
    summed(chunks().map(halved).collect())


def test_mapped_steps_run_on_dask_workers_and_collect_in_yield_order(tmp_path: Path) -> None:
    config = {"execution": {"config": {"n_workers": 2, "processes": True}}}
    result = execute_job(chunks_job, run_config=config, instance=Instance.local(tmp_path))
    assert result.success
    assert result.output_for_node("summed") == [["q", 56], ["b", 49], ["k", 53]]
    halves = result.output_for_node("halved")
    assert list(halves) == ["q", "b", "k"]
    assert os.getpid() not in {v[2] for v in halves.values()}
    started = {str(e.step_key) for e in result.filter_events(EventType.STEP_WORKER_STARTING)}
    assert {"halved[q]", "halved[b]", "halved[k]"} <= started
    assert process_check.leftover_processes() == []
