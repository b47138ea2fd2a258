"""Executors decide where and when a plan's steps run; the step engine runs each step."""

from __future__ import annotations

import heapq
import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbflow.events import EventType, StepSkippedData
from nbflow.execution.engine.dynamic import expand_after
from nbflow.execution.engine.timeouts import Deadline, StepLimit, config_limit, step_limit

CANCELED_REASON = "run canceled"
"""The ``StepSkippedData.reason`` of steps a canceled run did not run."""

if TYPE_CHECKING:
    from nbflow.definitions.executor import ExecutorDefinition
    from nbflow.execution.engine.plan import ExecutionPlan, Step
    from nbflow.execution.engine.run_context import RunContext


class Executor(ABC):
    """Runs the steps of ``run.plan``, emitting their events through ``run``."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})
        retries = self.config.get("retries")
        # ``retries: {disabled: {}}`` turns retry policies off for the run.
        self.retries_enabled = not (isinstance(retries, Mapping) and "disabled" in retries)
        self.step_timeout = config_limit(self.config)  # refused here when bad: before the run
        self.run_timeout: float | None = None
        """``execute_job(timeout=...)``: seconds the run's steps may take in all."""

    def step_limit(self, step: Step) -> StepLimit | None:
        """The time limit of ``step``: its op's ``nbflow/timeout`` tag, else ``step_timeout``."""
        return step_limit(step, self.step_timeout)

    def run_deadline(self) -> Deadline | None:
        """The run's deadline, counted from now (call it when steps start running)."""
        return None if self.run_timeout is None else Deadline(self.run_timeout)

    @abstractmethod
    def execute(self, run: RunContext) -> None:
        """Run every step of the plan (or stop early when a failure must halt the run)."""

    def resource_keys_here(self, plan: ExecutionPlan) -> set[str] | None:
        """Resources the run builds in this process; ``None``: all that the plan's steps need."""
        return None


def load_executor(definition: ExecutorDefinition, config: Mapping[str, Any] | None) -> Executor:
    """Import and build the executor a definition names."""
    module_name, _, class_name = definition.implementation.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    executor: Executor = cls(config)
    return executor


class ReadyQueue:
    """Steps whose upstream steps are done, highest ``nbflow/priority`` first, then plan order."""

    def __init__(self, run: RunContext) -> None:
        self._run = run
        self._steps = run.plan.steps
        self._waiting = {key: len(step.upstream_keys) for key, step in self._steps.items()}
        self._heap: list[tuple[int, int, str]] = [
            (-step.priority, step.index, key)
            for key, step in self._steps.items()
            if not step.upstream_keys
        ]
        heapq.heapify(self._heap)
        self.blocked: dict[str, str] = {}  # step key -> why it cannot run
        self._finished: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._heap)

    def pop(self) -> Step:
        return self._steps[heapq.heappop(self._heap)[2]]

    def done(self, step: Step, ok: bool) -> None:
        """Mark ``step`` finished; release its downstream steps (blocked if it did not succeed)."""
        self._finished.add(step.key)
        if ok and self._run.plan.dynamic.outputs_of(step):  # only dynamic steps expand
            self._expand(step)
        for down in self._run.plan.downstream[step.key]:
            if not ok:
                self.blocked.setdefault(down, f"upstream step {step.key!r} did not succeed")
            self._waiting[down] -= 1
            if self._waiting[down] == 0:
                target = self._steps[down]
                heapq.heappush(self._heap, (-target.priority, target.index, down))

    def _expand(self, step: Step) -> None:
        """Queue the steps mapped over ``step``'s dynamic outputs, now their keys are known;
        collecting steps wait for them too."""
        before = {key: len(s.upstream_keys) for key, s in self._steps.items()}
        for new in expand_after(self._run, step):
            self._waiting[new.key] = sum(up not in self._finished for up in new.upstream_keys)
            if self._waiting[new.key] == 0:
                heapq.heappush(self._heap, (-new.priority, new.index, new.key))
        for key, count in before.items():
            self._waiting[key] += len(self._steps[key].upstream_keys) - count

    def _why_not_runnable(self, step: Step) -> str | None:
        reason = self.blocked.get(step.key)
        if reason:
            return reason
        for step_input in step.inputs:
            for up in step_input.upstreams:
                if up[0] in self._steps and not self._run.has_output(*up):
                    return f"upstream output '{up[0]}.{up[1]}' was not produced"
        return None

    def settle(self, step: Step) -> bool:
        """Skip ``step`` if it is memoized or cannot run; True when it was skipped.

        A step whose upstream ran in this run is versioned again from the values it got
        (early cutoff). A memoized step emits one STEP_SKIPPED naming the versions found and
        counts as done; a step whose upstream failed (or left an output unproduced) is
        skipped too.
        """
        run = self._run
        detail = run.memo.revise(run, step) if run.memo is not None else None
        versions = run.memoized.get(step.key)
        if versions is not None:
            listed = ", ".join(f"{name}@{v[:8]}" for name, v in versions.items())
            why = f" ({detail})" if detail else ""
            run.emit(
                EventType.STEP_SKIPPED,
                step.key,
                f"Skipped step {step.key!r}: memoized{why}, outputs stored with versions {listed}",
                StepSkippedData("memoized", versions, detail or ""),
            )
            self.done(step, ok=True)
            return True
        reason = self._why_not_runnable(step)
        if reason is None:
            return False
        run.emit(
            EventType.STEP_SKIPPED,
            step.key,
            f"Skipped step {step.key!r}: {reason}",
            StepSkippedData(reason),
        )
        self.done(step, ok=False)
        return True

    @property
    def cancel_requested(self) -> bool:
        """Whether the run was asked to stop (executors check it between steps)."""
        return self._run.cancel_requested

    def begin_cancel(self) -> None:
        """Acknowledge a cancel request: emit ``RUN_CANCELING``; the run will end CANCELED."""
        run = self._run
        run.canceled = True
        run.emit(
            EventType.RUN_CANCELING,
            message=f"Canceling run of {run.job_name!r}: no further step starts.",
        )

    def skip_unfinished(self, reason: str = CANCELED_REASON) -> None:
        """Skip every step that has not finished (``reason``: run canceled), in plan order.

        Call it after the executor has stopped (and reported) the steps that were running.
        """
        for key, step in self._steps.items():
            if key in self._finished:
                continue
            self._run.emit(
                EventType.STEP_SKIPPED,
                key,
                f"Skipped step {key!r}: {reason}",
                StepSkippedData(reason),
            )
            self.done(step, ok=False)
