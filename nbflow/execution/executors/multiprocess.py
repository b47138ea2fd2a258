"""The multiprocess executor: steps in other processes, at most ``max_concurrent`` at once.

Steps run in warm worker processes, started on demand (at most ``max_concurrent``) and reused
for the next steps of the run, so a tiny step costs a millisecond or two instead of a process
start; with ``process_per_step: true`` each step gets a fresh process, for steps that leave
state behind (module globals, open handles, patched libraries) that a later step must not see.
A busy worker is handed the next ready step before it finishes its own (one at most), so it
goes on without waiting for the parent between the two: each worker still runs one step at a
time, the waiting step's time limit counts from its start, and a step waiting on a worker
that crashes or is ended starts again on another. Once the run halts (a failure, a cancel,
its time limit) a waiting step never starts. The price: a step of higher priority that
becomes ready meanwhile may start after the one already handed over.
Processes start with ``forkserver`` on Linux (nbflow's own server, with nbflow preloaded: see
:mod:`~nbflow.execution.executors.fork_server`) and ``spawn`` elsewhere, never ``fork``; each
step sees the parent's environment variables and working folder as they were when it was
handed over.
Ready steps start highest ``nbflow/priority`` first, within ``max_concurrent`` and the tag
concurrency limits; memoized steps are settled here without a process. Each step streams its
events back through a pipe as they happen; a process that dies (``os._exit``, a segfault,
SIGKILL) fails the step it was running alone, naming the exit code or signal, and later steps
get another worker. Interrupting the run (Ctrl-C, SIGTERM) stops every step process. A step
past its time limit (``nbflow/timeout`` tag, ``step_timeout``) has its process ended (SIGTERM,
then SIGKILL) and fails with ``StepTimeoutError``; a run past ``execute_job(timeout=)`` starts
no further step, ends the running ones and fails with ``RunTimeoutError``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.errors import (
    ExecutionError,
    InvalidDefinitionError,
    RunTimeoutError,
    StepProcessError,
    StepTimeoutError,
)
from nbflow.events import EventType
from nbflow.execution.engine.executor import Executor, ReadyQueue
from nbflow.execution.engine.in_process import InProcessExecutor
from nbflow.execution.engine.timeouts import TIMED_OUT_REASON, Deadline
from nbflow.execution.executors._main_module import main_module_hidden
from nbflow.execution.executors.fork_server import starting_from
from nbflow.execution.executors.out_of_process import OutOfProcessExecutor, stop_canceled_step
from nbflow.execution.executors.step_process import step_process_main, worker_main
from nbflow.execution.executors.step_request import HeldJob

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.synchronize import Event as SharedFlag

    from nbflow.execution.engine.plan import Step
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.engine.timeouts import StepLimit
    from nbflow.execution.executors.step_request import JobPayload

POLL_SECONDS = 0.5
"""Longest wait for news from step processes before checking again."""
EXIT_GRACE_SECONDS = 10.0
"""How long a step process may take to exit after reporting that its step finished."""
STOP_GRACE_SECONDS = 3.0
"""How long a step process has to exit after SIGTERM before it is killed."""
HELD_JOB = HeldJob()
"""What a warm worker's requests name as their job: the one it was sent first."""
PRELOAD_MODULES = ("nbflow.execution.executors.step_process", "cloudpickle")
"""Imported once by the fork server, so each step process starts in a few milliseconds."""


@dataclass(frozen=True, slots=True)
class TagLimit:
    """At most ``limit`` running steps whose tag ``key`` is set (to ``value``, if given)."""

    key: str
    value: str | None
    limit: int

    def matches(self, step: Step) -> bool:
        if self.key not in step.tags:
            return False
        return self.value is None or str(step.tags[self.key]) == self.value


