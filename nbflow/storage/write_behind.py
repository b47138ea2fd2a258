"""Writing stored values behind the run: their files are written (small ones), flushed to disk
and published by another process while the run goes on.

A first run of many small steps spent most of its time waiting for one ``fsync`` per step.
Inside :func:`writing_behind` (the in-process executor opens it around a run's steps), a
filesystem IO manager pickles a value on the calling thread, into memory (so a value pickle
cannot store still fails its own step, as before), and hands the bytes to this process's
value writer (:mod:`nbflow.storage.value_writer`), whose process writes them to a temporary
file, flushes it to disk and renames it into place
(:func:`nbflow.storage.local_files.atomic_write_bytes`, as a direct write does). A value
larger than :data:`SPOOL_LIMIT` is written by the calling thread into its temporary file (no
second copy of a large value in memory), which the value writer then flushes to disk and
publishes in the same way (:meth:`WriteBehind.publish`).

The rules that keep it safe:

- a value's version manifest is recorded only after its file is durable and published:
  the IO manager hands it over with :meth:`WriteBehind.then`, and it is recorded on the run's
  thread when :meth:`WriteBehind.collect` finds the write done (the run collects before it
  stores each batch of events, so it joins the same transaction as before, one step later);
- reading a file that is being written, in any thread of the process, waits for that write
  (:func:`wait_for_write`);
- a write that fails drops its manifest (the value is never found stored, so the next run
  computes it again) and is kept in :attr:`WriteBehind.failures`; the executor fails the
  run with :class:`~nbflow.errors.ValueWriteError` naming the step output, at the latest
  when the run ends;
- leaving :func:`writing_behind` waits for every write and collects every manifest;
- events are unchanged: ``HANDLED_OUTPUT`` still follows the IO manager's ``handle_output``
  (the value is then pickled and on its way; it is on disk before its manifest is recorded
  and before the run ends).

At most :data:`~nbflow.storage.value_writer.PENDING_LIMIT` writes are pending at a time (a
faster run waits for the disk).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import logging
import os
import threading
from typing import IO, TYPE_CHECKING

from nbflow.errors import ValueWriteError
from nbflow.storage.local_files import write_atomically
from nbflow.storage.value_writer import PendingWrite, writer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

_log = logging.getLogger("nbflow")

SPOOL_LIMIT = 256 * 1024
"""Values whose stored bytes exceed this are written directly by the calling thread."""


class WriteBehind:
    """The writes of one run, in the order they were handed over."""

    def __init__(self) -> None:
        self._writer = writer()
        self._lock = threading.Lock()
        self._writes: collections.deque[PendingWrite] = collections.deque()  # not collected
        self._latest: dict[str, PendingWrite] = {}  # path -> its latest write not collected
        self.pid = os.getpid()
        self.failures: list[PendingWrite] = []
        """Writes that failed, in the order they were handed over (see :meth:`error`)."""

    def submit(self, path: Path, data: bytes | bytearray, temporaries: Path, what: str) -> None:
        """Write ``data`` to ``path`` behind the run (``what``: the step output, for errors).

        The caller first waits for an earlier write of ``path`` (:meth:`wait_for`), as the
        filesystem IO managers do before they pickle a value: two writes of one path at once
        could land in either order."""
        self._hand(PendingWrite(path, os.fspath(path), data, temporaries, what))

    def publish(self, path: Path, written: Path, what: str) -> None:
        """Flush the temporary file ``written`` to disk and rename it to ``path`` behind the
        run (a large value, written by its step: see :class:`Spool`)."""
        self._hand(PendingWrite(path, os.fspath(path), b"", written.parent, what, written))

    def _hand(self, write: PendingWrite) -> None:
        with self._lock:
            self._writes.append(write)
            self._latest[write.key] = write
        self._writer.submit(write)

    def then(self, path: str | os.PathLike[str], action: Callable[[], None]) -> bool:
        """Do ``action`` (on the thread that collects) once the write of ``path`` is durable
        and published; dropped if it fails (even if it failed already). False when no write
        of ``path`` is pending and none failed (then nothing is kept: do it now)."""
        with self._lock:
            write = self._latest.get(os.fspath(path))
            if write is None:
                return False
            write.then.append(action)
            return True

    def wait_for(self, path: str | os.PathLike[str]) -> None:
        """Wait until the latest write of ``path``, if one is pending, has finished."""
        with self._lock:
            write = self._latest.get(os.fspath(path))
        if write is not None:
            self._writer.wait(write)

    def collect(self, wait: bool = False) -> None:
        """Do the actions of the writes that finished, in the order they were handed over
        (all of them with ``wait``), and keep the failures."""
        if not self._writes:
            return
        self._writer.poll()
        while True:
            with self._lock:
                if not self._writes:
                    return
                write = self._writes[0]
            if not write.done:
                if not wait:
                    return
                self._writer.wait(write)
            with self._lock:
                self._writes.popleft()
                if self._latest.get(write.key) is write and write.error is None:
                    del self._latest[write.key]  # a failed one stays: see then()
            if write.error is None:
                try:
                    for action in write.then:
                        action()
                except Exception as exc:  # e.g. a manifest file that cannot be written
                    write.error = exc
            if write.error is not None:
                self.failures.append(write)

    def error(self) -> ValueWriteError | None:
        """The error naming the writes that failed, if any did."""
        if not self.failures:
            return None
        first = self.failures[0]
        assert first.error is not None
        return ValueWriteError.build([w.what for w in self.failures], first.key, first.error)

    def close(self) -> None:
        """Wait for every write and collect them."""
        self.collect(wait=True)


_CURRENT: contextvars.ContextVar[WriteBehind | None] = contextvars.ContextVar(
    "nbflow_write_behind", default=None
)


_ACTIVE: list[WriteBehind] = []
"""Every :func:`writing_behind` scope open in this process, in any thread."""
_ACTIVE_LOCK = threading.Lock()


def current() -> WriteBehind | None:
    """The writes of the run going on in this thread, if it writes behind (never in a child
    process forked meanwhile: its writes are not there)."""
    writes = _CURRENT.get()
    return writes if writes is not None and writes.pid == os.getpid() else None


def wait_for_write(path: str | os.PathLike[str]) -> None:
    """Wait until no run of this process is writing ``path`` behind: a reader in any thread
    (an op's own threads, a nested run) finds the file published, not missing."""
    if not _ACTIVE:
        return
    pid = os.getpid()
    with _ACTIVE_LOCK:
        active = [writes for writes in _ACTIVE if writes.pid == pid]
    for writes in active:
        writes.wait_for(path)


@contextlib.contextmanager
def writing_behind() -> Iterator[WriteBehind]:
    """Inside, filesystem IO managers write small values behind (see the module doc); at
    the end every write has finished and its manifest is recorded."""
    writes = WriteBehind()
    token = _CURRENT.set(writes)
    with _ACTIVE_LOCK:
        _ACTIVE.append(writes)
    try:
        yield writes
    except BaseException:
        _end(writes, token)
        if writes.failures:  # the run ends with another error: this one is logged
            _log.error("%s", writes.error())
        raise
    _end(writes, token)


def _end(writes: WriteBehind, token: contextvars.Token[WriteBehind | None]) -> None:
    _CURRENT.reset(token)
    try:
        writes.close()
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.remove(writes)


class Spool:
    """A sink that keeps what is written in memory up to :data:`SPOOL_LIMIT` bytes, then
    writes it to a temporary file for ``path`` (opened with ``write_atomically``) and goes
    on there; with ``hand_over``, that file is handed to it once written, not published
    here."""

    def __init__(
        self,
        path: Path,
        temporaries: Path,
        limit: int = SPOOL_LIMIT,
        hand_over: Callable[[Path], None] | None = None,
    ) -> None:
        self._path = path
        self._temporaries = temporaries
        self._limit = limit
        self._hand_over = hand_over
        self.buffer = bytearray()
        self._stack: contextlib.ExitStack | None = None
        self._file: IO[bytes] | None = None

    @property
    def spilled(self) -> bool:
        """Whether the bytes went to the file (then :meth:`finish` publishes it)."""
        return self._stack is not None

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        if self._stack is None:
            if len(self.buffer) + view.nbytes <= self._limit:
                self.buffer += view
                return view.nbytes
            self._file = self._spill()
        assert self._file is not None
        return self._file.write(view)

    def _spill(self) -> IO[bytes]:
        stack = contextlib.ExitStack()
        handle = stack.enter_context(
            write_atomically(self._path, temporaries=self._temporaries, hand_over=self._hand_over)
        )
        self._stack = stack
        handle.write(self.buffer)
        self.buffer = bytearray()
        return handle

    def finish(self) -> None:
        """Publish the file the bytes spilled to (flushed to disk first), or hand it over."""
        if self._stack is not None:
            self._stack.close()

    def abandon(self, exc: BaseException) -> None:
        """Remove the file the bytes spilled to, after ``exc``."""
        if self._stack is not None:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
