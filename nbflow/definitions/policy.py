"""Retry policies: how many times a failing op is tried again, and how long to wait."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from nbflow.errors import DefinitionError


class Backoff(Enum):
    """How the delay grows between attempts."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(Enum):
    """Random variation added to the delay."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry an op up to ``max_retries`` times when it raises.

    Args:
        max_retries: retries after the first attempt.
        delay: seconds to wait before a retry (the base of any backoff).
        backoff: how the delay grows with the attempt number.
        jitter: random variation of the delay.
    """

    max_retries: int = 1
    delay: float | None = None
    backoff: Backoff | None = None
    jitter: Jitter | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise DefinitionError(
                f"RetryPolicy(max_retries={self.max_retries!r}) is invalid: expected a whole "
                "number >= 0. Fix: RetryPolicy(max_retries=3)."
            )
        if self.delay is not None and self.delay < 0:
            raise DefinitionError(
                f"RetryPolicy(delay={self.delay!r}) is invalid: expected seconds >= 0."
            )
        if self.backoff is not None and self.delay is None:
            raise DefinitionError(
                "RetryPolicy has a backoff but no delay to grow. Fix: pass delay=, e.g. "
                "RetryPolicy(max_retries=3, delay=0.5, backoff=Backoff.EXPONENTIAL)."
            )

    def calculate_delay(self, attempt_num: int) -> float:
        """Seconds to wait before retry number ``attempt_num`` (1 for the first retry).

        ``delay`` alone waits ``delay``; ``Backoff.LINEAR`` waits ``delay * n``;
        ``Backoff.EXPONENTIAL`` waits ``delay * (2**n - 1)``. Then ``Jitter.FULL`` picks
        between 0 and that; ``Jitter.PLUS_MINUS`` adds up to ``delay`` either way (never
        below 0). No ``delay``: 0.
        """
        if not self.delay:
            return 0.0
        if self.backoff is Backoff.EXPONENTIAL:
            wait = self.delay * (2**attempt_num - 1)
        elif self.backoff is Backoff.LINEAR:
            wait = self.delay * attempt_num
        else:
            wait = self.delay
        if self.jitter is Jitter.FULL:
            wait = random.uniform(0, wait)
        elif self.jitter is Jitter.PLUS_MINUS:
            wait = max(0.0, wait + random.uniform(-self.delay, self.delay))
        return float(wait)