def _tag_limits(entries: Sequence[Mapping[str, Any]]) -> tuple[TagLimit, ...]:
    limits = tuple(TagLimit(e["key"], e.get("value"), int(e["limit"])) for e in entries)
    bad = [f"limit {t.limit} for tag {t.key!r} is below 1" for t in limits if t.limit < 1]
    if bad:
        raise InvalidDefinitionError.build(
            "execution config tag_concurrency_limits",
            [*bad, "Fix: give each limit 1 or more (remove the tag to stop steps running)."],
        )
    return limits


def _start_method(config: Mapping[str, Any] | None) -> tuple[str, tuple[str, ...]]:
    """The start method and modules to preload: forkserver on Linux, spawn elsewhere."""
    if config:
        ((name, options),) = config.items()
        if name == "forkserver":
            if "forkserver" not in multiprocessing.get_all_start_methods():
                raise InvalidDefinitionError(
                    f"start_method forkserver is not available on {sys.platform}. Fix: use "
                    "start_method: {spawn: {}}."
                )
            return "forkserver", tuple((options or {}).get("preload_modules") or ())
        return "spawn", ()
    if sys.platform.startswith("linux"):
        return "forkserver", ()
    return "spawn", ()


class _Worker:
    """A warm worker process: takes requests through ``requests``, reports through ``reader``."""

    __slots__ = ("has_job", "process", "reader", "requests", "steps")

    def __init__(self, process: BaseProcess, requests: Connection, reader: Connection) -> None:
        self.process = process
        self.requests = requests
        self.reader = reader
        self.has_job = False  # sent the run's job, which its requests then name as HeldJob
        self.steps: list[_Child] = []
        """The steps handed to it and not finished with, in order: the first one whose
        outcome is unknown runs (or is about to); one more may wait behind it."""

    def running(self) -> _Child | None:
        """The step it runs (or is about to run): the first whose outcome is unknown."""
        return next((child for child in self.steps if child.ok is None), None)

    def send(self, message: tuple[Any, ...], job: JobPayload) -> None:
        """Send a step's ``message``, preceded by ``job`` the first time."""
        if not self.has_job:
            self.requests.send(("job", job))
            self.has_job = True
        self.requests.send(message)


class _Child:
    """One running step, its process (fresh, or a warm ``worker``) and what it reported."""

    __slots__ = (
        "deadline",
        "done_at",
        "heard",
        "limit",
        "ok",
        "process",
        "queued",
        "reader",
        "reader_open",
        "step",
        "worker",
    )

    def __init__(
        self,
        step: Step,
        process: BaseProcess,
        reader: Connection,
        limit: StepLimit | None,
        worker: _Worker | None = None,
        *,
        queued: bool = False,
    ) -> None:
        self.step = step
        self.process = process
        self.reader = reader
        self.reader_open = True
        self.ok: bool | None = None  # set by the "done" message
        self.done_at = 0.0
        self.limit = limit
        self.queued = queued
        """Handed to a worker behind another step: not started, its time limit not counting."""
        self.heard = False  # its process reported something about it
        self.deadline: Deadline | None = None
        self.worker = worker
        if not queued:
            self.begin()

    def begin(self) -> None:
        """The step before it on its worker finished: it starts now (its time limit counts)."""
        self.queued = False
        if self.limit is not None:
            self.deadline = Deadline(self.limit.seconds)

    @property
    def overdue(self) -> bool:
        """Past its time limit without having reported that its step finished."""
        return self.ok is None and self.deadline is not None and self.deadline.passed


def _end_processes(processes: Sequence[BaseProcess]) -> None:
    """Terminate the processes still running, killing those that do not stop in time."""
    alive = [process for process in processes if process.exitcode is None]
    for process in alive:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in alive:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            with contextlib.suppress(Exception):
                process.kill()
            process.join(1.0)


def _stop(children: Sequence[_Child]) -> None:
    """Terminate the process of every running step (fresh or warm) and close its pipes."""
    _end_processes([child.process for child in children])
    for child in children:
        child.reader.close()
        if child.worker is not None:
            child.worker.requests.close()


