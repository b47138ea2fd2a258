"""Event types and the frozen event records a run emits, with their typed payloads.

Everything observable about a run is an :class:`Event`. Executors never print; sinks
(the in-memory result, the instance's event log, live notebook views) subscribe.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class EventType(Enum):
    """The kinds of event a run emits. ``PIPELINE_*`` members are aliases of ``RUN_*``."""

    ALERT_FAILURE = "ALERT_FAILURE"
    ALERT_START = "ALERT_START"
    ALERT_SUCCESS = "ALERT_SUCCESS"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    ASSET_STORE_OPERATION = "ASSET_STORE_OPERATION"
    ENGINE_EVENT = "ENGINE_EVENT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    HOOK_COMPLETED = "HOOK_COMPLETED"
    HOOK_ERRORED = "HOOK_ERRORED"
    HOOK_SKIPPED = "HOOK_SKIPPED"
    LOADED_INPUT = "LOADED_INPUT"
    LOGS_CAPTURED = "LOGS_CAPTURED"
    LOG_MESSAGE = "LOG_MESSAGE"
    OBJECT_STORE_OPERATION = "OBJECT_STORE_OPERATION"
    RUN_CANCELED = "PIPELINE_CANCELED"
    RUN_CANCELING = "PIPELINE_CANCELING"
    RUN_DEQUEUED = "PIPELINE_DEQUEUED"
    RUN_ENQUEUED = "PIPELINE_ENQUEUED"
    RUN_FAILURE = "PIPELINE_FAILURE"
    RUN_START = "PIPELINE_START"
    RUN_STARTING = "PIPELINE_STARTING"
    RUN_SUCCESS = "PIPELINE_SUCCESS"
    PIPELINE_CANCELED = "PIPELINE_CANCELED"
    PIPELINE_CANCELING = "PIPELINE_CANCELING"
    PIPELINE_DEQUEUED = "PIPELINE_DEQUEUED"
    PIPELINE_ENQUEUED = "PIPELINE_ENQUEUED"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"
    PIPELINE_START = "PIPELINE_START"
    PIPELINE_STARTING = "PIPELINE_STARTING"
    PIPELINE_SUCCESS = "PIPELINE_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    STEP_EXPECTATION_RESULT = "STEP_EXPECTATION_RESULT"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_INPUT = "STEP_INPUT"
    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_RESTARTED = "STEP_RESTARTED"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_WORKER_STARTED = "STEP_WORKER_STARTED"
    STEP_WORKER_STARTING = "STEP_WORKER_STARTING"


STEP_EVENTS = frozenset(
    {
        EventType.STEP_START,
        EventType.STEP_SUCCESS,
        EventType.STEP_FAILURE,
        EventType.STEP_SKIPPED,
        EventType.STEP_INPUT,
        EventType.STEP_OUTPUT,
        EventType.STEP_UP_FOR_RETRY,
        EventType.STEP_RESTARTED,
        EventType.STEP_EXPECTATION_RESULT,
    }
)


# --- payloads --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A serializable description of an exception: class name, message, formatted traceback."""

    cls_name: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        return cls(
            cls_name=type(exc).__name__,
            message=str(exc),
            traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        )

    def __str__(self) -> str:
        return f"{self.cls_name}: {self.message}"


@dataclass(frozen=True, slots=True)
class UserFailureData:
    """What an op said when it failed on purpose (``raise Failure(description, metadata)``)."""

    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    label: str = "intentional-failure"


@dataclass(frozen=True, slots=True)
class StepFailureData:
    """Why a step failed: the error, whether it came from user code, and what a
    :class:`~nbflow.errors.Failure` the op raised said (``user_failure_data``)."""

    error: ErrorInfo
    user_failure: bool = True
    user_failure_data: UserFailureData | None = None


@dataclass(frozen=True, slots=True)
class StepSkippedData:
    """Why a step did not run: memoized (with the versions found) or upstream missing.

    ``detail`` says more about a memoized step, e.g. that its upstream re-ran but produced
    an unchanged value.
    """

    reason: str
    versions: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""

    @property
    def memoized(self) -> bool:
        return self.reason == "memoized"


