"""The Dask executor: nbflow schedules, Dask runs step payloads on its workers.

nbflow keeps the ready queue, memoization, retries (inside each step) and priority. Each
step is submitted as soon as it is ready (memoized steps never are), with its priority as
the task's Dask priority, so Dask keeps its workers busy without waiting for the run
between steps; with ``max_concurrent`` set, at most that many steps are on the cluster at
once. Each submission is a payload cloudpickled by nbflow, under a key unique to the run,
step and attempt. A step's events and log messages come back as they happen, through the
run's topic on the scheduler (``Client.subscribe_topic``), and all of them again with its
result. A step's time limit counts from when it is heard to start on its worker, never
while it waits there.

A LocalCluster started here allows no task failures (``allowed-failures: 0``), so a step
that kills its worker fails that step instead of being silently re-run elsewhere. A task
reports its step's start to the scheduler before the step runs, so when a worker dies only
the step running on it is blamed: the tasks that were waiting on it never started, and are
submitted again. A step past its time limit has its task canceled and, on a LocalCluster
started here with one thread per worker, its worker ended (the nanny starts a new one); a
run past ``execute_job(timeout=)`` does the same to every running step, and a canceled
run cancels every task (steps still waiting are skipped). A run halted by a failure
(``raise_on_error``) tells the workers: a waiting step then ends without running. A
restarted worker that re-imports an unguarded script fails the run at once, never a hang.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import time
from collections import deque
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

from nbflow.dask._in_flight import InFlight, Submitted
from nbflow.errors import (
    DaskMainReimportError,
    ExecutionError,
    MissingExtraError,
    RunTimeoutError,
    StepProcessError,
    StepTimeoutError,
)
from nbflow.events import EventType
from nbflow.execution.engine.executor import ReadyQueue
from nbflow.execution.engine.timeouts import TIMED_OUT_REASON, Deadline
from nbflow.execution.executors._main_module import main_module_hidden
from nbflow.execution.executors.main_reimport import ReimportWatch
from nbflow.execution.executors.out_of_process import OutOfProcessExecutor, stop_canceled_step

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from types import ModuleType

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.execution.engine.plan import ExecutionPlan, Step
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.executors.reconstruct import ReconstructableJob

POLL_SECONDS = 0.5
"""Longest wait for a step to finish before checking again (keeps Ctrl-C responsive)."""
EXIT_TIMED_OUT = 75
"""Exit code of a Dask worker ended because its step ran past its time limit."""
WORKER_GONE_SECONDS = 30.0
"""How long to wait, after ending a worker, for the scheduler to drop it."""
RECENTLY_RELEASED = 1024
"""How many futures of steps just over are kept, to be forgotten by the scheduler before a
worker is ended (their release may still be on its way)."""
MAX_LOST_BEFORE_START = 3
"""How many times a step may be lost with a dying worker before it started and be submitted
again; past that it fails (its workers keep dying)."""
NO_WORKER_REASON = "a restarted Dask worker could not start"
"""The ``StepSkippedData.reason`` of steps left when workers re-import an unguarded script."""


def import_distributed() -> tuple[ModuleType, ModuleType]:
    """``dask`` and ``distributed``, or :class:`MissingExtraError` naming the extra."""
    try:
        import dask
        import distributed
    except ImportError as exc:
        raise MissingExtraError.build("dask", "dask") from exc
    return dask, distributed


def _allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


class DaskExecutor(OutOfProcessExecutor):
    """Runs steps on a ``dask.distributed`` cluster (config: see ``dask_executor``)."""

    label = "dask"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.address: str | None = self.config.get("address")
        self.n_workers = int(self.config.get("n_workers", 2))
        self.threads_per_worker = int(self.config.get("threads_per_worker", 1))
        self.processes = bool(self.config.get("processes", True))
        self.max_concurrent = int(self.config.get("max_concurrent") or 0)
        self.timeout = float(self.config.get("timeout", 60.0))
        self._attempts = itertools.count()
        self._topic: str | None = None
        self._lost: dict[str, int] = {}  # step key -> times lost before it started
        self._released: deque[Any] = deque(maxlen=RECENTLY_RELEASED)  # steps just over
        self._deadline: Deadline | None = None
        self._watch: ReimportWatch | None = None
        # Ending a worker stops only the step past its limit when it runs nothing else.
        self._ends_workers = self.address is None and self.processes
        self._ends_workers = self._ends_workers and self.threads_per_worker == 1

    def prepare(
        self,
        job_def: JobDefinition,
        recon: ReconstructableJob | None,
        plan: ExecutionPlan,
        resource_defs: Mapping[str, ResourceDefinition],
    ) -> None:
        import_distributed()  # a missing extra is reported before the run
        super().prepare(job_def, recon, plan, resource_defs)

    def execute(self, run: RunContext) -> None:
        self.begin(run)
        dask, distributed = import_distributed()
        finished: SimpleQueue[Any] = SimpleQueue()  # futures as they finish, and live messages
        with self._client(run, dask, distributed) as client:
            tasks = InFlight()
            self._topic = f"nbflow-{run.run_id}"
            client.subscribe_topic(self._topic, lambda event: finished.put(event[1]))
            try:
                self._deadline = self.run_deadline()
                self._run_steps(run, client, distributed, tasks, finished)
            finally:
                with contextlib.suppress(Exception):
                    client.unsubscribe_topic(self._topic)
                _stop_all(client, tasks)

    @contextlib.contextmanager
    def _client(self, run: RunContext, dask: ModuleType, distributed: ModuleType) -> Iterator[Any]:
        if self.address is not None:
            client = distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
            try:
                client.wait_for_workers(1, timeout=self.timeout)
                self._warn_if_retried(run, client)
                yield client
            finally:
                client.close()
            return
        self._watch = ReimportWatch()  # workers it (re)starts inherit where to leave a note
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": 0}),
            main_module_hidden(),
        ):
            cluster = distributed.LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=self.threads_per_worker,
                processes=self.processes,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": ":0"},  # no fixed port, no warning
                silence_logs=logging.ERROR,
            )
        try:
            client = distributed.Client(cluster, timeout=self.timeout, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()

    def _warn_if_retried(self, run: RunContext, client: Any) -> None:
        allowed = client.run_on_scheduler(_allowed_failures)
        if allowed:
            run.emit(
                EventType.ENGINE_EVENT,
                message=(
                    f"The Dask scheduler at {self.address} re-runs a task up to {allowed} times "
                    "when its worker dies, so a crashing step may run more than once. Fix: "
                    "start the scheduler with distributed.scheduler.allowed-failures: 0."
                ),
            )

    # The scheduling loop reads best whole: cancel, settle, submit, wait, collect.
    def _run_steps(  # noqa: C901
        self,
        run: RunContext,
        client: Any,
        distributed: ModuleType,
        tasks: InFlight,
        finished: SimpleQueue[Any],
    ) -> None:
        queue = ReadyQueue(run)
        pending: list[tuple[int, int, int, Step]] = []  # a heap: highest priority first
        order = itertools.count()
        halted = False
        while True:
            if queue.cancel_requested:
                self._cancel(run, client, queue, tasks, finished, distributed)
                return
            if self._deadline is not None and self._deadline.passed:
                self._time_out_run(run, client, queue, tasks, finished, distributed)
            while queue:
                step = queue.pop()
                if not queue.settle(step):
                    heapq.heappush(pending, (-step.priority, step.index, next(order), step))
            while pending and not halted and self._has_room(tasks):
                self._submit(run, client, heapq.heappop(pending)[3], tasks, finished)
            if not tasks:
                if queue:
                    continue
                if pending and not halted:
                    stuck = [entry[3].key for entry in pending]
                    raise ExecutionError(f"Steps {stuck} could not start.")
                return
            try:
                item = finished.get(timeout=self._wait_seconds(tasks))
            except Empty:
                item = None
            ended = [] if item is None else self._handle(run, item, tasks, distributed)
            if finished.empty():  # outcomes already here count before any limit
                ended += self._time_out_steps(run, client, tasks)
                self._check_workers_start(run, client, queue, tasks)
            for step, ok in ended:
                if ok is None:  # lost with its worker before it started: submit it again
                    heapq.heappush(pending, (-step.priority, step.index, next(order), step))
                    continue
                queue.done(step, ok)
                if not ok and run.raise_on_error and not halted:
                    halted = True
                    self._withdraw_waiting(run, client, tasks)

    def _has_room(self, tasks: InFlight) -> bool:
        """Whether another step may be submitted: always, unless ``max_concurrent`` is set
        (then at most that many are on the cluster, so at most that many run)."""
        return not self.max_concurrent or len(tasks) < self.max_concurrent

    def _wait_seconds(self, tasks: InFlight) -> float:
        waits = [POLL_SECONDS]
        next_limit = tasks.seconds_to_next_limit()
        if next_limit is not None:
            waits.append(next_limit)
        if self._deadline is not None:
            waits.append(self._deadline.left())
        return max(0.0, min(waits))

    def _withdraw_waiting(self, run: RunContext, client: Any, tasks: InFlight) -> None:
        """The run halts: the steps not heard to start must not run.

        Every worker is told; a task checks after its start report reached the scheduler,
        so one that runs its step anyway was heard to start before this call returned and
        is followed as usual. The others end at once without running their step; what they
        publish meanwhile is held back, and only forwarded if their step did run after all.
        """
        from nbflow.dask._task import halt_run

        waiting = [task for task in tasks if not task.started]
        if not waiting:
            return
        for task in waiting:
            task.withdrawn = True
        with contextlib.suppress(Exception):
            client.run(halt_run, run.run_id)

    def _handle(
        self, run: RunContext, item: Any, tasks: InFlight, distributed: ModuleType
    ) -> list[tuple[Step, bool | None]]:
        """Handle live messages, a final report or a finished future; the steps it ended
        (``None``: lost before it started, to submit again)."""
        if isinstance(item, list | tuple):  # a start report, with earlier steps' final reports
            ended: list[tuple[Step, bool | None]] = []
            for message in item:
                ended += self._handle(run, message, tasks, distributed)
            return ended
        if isinstance(item, dict):
            task = tasks.get(item.get("key"))
            if task is None:
                return []  # its task is over: already handled
            tasks.started(task)
            if item.get("withdrawn"):
                tasks.pop(task)
                return [(task.step, None)]  # its step did not run
            if "final" in item:
                first = item.get("seq", 0)
                if not isinstance(first, int) or first > task.handled:
                    return []  # messages before these went missing: the result has them
                messages = item["final"][task.handled - first :]
                return [(task.step, self._final(run, task, messages, tasks))]
            if not task.withdrawn:  # held back until it is known to have run
                self._stream(run, task, item)
            return []
        task = tasks.of_future(item)
        if task is None:
            return []
        tasks.pop(task)
        return [(task.step, self._collect(run, task, distributed))]

    def _final(
        self, run: RunContext, task: Submitted, messages: Sequence[bytes], tasks: InFlight
    ) -> bool:
        """A step's final report (the messages not handled yet), sent as its task ended:
        the step is over."""
        tasks.pop(task)
        ok: bool | None = None
        for data in messages:
            reported = self.receive(run, data, f"the Dask task of step {task.step.key!r}")
            ok = reported if reported is not None else ok
        task.future.release()  # whatever happens to its worker now is not this step's doing
        self._released.append(task.future)
        if ok is None:
            self.step_died(run, task.step, StepProcessError.worker_died(task.step.key, "no result"))
            return False
        return ok

    def _end_tasks(self, client: Any, ended: list[Submitted]) -> str:
        """Cancel ``ended``'s tasks and end the workers running them, when that is safe."""
        keys = {task.key for task in ended}
        workers: list[str] = []
        if self._ends_workers:
            with contextlib.suppress(Exception):
                processing = client.processing()
                workers = [addr for addr, held in processing.items() if keys & set(held)]
        client.cancel([task.future for task in ended])
        if not workers:
            return "its Dask task was canceled; code already running on a worker may still finish"
        if self._released:  # steps over whose results may still be on the worker: forget
            with contextlib.suppress(Exception):  # them first, so none is computed again
                client.cancel(self._released)
            self._released.clear()
        with contextlib.suppress(Exception):  # the worker is gone before it can answer
            client.run(os._exit, EXIT_TIMED_OUT, workers=workers, on_error="ignore")
        _wait_until_gone(client, set(workers))
        return "its Dask worker was ended (the cluster starts a new one)"

    def _time_out_steps(
        self, run: RunContext, client: Any, tasks: InFlight
    ) -> list[tuple[Step, bool | None]]:
        """Fail the steps past their time limit, ending their tasks."""
        ended: list[tuple[Step, bool | None]] = []
        for task in tasks.past_limit():
            tasks.pop(task)
            how = self._end_tasks(client, [task])
            limit = task.limit
            assert limit is not None
            error = StepTimeoutError.build(task.step.key, limit.seconds, limit.source, how)
            run.fail_step(task.step.key, str(error).splitlines()[0], error, user_failure=False)
            ended.append((task.step, False))
        return ended

    def _time_out_run(
        self,
        run: RunContext,
        client: Any,
        queue: ReadyQueue,
        tasks: InFlight,
        finished: SimpleQueue[Any],
        distributed: ModuleType,
    ) -> None:
        """End every running step, skip the rest and raise ``RunTimeoutError``."""
        assert self._deadline is not None
        self._drain(run, queue, tasks, finished, distributed)
        seconds = self._deadline.seconds
        running = [task for task in tasks if task.started]
        how = self._end_tasks(client, running) if running else ""
        ended = _fail_running(
            run,
            client,
            queue,
            tasks,
            lambda key: StepTimeoutError.build(key, seconds, "execute_job(timeout=...)", how),
            TIMED_OUT_REASON,
        )
        raise RunTimeoutError.build(run.job_name, seconds, ended)

    def _drain(
        self,
        run: RunContext,
        queue: ReadyQueue,
        tasks: InFlight,
        finished: SimpleQueue[Any],
        distributed: ModuleType,
    ) -> None:
        """Handle what has already come back; a step lost before it started stays unrun."""
        while not finished.empty():
            for step, ok in self._handle(run, finished.get(), tasks, distributed):
                if ok is not None:
                    queue.done(step, ok)

    def _check_workers_start(
        self, run: RunContext, client: Any, queue: ReadyQueue, tasks: InFlight
    ) -> None:
        """Fail the run when a restarted worker re-imported an unguarded script."""
        script = None if self._watch is None else self._watch.reimported()
        if script is None:
            return
        error = DaskMainReimportError.build(script)
        _fail_running(run, client, queue, tasks, lambda _key: error, NO_WORKER_REASON)
        raise error

    def _cancel(
        self,
        run: RunContext,
        client: Any,
        queue: ReadyQueue,
        tasks: InFlight,
        finished: SimpleQueue[Any],
        distributed: ModuleType,
    ) -> None:
        """Collect steps that have finished; cancel the tasks of the others: the running
        ones fail, the ones still waiting are skipped.

        A cluster started here is shut down with the run, stopping code that still runs.
        """
        queue.begin_cancel()
        self._drain(run, queue, tasks, finished, distributed)
        how = "its Dask task was canceled"
        if self.address is not None:
            how += "; code already running on a worker of that cluster may still finish"
        _stop_all(client, tasks)
        for task in sorted((t for t in tasks if t.started), key=lambda t: t.step.index):
            stop_canceled_step(run, task.step, how)
            queue.done(task.step, ok=False)
        tasks.clear()
        queue.skip_unfinished()

    def _submit(
        self, run: RunContext, client: Any, step: Step, tasks: InFlight, finished: SimpleQueue[Any]
    ) -> None:
        from nbflow.dask._task import run_step_task

        run.emit(
            EventType.STEP_WORKER_STARTING,
            step.key,
            f"Submitting step {step.key!r} to the Dask cluster",
        )
        key = f"nbflow-{run.run_id}-{step.key}-{next(self._attempts)}"
        future = client.submit(
            run_step_task,
            self.request(run, step),
            self._topic,
            key,
            self.processes or self.address is not None,  # never a user's own sys.stdout
            key=key,
            pure=False,
            retries=0,
            priority=step.priority,
        )
        tasks.add(Submitted(key, future, step, self.step_limit(step)))
        future.add_done_callback(finished.put)

    def _stream(self, run: RunContext, task: Submitted, live: Mapping[str, Any]) -> None:
        """Handle a message a running step published, if it is its task's next one."""
        if live.get("seq") != task.handled:
            return  # one went missing: the rest come with the result, in order
        task.handled += 1
        self.receive(run, live["data"], f"the Dask task of step {task.step.key!r}")

    def _collect(self, run: RunContext, task: Submitted, distributed: ModuleType) -> bool | None:
        """The outcome of a task whose future finished before its final report came;
        ``None`` when its worker died before the step started (it never ran)."""
        step, future = task.step, task.future
        where = f"the Dask task of step {step.key!r}"
        try:
            if future.status == "finished":
                messages = future.result()
                if task.withdrawn and not messages:
                    return None  # its step did not run: the run halted
                ok: bool | None = None
                for data in messages[task.handled :]:
                    reported = self.receive(run, data, where)
                    ok = reported if reported is not None else ok
                if ok is not None:
                    return ok
                self.step_died(run, step, StepProcessError.worker_died(step.key, "no result"))
                return False
            exc = future.exception()
        finally:
            future.release()
        if isinstance(exc, distributed.KilledWorker):
            if not task.started and self._lost_again(step):
                return None
            self.step_died(run, step, StepProcessError.worker_died(step.key, str(exc)))
            return False
        run.fail_step(
            step.key,
            f"Step {step.key!r} failed on Dask before it ran: {type(exc).__name__}: {exc}",
            exc,
            user_failure=False,
        )
        return False

    def _lost_again(self, step: Step) -> bool:
        """Count a loss of ``step`` before it started; whether it may be submitted again."""
        self._lost[step.key] = self._lost.get(step.key, 0) + 1
        return self._lost[step.key] <= MAX_LOST_BEFORE_START


