"""How long a memoized step's stored value took to compute: the time reusing it saved.

A memoized step did not run; the value it reused was computed by an earlier run, under the
same output version. That run's duration of the step is found in two places:

* the runs this process has shown (every result that goes through
  :func:`~nbflow.notebook._result_rows.result_rows` is remembered, by step output and
  version; values memoized in a notebook live in the same process);
* the run history of an instance, when one is given (``Instance.get()``, ``Instance.local``):
  the newest runs of the job are read until one succeeded the step with that version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from nbflow.execution.engine.step_states import StepState, StepStates

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.execution.engine.step_states import StepRecord
    from nbflow.storage.instance import Instance

KEPT = 4096
"""Step outputs whose durations are remembered (the oldest are forgotten first)."""

RUNS_READ = 50
"""Runs of a job read at most from an instance's history."""

_Key = tuple[str, str, str]  # step key, output name, version
_seen: OrderedDict[_Key, float] = OrderedDict()
_lock = threading.Lock()


def remember(records: Iterable[StepRecord]) -> None:
    """Keep the durations of the steps of ``records`` that ran and stored versioned outputs."""
    with _lock:
        for record in records:
            if record.state is not StepState.SUCCEEDED or record.duration_ms is None:
                continue
            for output, version in record.output_versions.items():
                key = (record.step_key, output, version)
                _seen[key] = record.duration_ms
                _seen.move_to_end(key)
        while len(_seen) > KEPT:
            _seen.popitem(last=False)


def _from_process(record: StepRecord) -> float | None:
    with _lock:
        for output, version in record.stored_versions.items():
            found = _seen.get((record.step_key, output, version))
            if found is not None:
                return found
    return None


def _from_instance(
    instance: Instance, job_name: str, wanted: Mapping[str, StepRecord], skip_run: str
) -> dict[str, float]:
    from nbflow.storage.runs_filter import RunsFilter

    found: dict[str, float] = {}
    for run in instance.get_runs(limit=RUNS_READ, filters=RunsFilter(job_name=job_name)):
        if run.run_id == skip_run:
            continue
        states = StepStates()
        states.update(instance.get_events(run.run_id))
        for key, record in wanted.items():
            if key in found:
                continue
            past = states[key]
            if past.state is not StepState.SUCCEEDED or past.duration_ms is None:
                continue
            if any(past.output_versions.get(o) == v for o, v in record.stored_versions.items()):
                found[key] = past.duration_ms
        if len(found) == len(wanted):
            break
    return found


def time_saved(
    records: Iterable[StepRecord],
    job_name: str,
    run_id: str = "",
    instance: Instance | None = None,
) -> dict[str, float]:
    """Step key → milliseconds the run that stored its value took, for memoized ``records``.

    Steps whose producing run is unknown (another process, forgotten) are left out.
    """
    memoized = {r.step_key: r for r in records if r.state is StepState.MEMOIZED}
    found: dict[str, float] = {}
    for key, record in memoized.items():
        ms = _from_process(record)
        if ms is not None:
            found[key] = ms
    missing = {k: r for k, r in memoized.items() if k not in found}
    if missing and instance is not None:
        found.update(_from_instance(instance, job_name, missing, run_id))
    return found


__all__ = ["KEPT", "RUNS_READ", "remember", "time_saved"]
