"""How long each step of a job took in its earlier runs, read from an instance's run history.

A step's time is the duration carried by its ``STEP_SUCCESS`` event (the compute and the
handling of its outputs). Runs are read newest first, and only their ``STEP_SUCCESS`` events,
until every step asked about has :data:`SAMPLES` times, or :data:`MAX_RUNS` runs of the job or
an event budget proportional to the job's size have been read: a step memoized for many runs
is still found in the older run that computed it, and a step that never succeeded costs at
most a few full runs' worth of events.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbflow.events import EventType, StepDurationData

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

SAMPLES = 3
"""Most recent successful executions of a step that its expected time is the median of."""

MAX_RUNS = 200
"""Runs of the job read at most, newest first."""

_FIRST_PAGE = 64
_EVENTS_PER_STEP = 4 * SAMPLES
_MIN_EVENT_BUDGET = 2_000


@dataclass(frozen=True, slots=True)
class StepTimings:
    """Recent durations of a job's steps, in seconds, newest first.

    Attributes:
        job_name: the job whose runs were read.
        durations: step key → durations of its latest successful executions (at most
            :data:`SAMPLES`); steps without any are left out.
        runs_read: how many runs of the job were read.
    """

    job_name: str
    durations: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    runs_read: int = 0

    def expected_seconds(self, step_key: str) -> float | None:
        """The median of the step's recent durations, or ``None`` without history."""
        found = self.durations.get(step_key)
        return statistics.median(found) if found else None


def step_timings(
    instance: Instance,
    job_name: str,
    step_keys: Iterable[str],
    samples: int = SAMPLES,
    max_runs: int = MAX_RUNS,
) -> StepTimings:
    """Durations of ``step_keys`` in the latest runs of job ``job_name`` on ``instance``.

    Args:
        instance: whose run history to read (an ephemeral one knows only its own runs).
        job_name: runs of other jobs are ignored, even when they share step keys.
        step_keys: the steps to time.
        samples: durations kept per step (the newest ones).
        max_runs: runs of the job read at most.

    Returns:
        The durations found; a step that never succeeded in those runs has none.
    """
    wanted = set(step_keys)
    found: dict[str, list[float]] = {}
    complete = 0
    budget = max(_MIN_EVENT_BUDGET, _EVENTS_PER_STEP * len(wanted))
    runs_read = 0
    for run in _runs_of(instance, job_name):
        if complete == len(wanted) or runs_read >= max_runs or budget <= 0:
            break
        runs_read += 1
        events = instance.run_storage.get_events_of_types(run.run_id, (EventType.STEP_SUCCESS,))
        budget -= len(events)
        for event in events:
            key = event.step_key
            if key not in wanted or not isinstance(event.data, StepDurationData):
                continue
            kept = found.setdefault(key, [])
            if len(kept) < samples:
                kept.append(event.data.duration_ms / 1000)
                complete += len(kept) == samples
    return StepTimings(job_name, {k: tuple(v) for k, v in found.items()}, runs_read)


def _runs_of(instance: Instance, job_name: str) -> Iterator[Run]:
    """The runs of ``job_name``, newest first, read in growing pages of all runs."""
    seen, limit = 0, _FIRST_PAGE
    while True:
        runs = instance.get_runs(limit=limit)
        yield from (run for run in runs[seen:] if run.job_name == job_name)
        if len(runs) < limit:
            return
        seen, limit = len(runs), limit * 4
