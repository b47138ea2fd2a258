"""Time limits of steps and runs: where they come from and how they are read.

A step's limit is its op's ``nbflow/timeout`` tag (seconds) or else the executor's
``step_timeout`` config; a run's limit is ``execute_job(timeout=...)``, counted from when
its executor starts running steps. In-process, a step past its limit is reported when it
returns (Python cannot stop a running function safely); out-of-process executors end the
step's process or worker at the limit.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from nbflow.errors import InvalidTimeoutError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.execution.engine.plan import Step

TIMEOUT_TAG = "nbflow/timeout"
"""Op tag: the longest a step of the op may run, in seconds."""
STEP_TIMEOUT_CONFIG = "step_timeout"
"""Executor config key: the limit of every step whose op has no ``nbflow/timeout`` tag."""
TIMED_OUT_REASON = "run timed out"
"""The ``StepSkippedData.reason`` of steps a run past its time limit did not run."""


def parse_timeout(value: Any, where: str) -> float | None:
    """``value`` as a positive number of seconds; ``None`` for no limit.

    Raises:
        InvalidTimeoutError: ``value`` is not a number (or a numeric string) above 0.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidTimeoutError.for_value(where, value)
    if isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise InvalidTimeoutError.for_value(where, value) from None
    elif isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise InvalidTimeoutError.for_value(where, value) from None
    else:
        raise InvalidTimeoutError.for_value(where, value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTimeoutError.for_value(where, value)
    return seconds


def tag_limit(step: Step) -> float | None:
    """The step's ``nbflow/timeout`` tag in seconds, or ``None``."""
    return parse_timeout(step.tags.get(TIMEOUT_TAG), _tag_where(step))


def _tag_where(step: Step) -> str:
    return f"Tag {TIMEOUT_TAG!r} of op {step.op_def.name!r}"


def config_limit(config: Mapping[str, Any]) -> float | None:
    """The executor config's ``step_timeout`` in seconds, or ``None``."""
    return parse_timeout(config.get(STEP_TIMEOUT_CONFIG), "execution config step_timeout")


def check_step_limits(steps: Iterable[Step]) -> None:
    """Refuse, before anything runs, a bad ``nbflow/timeout`` tag on any step (all listed)."""
    problems = []
    for step in steps:
        try:
            tag_limit(step)
        except InvalidTimeoutError as exc:
            problems.append(str(exc).splitlines()[0])
    if problems:
        fix = 'Fix: give each a number of seconds above 0, such as "30", or drop the tag.'
        raise InvalidTimeoutError.build(f"Tag {TIMEOUT_TAG!r}", [*problems, fix])


class StepLimit:
    """A step's limit in seconds and where it was set."""

    __slots__ = ("seconds", "source")

    def __init__(self, seconds: float, source: str) -> None:
        self.seconds = seconds
        self.source = source


def step_limit(step: Step, default: float | None) -> StepLimit | None:
    """The step's limit: its op's tag, else the executor's ``step_timeout`` (``default``)."""
    tagged = tag_limit(step)
    if tagged is not None:
        return StepLimit(tagged, f"tag {TIMEOUT_TAG!r} of op {step.op_def.name!r}")
    if default is not None:
        return StepLimit(default, "execution config step_timeout")
    return None


class Deadline:
    """A point in time ``seconds`` from now (monotonic clock)."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at