def _dismiss(workers: Sequence[_Worker]) -> None:
    """Let idle workers exit on their own (so they end as any process does), then stop those
    that do not."""
    for worker in workers:
        with contextlib.suppress(OSError):
            worker.requests.send(None)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
    _end_processes([worker.process for worker in workers])
    for worker in workers:
        worker.reader.close()
        worker.requests.close()
        with contextlib.suppress(ValueError):
            worker.process.close()


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` while steps run, so step processes get stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield  # someone else decides what SIGTERM does
        return

    def exit_on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class MultiprocessExecutor(OutOfProcessExecutor):
    """Runs each step in a fresh process (config: see ``multiprocess_executor``)."""

    label = "multiprocess"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.max_concurrent = int(self.config.get("max_concurrent") or 0) or (
            multiprocessing.cpu_count()
        )
        self.start_method, preload = _start_method(self.config.get("start_method"))
        self.preload_modules = (*PRELOAD_MODULES, *preload)
        self.tag_limits = _tag_limits(self.config.get("tag_concurrency_limits") or ())
        self.process_per_step = bool(self.config.get("process_per_step"))
        self._context: Any = multiprocessing.get_context(self.start_method)
        self._deadline: Deadline | None = None
        self._idle: list[_Worker] = []
        self._halt: SharedFlag  # set when the run starts no more steps (made per run)

    def execute(self, run: RunContext) -> None:
        self.begin(run)
        children: list[_Child] = []
        self._deadline = self.run_deadline()
        self._halt = self._context.Event()
        try:
            with _sigterm_exits():
                self._run_steps(run, children)
        finally:
            _stop(children)  # on errors and interrupts too: no orphans
            idle, self._idle = self._idle, []
            _dismiss(idle)

    def _run_steps(self, run: RunContext, children: list[_Child]) -> None:
        queue = ReadyQueue(run)
        pending: list[Step] = []
        halted = False
        while True:
            if queue.cancel_requested:
                self._halt.set()
                self._cancel(run, queue, children)
                return
            if self._deadline is not None and self._deadline.passed:
                self._halt.set()
                self._time_out_run(run, queue, children, self._deadline)
            while queue:
                step = queue.pop()
                if not queue.settle(step):
                    pending.append(step)
            if not halted:
                halted = self._launch_ready(run, queue, pending, children)
            if not children:
                if queue:
                    continue
                if pending and not halted:
                    raise ExecutionError(
                        f"Steps {[s.key for s in pending]} are ready but none could start."
                    )
                return
            for child in self._wait(run, children):
                if child in children:  # else settled with another step of its worker
                    halted = self._settle(run, queue, pending, children, child) or halted

    def _settle(
        self,
        run: RunContext,
        queue: ReadyQueue,
        pending: list[Step],
        children: list[_Child],
        child: _Child,
    ) -> bool:
        """Settle an ended ``child`` (and the steps of its worker, if that worker ended); True
        when a failure halts the run."""
        halts = False
        for ended, ok in self._end(run, child):
            children.remove(ended)
            if ok is None:  # waited on a worker that ended before starting it
                pending.append(ended.step)
                continue
            queue.done(ended.step, ok)
            if not ok and run.raise_on_error:
                halts = True
                self._halt.set()  # a step waiting on a worker does not start
        return halts

    def _end(self, run: RunContext, child: _Child) -> list[tuple[_Child, bool | None]]:
        """Settle ``child``, which ended or is past its limit: each step settled with it (its
        worker's, when that worker ended) and its outcome, ``None`` for a step that never
        started."""
        if child.overdue:
            return self._time_out(run, child)
        if child.worker is not None:
            return self._finish_on_worker(run, child, child.worker)
        return [(child, self._finish(run, child))]

    def _time_out(self, run: RunContext, child: _Child) -> list[tuple[_Child, bool | None]]:
        """End the process of a step past its limit; the step fails with the limit named (a
        step waiting on the same worker is started again elsewhere)."""
        self._drain(run, child)  # what it reported up to now
        if child.ok is not None:  # it finished just in time
            return self._end(run, child)
        pid = child.process.pid
        if child.worker is None:
            _stop([child])
        else:
            _end_processes([child.process])
        assert child.limit is not None
        how = f"its process (pid {pid}) was ended"
        error = StepTimeoutError.build(child.step.key, child.limit.seconds, child.limit.source, how)
        run.fail_step(child.step.key, str(error).splitlines()[0], error, user_failure=False)
        child.ok = False
        if child.worker is not None:
            return self._worker_ended(run, child.worker)
        with contextlib.suppress(ValueError):
            child.process.close()
        return [(child, False)]

    def _time_out_run(
        self, run: RunContext, queue: ReadyQueue, children: list[_Child], deadline: Deadline
    ) -> None:
        """End every running step and skip the rest; raise ``RunTimeoutError``."""
        for child in children:
            self._drain(run, child)
        _stop(children)
        ended = []
        for child in children:
            ok = child.ok
            if ok is None and child.queued:
                continue  # never started: skipped with the rest
            if ok is None:
                ended.append(child.step.key)
                how = f"its process (pid {child.process.pid}) was ended: the run ran out of time"
                error = StepTimeoutError.build(
                    child.step.key, deadline.seconds, "execute_job(timeout=...)", how
                )
                run.fail_step(child.step.key, str(error).splitlines()[0], error, user_failure=False)
            queue.done(child.step, bool(ok))
        _close_processes(children)
        children.clear()
        queue.skip_unfinished(TIMED_OUT_REASON)
        raise RunTimeoutError.build(run.job_name, deadline.seconds, ended)

    def _cancel(self, run: RunContext, queue: ReadyQueue, children: list[_Child]) -> None:
        """Stop every step process; steps that had not finished fail (running) or are skipped."""
        queue.begin_cancel()
        for child in children:
            self._drain(run, child)  # what a step reported before it was stopped
        _stop(children)
        for child in children:
            ok = child.ok
            if ok is None and child.queued:
                continue  # never started: skipped with the rest
            if ok is None:
                stop_canceled_step(
                    run, child.step, f"its process, pid {child.process.pid}, was terminated"
                )
            queue.done(child.step, bool(ok))
        _close_processes(children)
        children.clear()
        queue.skip_unfinished()

    def _launch_ready(
        self, run: RunContext, queue: ReadyQueue, pending: list[Step], children: list[_Child]
    ) -> bool:
        """Start ready steps by priority within the limits, and hand each busy warm worker
        the next step to run after its own (one at most); True when a failure halts the run."""
        if not pending:
            return False
        free = self.max_concurrent - sum(1 for child in children if not child.queued)
        behind = [] if self.process_per_step else _workers_to_queue_on(children)
        if free <= 0 and not behind:
            return False  # most calls: every slot taken (no need to order what waits)
        pending.sort(key=lambda s: (-s.priority, s.index))
        for step in list(pending):
            if free <= 0 and not behind:
                break
            if not self._within_tag_limits(step, children):
                continue
            if free <= 0:
                child = self._queue_on(run, step, behind.pop(0))
                if child is not None:
                    pending.remove(step)
                    children.append(child)
                continue
            pending.remove(step)
            free -= 1
            child = self._launch(run, step)
            if child is None:
                queue.done(step, ok=False)
                if run.raise_on_error:
                    self._halt.set()
                    return True
                continue
            children.append(child)
        return False

    def _within_tag_limits(self, step: Step, children: Sequence[_Child]) -> bool:
        for limit in self.tag_limits:
            if limit.matches(step):
                running = sum(1 for c in children if limit.matches(c.step))
                if running >= limit.limit:
                    return False
        return True

    def _launch(self, run: RunContext, step: Step) -> _Child | None:
        limit = self.step_limit(step)
        try:
            message = self._message(run, step)
            if self.process_per_step:
                self._say_starting(run, step, None)
                process, reader = self._start(f"nbflow-step-{step.key}", step_process_main, message)
                return _Child(step, process, reader, limit)
            worker = self._send_to_worker(run, step, message)
        except Exception as exc:
            run.fail_step(
                step.key,
                f"Step {step.key!r} could not start its process: {type(exc).__name__}: {exc}",
                exc,
                user_failure=False,
            )
            return None
        child = _Child(step, worker.process, worker.reader, limit, worker)
        worker.steps.append(child)
        return child

    def _message(self, run: RunContext, step: Step) -> tuple[Any, ...]:
        """What starts ``step`` in a step process: its header, request and surroundings."""
        payload = self.request(run, step, None if self.process_per_step else HELD_JOB)
        return ((run.job_name, step.key, run.run_id), payload, (dict(os.environ), os.getcwd()))

    def _queue_on(self, run: RunContext, step: Step, worker: _Worker) -> _Child | None:
        """Hand ``step`` to ``worker``, busy with another step, to run right after it: the
        worker does not wait for the parent between the two. ``None`` when it cannot be sent
        (the worker is ending; the step waits for another)."""
        try:
            message = self._message(run, step)
            worker.send(message, self.job_payload)
        except OSError:
            return None
        self._say_starting(run, step, worker)
        child = _Child(
            step, worker.process, worker.reader, self.step_limit(step), worker, queued=True
        )
        worker.steps.append(child)
        return child

    def _say_starting(self, run: RunContext, step: Step, worker: _Worker | None) -> None:
        if worker is None:
            what = f"Launching a {self.start_method} process for step {step.key!r}"
        else:
            what = f"Handing step {step.key!r} to warm worker process {worker.process.pid}"
        run.emit(EventType.STEP_WORKER_STARTING, step.key, what)

    def _send_to_worker(self, run: RunContext, step: Step, message: tuple[Any, ...]) -> _Worker:
        """Send ``message`` to an idle worker (one that died while idle is replaced), or to a
        new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.exitcode is not None:
                _dismiss([worker])
                continue
            self._say_starting(run, step, worker)
            try:
                worker.send(message, self.job_payload)
            except OSError:  # it died just now
                _dismiss([worker])
                continue
            return worker
        self._say_starting(run, step, None)
        requests_in, requests_out = self._context.Pipe(duplex=False)
        arguments = (requests_in, self._halt, run.raise_on_error)
        process, reader = self._start("nbflow-worker", worker_main, arguments)
        requests_in.close()
        worker = _Worker(process, requests_out, reader)
        try:
            worker.send(message, self.job_payload)
        except BaseException:
            _dismiss([worker])  # never left running untracked
            raise
        return worker

    def _start(
        self, name: str, target: Any, args: tuple[Any, ...]
    ) -> tuple[BaseProcess, Connection]:
        """Start a process running ``target(*args, writer)``; the process and the reading end
        of the pipe it reports through."""
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=target, args=(*args, writer), name=name)
        own_server = (
            starting_from(self.preload_modules)
            if self.start_method == "forkserver"
            else contextlib.nullcontext()
        )
        try:
            with main_module_hidden(), own_server:
                process.start()
        finally:
            writer.close()
        return process, reader

    def _wait(self, run: RunContext, children: Sequence[_Child]) -> list[_Child]:
        """Wait briefly for news; forward it; return the children whose process ended (or,
        on a warm worker, whose step finished)."""
        readers = {id(c.reader): c for c in children if c.reader_open}  # a worker's steps share one
        watched: list[Any] = [c.reader for c in readers.values()]
        watched += list({id(c.process): c.process.sentinel for c in children}.values())
        wait = min([POLL_SECONDS, *(c.deadline.left() for c in children if c.deadline)])
        if self._deadline is not None:
            wait = min(wait, self._deadline.left())
        ready = multiprocessing.connection.wait(watched, timeout=max(0.0, wait))
        for child in readers.values():
            if child.reader in ready:
                self._drain(run, child)
        ended = []
        now = time.monotonic()
        for child in children:
            if child.process.sentinel in ready or child.overdue:
                ended.append(child)
            elif child.ok is not None and child.worker is not None:
                ended.append(child)  # its worker goes on with the next step, or waits for one
            elif child.ok is not None and now - child.done_at > EXIT_GRACE_SECONDS:
                ended.append(child)  # finished its step but does not exit: stopped in _finish
        return ended

    def _drain(self, run: RunContext, child: _Child) -> None:
        """Forward what ``child``'s process reported so far (on a warm worker: about each of
        its steps, in order; a step waiting behind one that finished starts then)."""
        worker = child.worker
        steps = [child] if worker is None else worker.steps
        while child.reader_open:
            running = child if worker is None else worker.running()
            where = (
                f"the process of step {running.step.key!r} (pid {child.process.pid})"
                if running is not None
                else f"the worker process {child.process.pid}"
            )
            try:
                if not child.reader.poll():
                    return
                data = child.reader.recv_bytes()
            except (EOFError, OSError):
                for each in steps:
                    each.reader_open = False
                return
            if running is not None:
                running.heard = True
            ok = self.receive(run, data, where)
            if ok is not None and running is not None:
                running.ok = ok
                running.done_at = time.monotonic()
                following = None if worker is None else worker.running()
                if following is not None and following.queued:
                    following.begin()

    def _finish(self, run: RunContext, child: _Child) -> bool:
        process = child.process
        process.join(1.0)
        self._drain(run, child)
        if process.exitcode is None:
            _stop([child])
        child.reader.close()
        ok = child.ok
        if ok is None:
            died = StepProcessError.from_exit(child.step.key, process.exitcode)
            self.step_died(run, child.step, died)
            ok = False
        with contextlib.suppress(ValueError):
            process.close()
        return ok

    def _finish_on_worker(
        self, run: RunContext, child: _Child, worker: _Worker
    ) -> list[tuple[_Child, bool | None]]:
        """The step's outcome; its worker goes back to the idle ones (or on with the step
        waiting behind it) unless it ended, and then every step it held is settled."""
        self._drain(run, child)
        if child.ok is not None and child.reader_open and worker.process.exitcode is None:
            worker.steps.remove(child)
            if not worker.steps:
                self._idle.append(worker)
            return [(child, child.ok)]
        worker.process.join(1.0)
        return self._worker_ended(run, worker)

    def _worker_ended(self, run: RunContext, worker: _Worker) -> list[tuple[_Child, bool | None]]:
        """Let go of a worker that ended (or was ended) and settle the steps it held: a step
        it finished keeps its outcome, the one it was running fails, a step it never started
        (``None``) is started again elsewhere."""
        exitcode = worker.process.exitcode
        _dismiss([worker])
        settled: list[tuple[_Child, bool | None]] = []
        for child in worker.steps:
            if child.ok is not None:
                settled.append((child, child.ok))
            elif not child.heard:  # never started (a waiting step is never heard)
                settled.append((child, None))
            else:
                self.step_died(
                    run, child.step, StepProcessError.from_exit(child.step.key, exitcode)
                )
                settled.append((child, False))
        worker.steps.clear()
        return settled


def _workers_to_queue_on(children: Sequence[_Child]) -> list[_Worker]:
    """The warm workers running a step with no other waiting behind it."""
    workers = {id(c.worker): c.worker for c in children if c.worker is not None}
    return [
        worker
        for worker in workers.values()
        if len(worker.steps) == 1 and worker.steps[0].ok is None and worker.steps[0].reader_open
    ]


def _close_processes(children: Sequence[_Child]) -> None:
    for child in children:
        with contextlib.suppress(ValueError):
            child.process.close()


def multi_or_in_process(config: Mapping[str, Any] | None = None) -> Executor:
    """The executor ``multi_or_in_process_executor`` config picks: multiprocess by default."""
    ((mode, options),) = dict(config or {"multiprocess": {}}).items()
    if mode == "in_process":
        return InProcessExecutor(options)
    return MultiprocessExecutor(options)
