"""The in-process executor: every step, one after another, in the calling process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.execution.engine.executor import Executor, ReadyQueue
from nbflow.execution.engine.step import run_step

if TYPE_CHECKING:
    from nbflow.execution.engine.run_context import RunContext


class InProcessExecutor(Executor):
    """Runs ready steps in priority order in this process."""

    def execute(self, run: RunContext) -> None:
        queue = ReadyQueue(run)
        halt_on_failure = run.raise_on_error
        while queue:
            if queue.cancel_requested:  # between steps: the running one has finished
                queue.begin_cancel()
                queue.skip_unfinished()
                return
            step = queue.pop()
            if queue.settle(step):
                continue
            ok = run_step(run, step)
            queue.done(step, ok)
            if not ok and halt_on_failure:
                return
