"""Dagster jobs that step processes load by file: the multiprocess workload's sleepers.

``dagster_side.py`` points Dagster's multiprocess executor at this file
(``ReconstructableJob.for_file``); each step process imports it, so it defines the job at
module level and nothing else.
"""

from __future__ import annotations

import time

from dagster import job, multiprocess_executor, op

SLEEPERS = 8
SLEEP_SECONDS = 0.5


def _sleeper(i: int):  # type: ignore[no-untyped-def]
    @op(name=f"sleep_{i}")
    def sleeper() -> int:
        time.sleep(SLEEP_SECONDS)
        return i

    return sleeper


_OPS = [_sleeper(i) for i in range(SLEEPERS)]


@job(executor_def=multiprocess_executor)
def sleepers() -> None:
    for sleeper in _OPS:
        sleeper()
