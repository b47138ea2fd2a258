"""The steps a run has on its Dask cluster: each task's future, step, start and time limit.

A task is submitted as soon as its step is ready and may wait on the cluster (behind other
tasks on its worker) before it runs. Its step's time limit counts from the moment the
step is heard to start (its first message, which the task publishes before the step
runs), so time spent queued never counts against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.execution.engine.timeouts import Deadline

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.execution.engine.plan import Step
    from nbflow.execution.engine.timeouts import StepLimit


class Submitted:
    """One task: its future, its step, how many of its messages were handled, its limit."""

    __slots__ = ("deadline", "future", "handled", "key", "limit", "started", "step", "withdrawn")

    def __init__(self, key: str, future: Any, step: Step, limit: StepLimit | None) -> None:
        self.key = key
        self.future = future
        self.step = step
        self.limit = limit
        self.deadline: Deadline | None = None
        self.started = False
        self.handled = 0  # messages handled as they came, in order
        self.withdrawn = False  # the run halted before it was heard to start

    def start(self) -> None:
        """The step began running on its worker: its time limit starts counting now."""
        if self.started:
            return
        self.started = True
        if self.limit is not None:
            self.deadline = Deadline(self.limit.seconds)


class InFlight:
    """Tasks submitted and not yet over, by task key, in submission order."""

    def __init__(self) -> None:
        self._tasks: dict[str, Submitted] = {}
        self._timed: dict[str, Submitted] = {}  # the started tasks that have a time limit

    def __len__(self) -> int:
        return len(self._tasks)

    def __bool__(self) -> bool:
        return bool(self._tasks)

    def __iter__(self) -> Iterator[Submitted]:
        return iter(list(self._tasks.values()))

    def add(self, task: Submitted) -> None:
        self._tasks[task.key] = task

    def get(self, key: Any) -> Submitted | None:
        return self._tasks.get(key) if isinstance(key, str) else None

    def of_future(self, future: Any) -> Submitted | None:
        """The task of ``future``, if it is still in flight (not an earlier attempt's)."""
        task = self.get(getattr(future, "key", None))
        return task if task is not None and task.future is future else None

    def started(self, task: Submitted) -> None:
        """Note that ``task``'s step began running (its limit counts from then on)."""
        task.start()
        if task.deadline is not None:
            self._timed[task.key] = task

    def pop(self, task: Submitted) -> Submitted:
        self._timed.pop(task.key, None)
        return self._tasks.pop(task.key)

    def futures(self) -> list[Any]:
        return [task.future for task in self._tasks.values()]

    def clear(self) -> None:
        self._tasks.clear()
        self._timed.clear()

    def past_limit(self) -> list[Submitted]:
        """Running tasks whose step is past its time limit."""
        return [t for t in self._timed.values() if t.deadline is not None and t.deadline.passed]

    def seconds_to_next_limit(self) -> float | None:
        """Seconds until the first running step reaches its limit; ``None`` when none has one."""
        lefts = [t.deadline.left() for t in self._timed.values() if t.deadline is not None]
        return min(lefts) if lefts else None
