"""Run storage: the interface that keeps run records and their events, and its in-memory form.

The SQLite storage (:mod:`nbflow.storage.sqlite`) and :class:`~nbflow.storage.instance.Instance`
both build on this module, so neither has to import the other for a base class.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.events import Event, EventType
    from nbflow.storage.run import Run
    from nbflow.storage.runs_filter import RunsFilter


class RunStorage(ABC):
    """Keeps run records and their events."""

    keeps_heartbeat = False
    """Whether runs here outlive their process, so their owner's heartbeat is worth keeping
    (see :mod:`nbflow.storage.heartbeat`)."""

    @abstractmethod
    def add_run(self, run: Run) -> None: ...

    def add_new_run(self, run: Run) -> bool:
        """Record ``run`` unless a run with its id is recorded already.

        Returns:
            Whether it was recorded (``False``: the id is taken; nothing was changed).
        """
        if self.get_run(run.run_id) is not None:
            return False
        self.add_run(run)
        return True

    def heartbeat(self, run_ids: Iterable[str], at: float) -> None:  # noqa: B027
        """Stamp ``at`` as the heartbeat of the ``STARTED`` runs ``run_ids`` (no-op here)."""

    def end_abandoned_runs(self) -> list[Run]:
        """End the ``STARTED`` runs whose owner process is gone (see
        :mod:`nbflow.storage.run_owner`) as ``FAILURE``, each with a ``RUN_FAILURE`` event
        that says so; the runs ended. Storages whose runs die with their process have none."""
        return []

    @abstractmethod
    def update_run(self, run: Run) -> None: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def get_runs(self, limit: int | None = None, filters: RunsFilter | None = None) -> list[Run]:
        """Runs, newest first: at most ``limit`` of them, those that pass ``filters``."""

    @abstractmethod
    def delete_run(self, run_id: str) -> bool:
        """Forget run ``run_id`` and its events; whether there was such a run."""

    @abstractmethod
    def store_event(self, event: Event) -> None: ...

    def store_events(self, events: Iterable[Event]) -> None:
        """Store several events, in order (persistent storages write them in one go)."""
        for event in events:
            self.store_event(event)

    def joining_writes(self) -> contextlib.AbstractContextManager[None]:
        """Inside, other records this storage keeps with the events (version manifests of
        its instance) may wait to be written with the next events."""
        return contextlib.nullcontext()

    @abstractmethod
    def get_events(self, run_id: str) -> list[Event]: ...

    def get_events_of_types(self, run_id: str, event_types: Iterable[EventType]) -> list[Event]:
        """The events of ``run_id`` whose type is one of ``event_types``, in order."""
        wanted = frozenset(event_types)
        return [event for event in self.get_events(run_id) if event.event_type in wanted]

    def get_runs_with_id_prefix(self, prefix: str, limit: int | None = None) -> list[Run]:
        """Runs whose id starts with ``prefix``, newest first."""
        found = [run for run in self.get_runs() if run.run_id.startswith(prefix)]
        return found if limit is None else found[:limit]


class InMemoryRunStorage(RunStorage):
    """Runs and events in dictionaries; gone with the process."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._events: dict[str, list[Event]] = {}
        self._created: dict[str, float] = {}

    def add_run(self, run: Run) -> None:
        self._runs[run.run_id] = run
        self._events.setdefault(run.run_id, [])
        self._created.setdefault(run.run_id, time.time())

    def update_run(self, run: Run) -> None:
        self._runs[run.run_id] = run

    def get_run(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def get_runs(self, limit: int | None = None, filters: RunsFilter | None = None) -> list[Run]:
        runs = list(reversed(self._runs.values()))
        if filters is not None:
            runs = [r for r in runs if filters.matches(r, self._created.get(r.run_id, 0.0))]
        return runs if limit is None else runs[:limit]

    def delete_run(self, run_id: str) -> bool:
        self._events.pop(run_id, None)
        self._created.pop(run_id, None)
        return self._runs.pop(run_id, None) is not None

    def store_event(self, event: Event) -> None:
        self._events.setdefault(event.run_id, []).append(event)

    def get_events(self, run_id: str) -> list[Event]:
        return list(self._events.get(run_id, ()))