@dataclass(frozen=True, slots=True)
class StepOutputData:
    """An output a step produced; in memoized runs, with its version and the fingerprint of
    its value when that was cheap to take (see :mod:`nbflow.versioning.output_fingerprint`)."""

    output_name: str
    version: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    value_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class StepInputData:
    """An input a step received, and where it came from."""

    input_name: str
    source: str


@dataclass(frozen=True, slots=True)
class IOManagerData:
    """An IO manager stored or loaded a value (HANDLED_OUTPUT / LOADED_INPUT)."""

    name: str
    manager_key: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetryData:
    """A step is up for retry (attempt number about to run, and the wait before it)."""

    attempt: int
    seconds_to_wait: float
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class HookData:
    """A hook ran, was skipped, or raised."""

    hook_name: str
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class StepDurationData:
    """How long a step's compute took (on STEP_SUCCESS)."""

    duration_ms: float


@dataclass(frozen=True, slots=True)
class ResourceInitData:
    """Resources being built (RESOURCE_INIT_STARTED) or built, with each one's time in ms."""

    resource_keys: tuple[str, ...]
    init_ms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogMessageData:
    """A message an op (or a resource, hook or IO manager) sent to ``context.log`` (LOG_MESSAGE)."""

    level: int
    logger_name: str = "nbflow"


@dataclass(frozen=True, slots=True)
class CapturedOutputData:
    """What a step wrote to stdout and stderr (LOGS_CAPTURED), cut to a bounded size.

    ``dropped_chars`` counts the characters left out of the middle of a longer stream.
    """

    stdout: str = ""
    stderr: str = ""
    dropped_chars: int = 0


# --- the record ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a run.

    Attributes:
        event_type: the :class:`EventType`.
        job_name: the job the run belongs to.
        step_key: the step (``outer.inner`` for nested graphs), or ``None`` for run events.
        message: a one-line human description.
        data: the typed payload (``event_specific_data``), e.g. :class:`StepFailureData`.
        timestamp: seconds since the epoch.
        pid: the process that emitted it.
    """

    event_type: EventType
    job_name: str
    step_key: str | None = None
    message: str = ""
    data: Any = None
    timestamp: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
    run_id: str = ""

    # Names as in the seed documents.
    @property
    def event_type_value(self) -> str:
        return self.event_type.value

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def node_handle(self) -> str | None:
        return self.step_key

    solid_handle = node_handle

    @property
    def node_name(self) -> str | None:
        return None if self.step_key is None else self.step_key.rsplit(".", 1)[-1]

    @property
    def step_kind_value(self) -> str | None:
        return None if self.step_key is None else "COMPUTE"

    @property
    def event_specific_data(self) -> Any:
        return self.data

    @property
    def logging_tags(self) -> dict[str, str]:
        tags = {"job_name": self.job_name, "run_id": self.run_id}
        if self.step_key is not None:
            tags["step_key"] = self.step_key
        return tags

    @property
    def is_step_event(self) -> bool:
        return self.event_type in STEP_EVENTS

    @property
    def is_step_success(self) -> bool:
        return self.event_type is EventType.STEP_SUCCESS

    @property
    def is_step_failure(self) -> bool:
        return self.event_type is EventType.STEP_FAILURE

    @property
    def is_step_skipped(self) -> bool:
        return self.event_type is EventType.STEP_SKIPPED

    @property
    def is_successful_output(self) -> bool:
        return self.event_type is EventType.STEP_OUTPUT

    @property
    def is_failure(self) -> bool:
        return self.event_type in (EventType.STEP_FAILURE, EventType.RUN_FAILURE)

    def __str__(self) -> str:
        where = f" [{self.step_key}]" if self.step_key else ""
        return f"{self.event_type.name}{where} {self.message}".rstrip()


EventSink = Callable[[Event], None]
"""Anything that receives events as they happen."""