def _stop_all(client: Any, tasks: InFlight) -> None:
    if tasks:
        with contextlib.suppress(Exception):
            client.cancel(tasks.futures())


def _wait_until_gone(client: Any, workers: set[str]) -> None:
    """Return once the scheduler no longer lists ``workers`` (or after
    :data:`WORKER_GONE_SECONDS`): a step submitted while an ended worker is still listed
    could be sent to it, and its death would then be blamed on that innocent step."""
    deadline = Deadline(WORKER_GONE_SECONDS)
    while not deadline.passed:
        try:
            listed = set(client.scheduler_info()["workers"])
        except Exception:
            return
        if not listed & workers:
            return
        time.sleep(0.05)


def _fail_running(
    run: RunContext,
    client: Any,
    queue: ReadyQueue,
    tasks: InFlight,
    error_for: Callable[[str], Exception],
    skip_reason: str,
) -> list[str]:
    """Cancel every task; fail each step that was running with ``error_for(step_key)`` and
    skip the steps not started; returns the failed step keys in plan order."""
    _stop_all(client, tasks)
    ended = sorted((t.step for t in tasks if t.started), key=lambda s: s.index)
    for step in ended:
        error = error_for(step.key)
        run.fail_step(step.key, str(error).splitlines()[0], error, user_failure=False)
        queue.done(step, ok=False)
    tasks.clear()
    queue.skip_unfinished(skip_reason)
    return [step.key for step in ended]
