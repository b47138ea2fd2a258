"""The in-process executor: every step, one after another, in the calling process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.errors import RunTimeoutError
from nbflow.execution.engine.executor import Executor, ReadyQueue
from nbflow.execution.engine.step import run_step
from nbflow.execution.engine.timeouts import TIMED_OUT_REASON, check_step_limits
from nbflow.storage.write_behind import writing_behind

WRITE_FAILED_REASON = "a value could not be stored"
"""The ``StepSkippedData.reason`` of steps not run after a value written behind failed."""

if TYPE_CHECKING:
    from nbflow.execution.engine.run_context import RunContext


class InProcessExecutor(Executor):
    """Runs ready steps in priority order in this process.

    Time limits are checked when a step returns (a running function cannot be stopped
    safely): a step past its limit fails, and a run past ``timeout`` starts no further step.

    The run's events are held across steps (see ``RunContext.holding_events``) and stored in
    groups, each within ``HOLD_SECONDS`` of being emitted (see
    :mod:`nbflow.execution.engine.event_batch`).

    Small values are written behind the run (see :mod:`nbflow.storage.write_behind`): a
    write that failed fails the run (``ValueWriteError``) after the step that notices it, or
    when the run ends; the steps not run then are skipped.
    """

    def execute(self, run: RunContext) -> None:
        check_step_limits(run.plan.steps.values())
        with run.holding_events():
            queue = ReadyQueue(run)
            try:
                with writing_behind() as writes:
                    run.writes = writes
                    self._execute(run, queue)
            finally:
                run.writes = None
            error = writes.error()
            if error is not None:
                queue.skip_unfinished(WRITE_FAILED_REASON)
                raise error

    def _execute(self, run: RunContext, queue: ReadyQueue) -> None:
        deadline = self.run_deadline()
        writes = run.writes
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
            if writes is not None and writes.failures:
                return  # a value written behind could not be stored: the run fails
            if deadline is not None and deadline.passed:
                queue.skip_unfinished(TIMED_OUT_REASON)
                raise RunTimeoutError.build(run.job_name, deadline.seconds, [])
            if not ok and halt_on_failure:
                return
