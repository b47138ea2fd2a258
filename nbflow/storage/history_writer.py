"""The thread that writes a run's events into its run history while the run goes on.

Storing a step's events (one SQLite transaction, with the version manifests recorded since)
took a fifth of the run's own time in a run of many small steps. Inside a run, the run
history hands each batch to this process's history writer thread and returns
(:meth:`nbflow.storage.sqlite._Database.write_soon`). At most one batch is on its way per
history file: the next write, read or batch of that file waits for it first, so every
reader in this process sees what was written before, and writes reach the file in the order
they were made. What a hard crash (``SIGKILL``, a segfault) can lose is the batch on its way,
as a crash during a transaction would: the events of the last step, and the manifests that
joined them (the next run then computes those values again).
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_WAIT_SECONDS = 10.0
"""How long the interpreter waits at exit for a batch still on its way."""


@dataclass(eq=False)
class PendingWrite:
    """One batch on its way: ``write`` does it; ``failed`` is told of an error it raised."""

    write: Callable[[], object]
    failed: Callable[[Exception], None]
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            self.write()
        except Exception as exc:
            self.failed(exc)
        finally:
            self.done.set()


class _Writer:
    """This process's writer thread, started on first use (again in a forked child)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[PendingWrite] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self.last: PendingWrite | None = None

    def submit(self, pending: PendingWrite) -> None:
        with self._lock:
            if self._pid != os.getpid():  # none yet, or the parent's, which a fork left behind
                self._queue = queue.SimpleQueue()
                thread = threading.Thread(
                    target=_work, args=(self._queue,), name="nbflow-history-writer", daemon=True
                )
                thread.start()
                self._pid = os.getpid()
            self.last = pending
            self._queue.put(pending)

    def wait(self) -> None:
        last = self.last
        if last is not None and self._pid == os.getpid():
            last.done.wait(EXIT_WAIT_SECONDS)


def _work(pending_writes: queue.SimpleQueue[PendingWrite]) -> None:
    while True:
        pending_writes.get().run()


_WRITER = _Writer()
atexit.register(_WRITER.wait)


def write_behind(write: Callable[[], object], failed: Callable[[Exception], None]) -> PendingWrite:
    """Hand ``write`` to the writer thread; the returned batch says when it is done."""
    pending = PendingWrite(write, failed)
    _WRITER.submit(pending)
    return pending
