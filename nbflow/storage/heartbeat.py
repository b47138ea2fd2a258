"""The heartbeat of running runs: one daemon thread per process refreshes their records.

While a run goes on, :func:`beating` registers it; every
:data:`~nbflow.storage.run_owner.HEARTBEAT_SECONDS` the thread asks each run storage to stamp
the current time on its runs (one small write per storage). A process that dies stops beating,
which is how another host tells its runs were abandoned (see :mod:`nbflow.storage.run_owner`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from nbflow.storage.run_owner import HEARTBEAT_SECONDS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.storage.run_storage import RunStorage

_log = logging.getLogger("nbflow")


class _Heart:
    """The runs this process is running, by storage, and the thread that stamps them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[int, tuple[RunStorage, dict[str, int]]] = {}
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, storage: RunStorage, run_id: str) -> None:
        with self.lock:
            _, ids = self.runs.setdefault(id(storage), (storage, {}))
            ids[run_id] = ids.get(run_id, 0) + 1
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._beat_forever, name="nbflow-heartbeat", daemon=True
                )
                self.thread.start()

    def remove(self, storage: RunStorage, run_id: str) -> None:
        with self.lock:
            entry = self.runs.get(id(storage))
            if entry is None:
                return
            ids = entry[1]
            ids[run_id] = ids.get(run_id, 1) - 1
            if ids[run_id] <= 0:
                del ids[run_id]
            if not ids:
                del self.runs[id(storage)]

    def _beat_forever(self) -> None:
        while True:
            self.wake.wait(HEARTBEAT_SECONDS)
            self.wake.clear()
            # Stamped under the lock: a run that ends (remove) waits for a beat in progress,
            # so no beat touches its storage once it has ended (by then its history file
            # may be gone; a late write would create a new one in its place).
            with self.lock:
                for storage, ids in self.runs.values():
                    try:
                        storage.heartbeat(list(ids), time.time())
                    except Exception as exc:  # a busy or vanished file: try again next beat
                        _log.debug("Heartbeat of runs %s failed: %s", list(ids), exc)


_HEART = _Heart()


def _forget_after_fork() -> None:
    global _HEART
    _HEART = _Heart()  # the child runs none of its parent's runs, and has no thread


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


@contextlib.contextmanager
def beating(storage: RunStorage, run_id: str) -> Iterator[None]:
    """While inside, this process keeps the heartbeat of run ``run_id`` in ``storage`` fresh
    (storages that keep no heartbeat, like the in-memory one, are left alone)."""
    if not storage.keeps_heartbeat:
        yield
        return
    _HEART.add(storage, run_id)
    try:
        yield
    finally:
        _HEART.remove(storage, run_id)
