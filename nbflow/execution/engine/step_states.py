"""Where each step of a run is, folded from the run's events: the one reading of step events.

Results (``step_summaries``), ``nbflow runs show``, graph views, result tables and the live
run view all ask a :class:`StepStates` fold, so they agree on every step, retries included.
Feed it a finished run's events at once or a live run's events one at a time (``add``);
each view then words the states its own way.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from nbflow.events import (
    ErrorInfo,
    Event,
    EventType,
    RetryData,
    StepDurationData,
    StepFailureData,
    StepSkippedData,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

LOG_TAIL = 20
"""How many log events (``context.log`` messages, captured prints) a step's record keeps:
the last ones; ``StepRecord.log_count`` counts them all."""


class StepState(Enum):
    """Where one step is. Values are the words the views use for them."""

    PENDING = "pending"
    """Nothing is known yet (a finished run's summary says ``not run``)."""
    STARTING = "starting"
    """Its step process is being launched; the step has not started."""
    RUNNING = "running"
    """An attempt is running."""
    UP_FOR_RETRY = "up for retry"
    """An attempt failed and the retry policy runs another one."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Failed for good: no retry is left (or none applies)."""
    SKIPPED = "skipped"
    """Not run: an upstream step failed, or the run was canceled."""
    MEMOIZED = "memoized"
    """Not run: its outputs were stored with the same versions."""

    @property
    def is_final(self) -> bool:
        """Whether the step is done (succeeded, failed, skipped or memoized)."""
        return self in _FINAL


_FINAL = frozenset({StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED, StepState.MEMOIZED})
_UNSEEN = frozenset({StepState.PENDING, StepState.STARTING})


@dataclass(slots=True)
class StepRecord:
    """What the events so far say about one step (read it; the fold updates it).

    Attributes:
        step_key: the step.
        state: its :class:`StepState`.
        attempts: attempts started (1 for a step that ran once; 0 for one that never ran).
        started: when its first attempt started (seconds since the epoch), or ``None``.
        changed: when its state last changed.
        compute_ms: the compute time of the successful attempt (from ``STEP_SUCCESS``).
        error: the error of the final failure (or of the attempt up for retry).
        message: the message of the event that last changed the state.
        next_attempt: the attempt number a retry is about to run (while up for retry).
        skip_reason: why it was skipped (``memoized`` for memoized steps).
        skip_detail: what the run said more about a skipped or memoized step.
        stored_versions: the versions found stored, for a memoized step.
        output_versions: the versions of the outputs it produced, in memoized runs.
        logs: its last :data:`LOG_TAIL` ``LOG_MESSAGE`` and ``LOGS_CAPTURED`` events, in order.
        log_count: how many of those events it had in all.
    """

    step_key: str
    state: StepState = StepState.PENDING
    attempts: int = 0
    started: float | None = None
    changed: float | None = None
    compute_ms: float | None = None
    error: ErrorInfo | None = None
    message: str = ""
    next_attempt: int | None = None
    skip_reason: str = ""
    skip_detail: str = ""
    stored_versions: Mapping[str, str] = field(default_factory=dict)
    output_versions: dict[str, str] = field(default_factory=dict)
    logs: deque[Event] = field(default_factory=lambda: deque(maxlen=LOG_TAIL))
    log_count: int = 0

    @property
    def retries(self) -> int:
        """How many times the step was retried."""
        return max(self.attempts - 1, 0)

    @property
    def elapsed_ms(self) -> float | None:
        """From its first attempt's start to its last change, or ``None`` if it never started."""
        if self.started is None or self.changed is None:
            return None
        return max(0.0, (self.changed - self.started) * 1000)

    @property
    def duration_ms(self) -> float | None:
        """The successful attempt's compute time; for other final states, the time since
        the first attempt started (``None`` if it never started or is not done)."""
        if self.state is StepState.SUCCEEDED and self.compute_ms is not None:
            return self.compute_ms
        return self.elapsed_ms if self.state.is_final else None

    @property
    def failure(self) -> str:
        """The error of a failed step (``Class: message``), else the failure's message."""
        return str(self.error) if self.error is not None else self.message

    @property
    def attempts_note(self) -> str:
        """``3 attempts`` for a step that was retried, else empty."""
        return f"{self.attempts} attempts" if self.attempts > 1 else ""


class StepStates:
    """The fold of a run's events into one :class:`StepRecord` per step.

    Example:
        >>> states = StepStates(result.all_events)
        >>> states.state("flaky"), states["flaky"].attempts
        (<StepState.SUCCEEDED: 'succeeded'>, 2)
    """

    __slots__ = ("_order", "_records")

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._records: dict[str, StepRecord] = {}
        self._order: list[str] = []  # steps in the order they started (or ended unstarted)
        self.update(events)

    def update(self, events: Iterable[Event]) -> None:
        """Fold ``events`` (in the order they happened)."""
        for event in events:
            self.add(event)

    def add(self, event: Event) -> None:
        """Fold one event; events without a step, or that change no state, leave it as is."""
        key = event.step_key
        if key is None:
            return
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = StepRecord(key)
        fold = _FOLDS.get(event.event_type)
        state = None if fold is None else fold(record, event)
        if state is not None:
            self._set(record, state, event)

    def _set(self, record: StepRecord, state: StepState, event: Event) -> None:
        if record.state in _UNSEEN:
            self._order.append(record.step_key)
        record.state = state
        record.changed = event.timestamp
        record.message = event.message

    def __getitem__(self, step_key: str) -> StepRecord:
        """The record of ``step_key`` (a pending one if no event named it)."""
        record = self._records.get(step_key)
        return record if record is not None else StepRecord(step_key)

    def __contains__(self, step_key: object) -> bool:
        return step_key in self._records

    def __iter__(self) -> Iterator[StepRecord]:
        """Every step an event named, in no promised order."""
        return iter(list(self._records.values()))

    def state(self, step_key: str) -> StepState:
        """The state of ``step_key`` (``PENDING`` if no event named it)."""
        return self[step_key].state

    def seen(self) -> list[StepRecord]:
        """Steps that started, were skipped or memoized: in the order that first happened."""
        return [self._records[key] for key in self._order]


def _output(record: StepRecord, event: Event) -> None:
    version = getattr(event.data, "version", None)
    if version:
        record.output_versions[event.data.output_name] = version


def _logged(record: StepRecord, event: Event) -> None:
    record.logs.append(event)
    record.log_count += 1


def _launched(record: StepRecord, event: Event) -> None:
    if record.state is StepState.PENDING:
        record.state = StepState.STARTING


def _started(record: StepRecord, event: Event) -> StepState:
    if record.started is None:
        record.started = event.timestamp
    record.attempts += 1
    record.next_attempt = None
    return StepState.RUNNING


def _up_for_retry(record: StepRecord, event: Event) -> StepState:
    if isinstance(event.data, RetryData):
        record.error = event.data.error
    record.next_attempt = record.attempts + 1
    return StepState.UP_FOR_RETRY


def _succeeded(record: StepRecord, event: Event) -> StepState:
    if isinstance(event.data, StepDurationData):
        record.compute_ms = event.data.duration_ms
    record.error = None
    return StepState.SUCCEEDED


def _failed(record: StepRecord, event: Event) -> StepState:
    record.error = event.data.error if isinstance(event.data, StepFailureData) else None
    return StepState.FAILED


def _skipped(record: StepRecord, event: Event) -> StepState:
    data = event.data
    if not isinstance(data, StepSkippedData):
        record.skip_reason = event.message
        return StepState.SKIPPED
    record.skip_reason, record.skip_detail = data.reason, data.detail
    if not data.memoized:
        return StepState.SKIPPED
    record.stored_versions = dict(data.versions)
    return StepState.MEMOIZED


_FOLDS: dict[EventType, Callable[[StepRecord, Event], StepState | None]] = {
    EventType.STEP_OUTPUT: _output,
    EventType.STEP_WORKER_STARTING: _launched,
    EventType.STEP_WORKER_STARTED: _launched,
    EventType.STEP_START: _started,
    EventType.STEP_RESTARTED: _started,
    EventType.STEP_UP_FOR_RETRY: _up_for_retry,
    EventType.STEP_SUCCESS: _succeeded,
    EventType.STEP_FAILURE: _failed,
    EventType.STEP_SKIPPED: _skipped,
    EventType.LOG_MESSAGE: _logged,
    EventType.LOGS_CAPTURED: _logged,
}
"""How each kind of step event changes a step's record, and the state it leads to (if any)."""
