"""The in-process executor: every step, one after another, in the calling process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.errors import RunTimeoutError
from nbflow.execution.engine.executor import Executor, ReadyQueue
from nbflow.execution.engine.step import run_step
from nbflow.execution.engine.timeouts import TIMED_OUT_REASON, check_step_limits

if TYPE_CHECKING:
    from nbflow.execution.engine.run_context import RunContext


class InProcessExecutor(Executor):
    """Runs ready steps in priority order in this process.

    Time limits are checked when a step returns (a running function cannot be stopped
    safely): a step past its limit fails, and a run past ``timeout`` starts no further step.

    The engine's events are held across steps (see ``RunContext.holding_events``): the end of
    one step and the start of the next are stored together, in one transaction, right before
    the next op runs.
    """

    def execute(self, run: RunContext) -> None:
        check_step_limits(run.plan.steps.values())
        with run.holding_events():
            self._execute(run)

    def _execute(self, run: RunContext) -> None:
        deadline = self.run_deadline()
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
            ok = run_step(run, step, self.step_limit(step))
            queue.done(step, ok)
            if deadline is not None and deadline.passed:
                queue.skip_unfinished(TIMED_OUT_REASON)
                raise RunTimeoutError.build(run.job_name, deadline.seconds, [])
            if not ok and halt_on_failure:
                return
