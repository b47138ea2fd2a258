"""The Dask executor: nbflow schedules, Dask runs step payloads on its workers.

nbflow keeps the ready queue, memoization, retries (inside each step) and priority; it
submits at most as many steps as the cluster has worker threads, highest priority first.
Each submission is a payload cloudpickled by nbflow, under a key unique to the run, step and
attempt. A step's events and log messages come back as they happen, through the run's
topic on the scheduler (``Client.subscribe_topic``), and all of them again with its result.
A LocalCluster started here allows no task failures (``allowed-failures: 0``), so a step
that kills its worker fails that step instead of being silently re-run elsewhere; each
step's outcome reaches the scheduler before its task returns, so a worker's death is blamed
only on the step running on it. A step past its time limit has its task canceled and, on
a LocalCluster started here with one thread per worker, its worker ended (the nanny starts a
new one); a run past ``execute_job(timeout=)`` does the same to every running step. A
restarted worker that re-imports an unguarded script fails the run at once, never a hang.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import time
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

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
from nbflow.execution.engine.timeouts import TIMED_OUT_REASON, Deadline, StepLimit
from nbflow.execution.executors._main_module import main_module_hidden
from nbflow.execution.executors.main_reimport import ReimportWatch
from nbflow.execution.executors.out_of_process import OutOfProcessExecutor, stop_canceled_step

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import ModuleType

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.execution.engine.plan import ExecutionPlan, Step
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.executors.reconstruct import ReconstructableJob

POLL_SECONDS = 0.5
"""Longest wait for a step to finish before checking again (keeps Ctrl-C responsive)."""
EXIT_TIMED_OUT = 75
WORKER_GONE_SECONDS = 30.0
"""How long to wait, after ending a worker, for the scheduler to drop it."""
"""Exit code of a Dask worker ended because its step ran past its time limit."""
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
        self._streamed: dict[str, int] = {}  # task key -> messages handled as they came
        self._limits: dict[str, tuple[Deadline, StepLimit]] = {}  # task key -> its limit
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
            futures: dict[Any, Step] = {}
            self._topic = f"nbflow-{run.run_id}"
            client.subscribe_topic(self._topic, lambda event: finished.put(event[1]))
            try:
                self._deadline = self.run_deadline()
                self._run_steps(run, client, distributed, futures, finished)
            finally:
                with contextlib.suppress(Exception):
                    client.unsubscribe_topic(self._topic)
                if futures:
                    client.cancel(list(futures))

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

    def _capacity(self, client: Any) -> int:
        if self.max_concurrent:
            return self.max_concurrent
        threads: int = sum(client.nthreads().values())
        return max(1, threads)

    # The scheduling loop reads best whole: cancel, settle, submit, wait, collect.
    def _run_steps(  # noqa: C901
        self,
        run: RunContext,
        client: Any,
        distributed: ModuleType,
        futures: dict[Any, Step],
        finished: SimpleQueue[Any],
    ) -> None:
        queue = ReadyQueue(run)
        pending: list[Step] = []
        capacity = self._capacity(client)
        halted = False
        while True:
            if queue.cancel_requested:
                self._cancel(run, client, queue, futures, finished, distributed)
                return
            if self._deadline is not None and self._deadline.passed:
                self._time_out_run(run, client, queue, futures, finished, distributed)
            while queue:
                step = queue.pop()
                if not queue.settle(step):
                    pending.append(step)
            if not halted:
                pending.sort(key=lambda s: (-s.priority, s.index))
                while pending and len(futures) < capacity:
                    step = pending.pop(0)
                    futures[self._submit(run, client, step, finished)] = step
            if not futures:
                if queue:
                    continue
                if pending and not halted:
                    raise ExecutionError(f"Steps {[s.key for s in pending]} could not start.")
                return
            try:
                item = finished.get(timeout=self._wait_seconds())
            except Empty:
                item = None
            ended = [] if item is None else self._handle(run, item, futures, distributed)
            if finished.empty():  # outcomes already here count before any limit
                ended += self._time_out_steps(run, client, futures)
                self._check_workers_start(run, client, queue, futures)
            for step, ok in ended:
                queue.done(step, ok)
                halted = halted or (not ok and run.raise_on_error)

    def _wait_seconds(self) -> float:
        waits = [POLL_SECONDS, *(deadline.left() for deadline, _ in self._limits.values())]
        if self._deadline is not None:
            waits.append(self._deadline.left())
        return max(0.0, min(waits))

    def _handle(
        self, run: RunContext, item: Any, futures: dict[Any, Step], distributed: ModuleType
    ) -> list[tuple[Step, bool]]:
        """Handle a live message, a final report or a finished future; the steps it ended."""
        if isinstance(item, dict) and "final" in item:
            return self._final(run, item, futures)
        if isinstance(item, dict):
            self._stream(run, item, futures)
            return []
        if item in futures:
            step = futures.pop(item)
            self._limits.pop(item.key, None)
            return [(step, self._collect(run, step, item, distributed))]
        return []

    def _final(
        self, run: RunContext, report: Mapping[str, Any], futures: dict[Any, Step]
    ) -> list[tuple[Step, bool]]:
        """A step's final report, sent before its task returned: the step is over."""
        key = report.get("key")
        future = next((f for f in futures if f.key == key), None)
        if future is None:
            return []  # its result came first and was handled
        step = futures.pop(future)
        self._limits.pop(future.key, None)
        handled = self._streamed.pop(future.key, 0)
        ok: bool | None = None
        for data in report["final"][handled:]:
            reported = self.receive(run, data, f"the Dask task of step {step.key!r}")
            ok = reported if reported is not None else ok
        future.release()  # whatever happens to its worker now is not this step's doing
        if ok is None:
            self.step_died(run, step, StepProcessError.worker_died(step.key, "no result"))
            return [(step, False)]
        return [(step, ok)]

    def _end_tasks(self, client: Any, futures: list[Any]) -> str:
        """Cancel ``futures``' tasks and end the workers running them, when that is safe."""
        keys = {f.key for f in futures}
        workers: list[str] = []
        if self._ends_workers:
            with contextlib.suppress(Exception):
                processing = client.processing()
                workers = [addr for addr, held in processing.items() if keys & set(held)]
        client.cancel(futures)
        if not workers:
            return "its Dask task was canceled; code already running on a worker may still finish"
        with contextlib.suppress(Exception):  # the worker is gone before it can answer
            client.run(os._exit, EXIT_TIMED_OUT, workers=workers, on_error="ignore")
        _wait_until_gone(client, set(workers))
        return "its Dask worker was ended (the cluster starts a new one)"

    def _time_out_steps(
        self, run: RunContext, client: Any, futures: dict[Any, Step]
    ) -> list[tuple[Step, bool]]:
        """Fail the steps past their time limit, ending their tasks."""
        ended = []
        for future, step in list(futures.items()):
            deadline, limit = self._limits.get(future.key, (None, None))
            if deadline is None or limit is None or not deadline.passed:
                continue
            futures.pop(future)
            self._limits.pop(future.key, None)
            how = self._end_tasks(client, [future])
            error = StepTimeoutError.build(step.key, limit.seconds, limit.source, how)
            run.fail_step(step.key, str(error).splitlines()[0], error, user_failure=False)
            ended.append((step, False))
        return ended

    def _time_out_run(
        self,
        run: RunContext,
        client: Any,
        queue: ReadyQueue,
        futures: dict[Any, Step],
        finished: SimpleQueue[Any],
        distributed: ModuleType,
    ) -> None:
        """End every running step, skip the rest and raise ``RunTimeoutError``."""
        assert self._deadline is not None
        while not finished.empty():
            for step, ok in self._handle(run, finished.get(), futures, distributed):
                queue.done(step, ok)
        seconds = self._deadline.seconds
        how = self._end_tasks(client, list(futures)) if futures else ""
        ended = _fail_running(
            run,
            queue,
            futures,
            lambda key: StepTimeoutError.build(key, seconds, "execute_job(timeout=...)", how),
            TIMED_OUT_REASON,
        )
        raise RunTimeoutError.build(run.job_name, seconds, ended)

    def _check_workers_start(
        self, run: RunContext, client: Any, queue: ReadyQueue, futures: dict[Any, Step]
    ) -> None:
        """Fail the run when a restarted worker re-imported an unguarded script."""
        script = None if self._watch is None else self._watch.reimported()
        if script is None:
            return
        error = DaskMainReimportError.build(script)
        if futures:
            client.cancel(list(futures))
        _fail_running(run, queue, futures, lambda _key: error, NO_WORKER_REASON)
        raise error

    def _cancel(
        self,
        run: RunContext,
        client: Any,
        queue: ReadyQueue,
        futures: dict[Any, Step],
        finished: SimpleQueue[Any],
        distributed: ModuleType,
    ) -> None:
        """Collect steps that have finished; cancel the tasks of the others, which fail.

        A cluster started here is shut down with the run, stopping code that still runs.
        """
        queue.begin_cancel()
        while not finished.empty():
            future = finished.get()
            if isinstance(future, dict):
                self._stream(run, future, futures)
            elif future in futures:
                step = futures.pop(future)
                queue.done(step, self._collect(run, step, future, distributed))
        if futures:
            client.cancel(list(futures))
        how = "its Dask task was canceled"
        if self.address is not None:
            how += "; code already running on a worker of that cluster may still finish"
        for step in sorted(futures.values(), key=lambda s: s.index):
            stop_canceled_step(run, step, how)
            queue.done(step, ok=False)
        futures.clear()
        queue.skip_unfinished()

    def _submit(self, run: RunContext, client: Any, step: Step, finished: SimpleQueue[Any]) -> Any:
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
        future.add_done_callback(finished.put)
        limit = self.step_limit(step)
        if limit is not None:
            self._limits[key] = (Deadline(limit.seconds), limit)
        return future

    def _stream(self, run: RunContext, live: Mapping[str, Any], futures: dict[Any, Step]) -> None:
        """Handle a message a running step published, if it is the next one of a current task."""
        key = live.get("key")
        step = next((s for f, s in futures.items() if f.key == key), None)
        if step is None or not isinstance(key, str):
            return  # its task finished: the result has every message
        if live.get("seq") != self._streamed.get(key, 0):
            return  # one went missing: the rest come with the result, in order
        self._streamed[key] = live["seq"] + 1
        self.receive(run, live["data"], f"the Dask task of step {step.key!r}")

    def _collect(self, run: RunContext, step: Step, future: Any, distributed: ModuleType) -> bool:
        where = f"the Dask task of step {step.key!r}"
        handled = self._streamed.pop(future.key, 0)
        try:
            if future.status == "finished":
                ok: bool | None = None
                for data in future.result()[handled:]:
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
            self.step_died(run, step, StepProcessError.worker_died(step.key, str(exc)))
            return False
        run.fail_step(
            step.key,
            f"Step {step.key!r} failed on Dask before it ran: {type(exc).__name__}: {exc}",
            exc,
            user_failure=False,
        )
        return False


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
    queue: ReadyQueue,
    futures: dict[Any, Step],
    error_for: Callable[[str], Exception],
    skip_reason: str,
) -> list[str]:
    """Fail every step still running with ``error_for(step_key)``, forget their futures and
    skip the steps not started; returns the failed step keys in plan order."""
    ended = sorted(futures.values(), key=lambda s: s.index)
    for step in ended:
        error = error_for(step.key)
        run.fail_step(step.key, str(error).splitlines()[0], error, user_failure=False)
        queue.done(step, ok=False)
    futures.clear()
    queue.skip_unfinished(skip_reason)
    return [step.key for step in ended]
