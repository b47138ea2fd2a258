"""Events held and stored in groups, each stored at most :data:`HOLD_SECONDS` after it was
emitted.

A run that stored each step's events in a transaction of their own spent about a third of a
chain of small steps on those transactions. While a run holds its events
(``RunContext.holding_events``), they gather in an :class:`EventBatch` and are stored together,
in one transaction, when the oldest of them is :data:`HOLD_SECONDS` old: by the run's thread
before it calls user code, or, while user code runs (an op that takes a minute, say), by this
module's flusher thread. The run's end stores what is left.

What this keeps:

- order: batches are stored one at a time, in the order their events were emitted;
- a history that another process reads (a notebook watching a run, ``nbflow run show``) is
  at most :data:`HOLD_SECONDS` (plus the flusher's wake-up) behind the run;
- a reader in this process never is: ``Instance.get_events`` stores the held events of the
  run it reads first.

What it gives up: a process that dies abruptly (a segfault in an op run in process, a kill)
loses the events of its last :data:`HOLD_SECONDS` at most, as it loses anything in memory.
Stored values never depend on events: their manifests are recorded only once they are on
disk, so a lost event never makes a value look stored.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.events import Event

_log = logging.getLogger("nbflow")

HOLD_SECONDS = 0.05
"""The longest an event waits in a batch before it is stored."""


class EventBatch:
    """The events a run holds, and how they get stored (``store``, one list at a time)."""

    def __init__(self, store: Callable[[list[Event]], None]) -> None:
        self._store = store
        self._events: list[Event] = []
        self._since = 0.0  # when the oldest held event was added (time.monotonic)
        self._lock = threading.Lock()  # guards _events, _since, _watched
        self._storing = threading.Lock()  # one store at a time: batches land in order
        self._watched = False  # the flusher has this batch in view

    def add(self, event: Event) -> None:
        """Hold ``event``; the flusher stores it if nobody else does in time."""
        with self._lock:
            if not self._events:
                self._since = time.monotonic()
            self._events.append(event)
            if self._watched:
                return
            self._watched = True
        _FLUSHER.watch(self)

    @property
    def due_at(self) -> float:
        """When the oldest held event must be stored (``time.monotonic``); meaningless when
        nothing is held."""
        return self._since + HOLD_SECONDS

    def due(self) -> bool:
        """Whether events are held and the oldest of them must be stored now."""
        return bool(self._events) and time.monotonic() >= self.due_at

    def flush(self) -> None:
        """Store every held event now (in one call of ``store``)."""
        with self._storing:
            with self._lock:
                events, self._events = self._events, []
            if events:
                self._store(events)

    def _forget_if_empty(self) -> bool:
        """Stop being watched if nothing is held (then the next event asks again)."""
        with self._lock:
            if self._events:
                return False
            self._watched = False
            return True


class _Flusher:
    """One thread per process that stores the batches nobody stored in time."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._batches: set[EventBatch] = set()
        self._thread: threading.Thread | None = None
        self._sleeps_until = math.inf  # when the thread wakes up next (time.monotonic)

    def watch(self, batch: EventBatch) -> None:
        with self._wake:
            self._batches.add(batch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="nbflow-event-flusher", daemon=True
                )
                self._thread.start()
            elif batch.due_at < self._sleeps_until:
                self._wake.notify()  # it waits for no batch, or for a later one

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._batches:
                    self._sleeps_until = math.inf
                    self._wake.wait()
                batches = list(self._batches)
                self._sleeps_until = min(batch.due_at for batch in batches)
                pause = self._sleeps_until - time.monotonic()
                if pause > 0:
                    self._wake.wait(pause)
                    continue  # look again: a batch may have been stored meanwhile
            for batch in batches:
                if batch.due():
                    try:
                        batch.flush()
                    except Exception:  # storing logs its own failures; this is a bug
                        _log.exception("nbflow could not store held events")
                with self._wake:
                    if batch._forget_if_empty():
                        self._batches.discard(batch)


_FLUSHER = _Flusher()
