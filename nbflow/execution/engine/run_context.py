"""``RunContext``: the state of one run that the step engine and executors share.

Storing events. While the engine holds events (:meth:`RunContext.holding_events`: the
in-process executor around a run's steps, every executor around each step), the events
emitted gather in an :class:`~nbflow.execution.engine.event_batch.EventBatch` and are stored
in one transaction of the run history once the oldest is ``HOLD_SECONDS`` old, with the
version manifests recorded meanwhile: a chain of small steps stores a transaction every few
dozen steps instead of one per event. Listeners of the run (``Instance.add_event_listener``)
hear each event as it is emitted, and a read of the run's events in this process stores the
held ones first; see :mod:`~nbflow.execution.engine.event_batch` for what other processes see.

A run going on in this process can be asked to stop with :func:`request_cancel` (from any
thread). Executors look at ``RunContext.cancel_requested`` between steps: the in-process
executor stops before its next step, out-of-process executors stop launching steps and stop
the ones running. Steps that did not run are skipped with reason ``run canceled`` and the run
ends ``CANCELED``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dynamic import split_element_name
from nbflow.errors import Failure
from nbflow.events import ErrorInfo, Event, EventType, StepFailureData, UserFailureData
from nbflow.execution.engine.event_batch import EventBatch
from nbflow.execution.engine.resources import Resources

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from nbflow.execution.engine.log import RunLog
    from nbflow.execution.engine.memo import RunVersions
    from nbflow.execution.engine.plan import ExecutionPlan
    from nbflow.execution.engine.run_config import ResolvedRunConfig
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run
    from nbflow.storage.write_behind import WriteBehind
    from nbflow.versioning import VersionParts


class RunContext:
    """Everything a running step may need, and where its events and outputs go."""

    def __init__(
        self,
        *,
        plan: ExecutionPlan,
        config: ResolvedRunConfig,
        run: Run,
        instance: Instance,
        log: RunLog,
        partition_key: str | None = None,
        version_parts: Mapping[tuple[str, str], VersionParts] | None = None,
        sinks: tuple[Callable[[Event], None], ...] = (),
        retries_enabled: bool = True,
        raise_on_error: bool = True,
    ) -> None:
        self.plan = plan
        self.job_def = plan.job_def
        self.job_name = plan.job_def.name
        self.config = config
        self.run_config = config.value
        self.run = run
        self.run_id = run.run_id
        self.tags = run.tags
        self.instance = instance
        self.log = log
        self.partition_key = partition_key
        self.version_parts: dict[tuple[str, str], VersionParts] = {}
        self.versions: dict[tuple[str, str], str] = {}
        self.set_version_parts(version_parts or {})
        self.memo: RunVersions | None = None  # a memoized run's versions, revised as it goes
        self.memoized: dict[str, dict[str, str]] = {}  # step key -> {output: version}
        self.retries_enabled = retries_enabled
        self.raise_on_error = raise_on_error
        self.resources = Resources({})
        self.events: list[Event] = []
        self.outputs: dict[tuple[str, str], Any] = {}
        self.mapping_keys: dict[tuple[str, str], list[str]] = {}
        """Dynamic output → the mapping keys of the elements produced in this run."""
        self.pending_versions: set[str] = set()
        """Steps added by dynamic expansion (and their collectors), to version when settled."""
        self.failures: dict[str, BaseException] = {}
        self._batch = EventBatch(self._record)
        self._holding = 0  # open holding_events() scopes
        self.writes: WriteBehind | None = None
        """The values being written behind the run, when the executor writes behind."""
        self._sinks = (self.events.append, self._note, self._store, instance.tell_listeners, *sinks)
        self._pid = os.getpid()
        self._cancel = threading.Event()
        self.canceled = False  # set by the executor once it has acted on a cancel request

    @property
    def cancel_requested(self) -> bool:
        """Whether someone asked this run to stop (see :func:`request_cancel`)."""
        return self._cancel.is_set()

    def request_cancel(self) -> None:
        """Ask the run to stop; executors notice it between steps. Safe from any thread."""
        self._cancel.set()

    @contextlib.contextmanager
    def cancelable(self) -> Iterator[None]:
        """While inside, :func:`request_cancel` with this run's id reaches this run."""
        with _ACTIVE_LOCK:
            _ACTIVE_RUNS[self.run_id] = self
        try:
            yield
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE_RUNS.pop(self.run_id, None)

    def emit(
        self,
        event_type: EventType,
        step_key: str | None = None,
        message: str = "",
        data: Any = None,
    ) -> Event:
        """Create an event and hand it to every sink."""
        event = Event(
            event_type,
            self.job_name,
            step_key,
            message,
            data,
            time.time(),
            self._pid,
            self.run_id,
        )
        for sink in self._sinks:
            sink(event)
        return event

    def _store(self, event: Event) -> None:
        """Store ``event`` in the run history now, or hold it while the engine holds events."""
        if self._holding:
            self._batch.add(event)
        else:
            self.instance.record_events((event,), tell_listeners=False)

    def _record(self, events: list[Event]) -> None:
        self.instance.record_events(events, tell_listeners=False)

    def _store_held(self) -> None:
        """Store the held events (one transaction). The manifests of values written behind
        that are now on disk are recorded first, to join that transaction."""
        if self.writes is not None:
            self.writes.collect()
        self._batch.flush()

    @contextlib.contextmanager
    def holding_events(self) -> Iterator[None]:
        """Inside, the events emitted are held and stored in groups (see the module doc);
        what is held is stored when the outermost scope ends."""
        if self._holding:
            self._holding += 1
            try:
                yield
            finally:
                self._holding -= 1
            return
        self._holding = 1
        try:
            with self.instance.holding_events(self.run_id, self._batch.flush):
                with self.instance.joining_writes():
                    try:
                        yield
                    finally:
                        self._store_held()
        finally:
            self._holding = 0
            self._batch.flush()  # an event emitted by another thread meanwhile

    @contextlib.contextmanager
    def user_code(self) -> Iterator[None]:
        """Around code that may run long or log: the held events are stored first if the
        oldest is due (see the module doc); the flusher thread stores those that fall due
        while it runs."""
        if self._holding:
            if self.writes is not None:
                self.writes.collect()
            if self._batch.due():
                self._batch.flush()
        yield

    def forward(self, event: Event) -> None:
        """Hand an event made elsewhere (e.g. in a step process) to every sink, unchanged."""
        for sink in self._sinks:
            sink(event)

    def set_version_parts(self, parts: Mapping[tuple[str, str], VersionParts]) -> None:
        """Set (or revise) the version parts, and so the versions, of step outputs."""
        self.version_parts.update(parts)
        self.versions.update((key, p.version) for key, p in parts.items())

    def _note(self, event: Event) -> None:
        """Keep what later steps' versions depend on: fingerprints of produced values, and
        that a step started (values given to the run may change from then on)."""
        if event.event_type is EventType.STEP_START and self.memo is not None:
            self.memo.code_ran()
        if event.event_type is EventType.STEP_OUTPUT and self.memo is not None:
            data = event.data
            self.memo.produced[(str(event.step_key), data.output_name)] = data.value_fingerprint
        if event.event_type is EventType.STEP_OUTPUT:
            base, key = split_element_name(event.data.output_name)
            if key is not None:
                keys = self.mapping_keys.setdefault((str(event.step_key), base), [])
                if key not in keys:
                    keys.append(key)

    def record_output(self, step_key: str, output_name: str, value: Any) -> None:
        self.outputs[(step_key, output_name)] = value

    def has_output(self, step_key: str, output_name: str) -> bool:
        """Whether this run produced the output, or found it stored (memoized)."""
        return (step_key, output_name) in self.outputs or output_name in self.memoized.get(
            step_key, ()
        )

    def record_failure(self, step_key: str, exc: BaseException) -> None:
        self.failures[step_key] = exc

    def fail_step(
        self, step_key: str, message: str, exc: BaseException, *, user_failure: bool
    ) -> None:
        """Emit the step's STEP_FAILURE for ``exc`` and record it as a failure of the run."""
        said = UserFailureData(exc.description, exc.metadata) if isinstance(exc, Failure) else None
        failure = StepFailureData(ErrorInfo.from_exception(exc), user_failure, said)
        self.emit(EventType.STEP_FAILURE, step_key, message, failure)
        self.record_failure(step_key, exc)


_ACTIVE_RUNS: dict[str, RunContext] = {}
_ACTIVE_LOCK = threading.Lock()


def request_cancel(run_id: str) -> bool:
    """Ask run ``run_id``, going on in this process, to stop; safe from any thread.

    The in-process executor finishes the step it is running and stops; the multiprocess
    executor stops its step processes; the Dask executor stops waiting for its tasks (a
    cluster it started is shut down with the run). Steps not run are skipped (``run
    canceled``), the run emits ``RUN_CANCELING`` then ``RUN_CANCELED`` and ends ``CANCELED``.

    Returns:
        True when the run was found going on; False when it has finished or never ran here.
    """
    with _ACTIVE_LOCK:
        run = _ACTIVE_RUNS.get(run_id)
    if run is None:
        return False
    run.request_cancel()
    return True
