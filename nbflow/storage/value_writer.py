"""The process that writes small values behind this process's runs.

A thread of the run's own process would have to take the interpreter lock back after each
of its system calls (open, write, ``fsync``, close, rename), and while the run's thread is
busy each of those waits: 200 small writes beside a busy thread took seconds, not the 60 ms
of their ``fsync`` s. So the writes are handed, as bytes through a pipe, to one helper
process (:mod:`nbflow.storage.value_writer_process`), started on the first write and kept
for every later run of this process. Its replies are read by whichever thread of this
process next asks about a write: the run's thread as it collects finished writes, a reader
waiting for a file, or a write waiting for a free place.

If that process cannot start, every write is done on the calling thread. If it ends while
writes are pending (killed), the thread that notices writes them itself (the data is kept
until a write is confirmed), and the next write starts a new process. A process forked from
this one never uses it.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import select
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.storage.local_files import atomic_write_bytes, publish_temporary
from nbflow.storage.value_writer_process import HELLO, PUBLISH, REPLY, REQUEST, WRITE

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

_log = logging.getLogger("nbflow")

PENDING_LIMIT = 256
"""Writes pending at most at a time in this process; one more waits for the oldest."""

PENDING_BYTES = 16 * 1024 * 1024
"""Bytes of pending writes at most (each is at most ``SPOOL_LIMIT``); more wait too."""

POLL_SECONDS = 0.001
""":meth:`ValueWriter.poll` sends requests and reads replies at most this often (a step may
take far less)."""

START_SECONDS = 10.0
"""A writer process that has not said it started this long after a write waits for it is
taken for no writer at all (``sys.executable`` is another program)."""

SEND_EVERY = 8
"""Requests are sent this many at a time, or sooner when polled or waited for."""

_PROGRAM = str(Path(__file__).with_name("value_writer_process.py"))


@dataclass(eq=False)
class PendingWrite:
    """One value's bytes on their way to ``path`` (``what``: the step output, for errors);
    or, with ``written``, a temporary file already written, to flush to disk and rename to
    ``path``."""

    path: Path
    key: str  # the path as text: what readers ask about
    data: bytes | bytearray
    temporaries: Path
    what: str
    written: Path | None = None
    done: bool = False
    error: BaseException | None = None
    then: list[Callable[[], None]] = field(default_factory=list)
    size: int = 0  # of the data, while it is pending
    ident: int = -1  # what the writer process's reply names it by


class ValueWriter:
    """This process's writer process, and the writes handed to it that have not ended."""

    def __init__(
        self, pending_limit: int = PENDING_LIMIT, pending_bytes: int = PENDING_BYTES
    ) -> None:
        self._lock = threading.Lock()
        self._limit = pending_limit
        self._bytes_limit = pending_bytes
        self._bytes = 0  # of the pending writes
        self._next_poll = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False  # whether the current process said hello
        self.unavailable = False  # it could not start: every write is done by its caller
        self._pending: dict[int, PendingWrite] = {}
        self._ids = itertools.count()
        self._replies = bytearray()
        self._outbox: list[bytes | bytearray] = []  # requests not sent yet, in parts
        self._unsent = 0  # requests in the outbox

    @property
    def pid(self) -> int | None:
        """The writer process's id, once started."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the writer process now, if it is not running (the first write does too)."""
        with self._lock:
            self._running()

    def submit(self, write: PendingWrite) -> None:
        """Hand ``write`` to the writer process (or do it now, if there is none)."""
        with self._lock:
            while self._pending and (
                len(self._pending) >= self._limit or self._bytes >= self._bytes_limit
            ):
                self._receive(block=True)
            process = self._running()
            if process is None:
                _write_now(write)
                return
            ident = next(self._ids)
            write.size, write.ident = len(write.data), ident
            self._pending[ident] = write
            self._bytes += write.size
            kind, folder = WRITE, _absolute(os.fspath(write.temporaries))
            if write.written is not None:
                kind, folder = PUBLISH, _absolute(os.fspath(write.written))
            path = _absolute(write.key)
            header = REQUEST.pack(ident, kind, len(path), len(folder), len(write.data))
            self._outbox += (header, path, folder, write.data)
            self._unsent += 1
            if self._unsent >= SEND_EVERY:
                self._send()

    def _send(self) -> None:
        """Send the requests not sent yet (each wakes the writer process: a few at once cost
        one wake-up)."""
        process = self._process
        if not self._outbox or process is None or process.stdin is None:
            return
        data = memoryview(b"".join(self._outbox))
        sent = 0
        try:
            while sent < len(data):
                sent += os.write(process.stdin.fileno(), data[sent:])
        except OSError:  # it ended: reading its replies finds the end, and what it left
            pass
        except BaseException:  # interrupted (Ctrl-C): unsent requests are sent next time,
            if sent:  # but one sent in part would garble the rest: that process must go
                process.kill()
                self._outbox.clear()
                self._unsent = 0
            raise
        self._outbox.clear()
        self._unsent = 0

    def poll(self) -> None:
        """Send the requests not sent yet and take in the replies that arrived, without
        waiting (if this was not done just now)."""
        if self._pending and (now := time.perf_counter()) >= self._next_poll:
            self._next_poll = now + POLL_SECONDS
            with self._lock:
                self._send()
                self._receive(block=False)

    def wait(self, write: PendingWrite) -> None:
        """Wait until ``write`` has ended (written, or failed)."""
        while not write.done:
            with self._lock:
                if write.done:
                    return
                if self._pending.get(write.ident) is not write:  # its writer ended, and an
                    _write_now(write)  # interruption kept what it left from being written
                else:
                    self._receive(block=True)

    def _running(self) -> subprocess.Popen[bytes] | None:
        if self._process is None and not self.unavailable:
            import subprocess

            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-I", "-S", _PROGRAM],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            except OSError as exc:
                self._give_up(f"it could not start ({exc})")
                return None
            self._started = False
            assert self._process.stdout is not None
            os.set_blocking(self._process.stdout.fileno(), False)
        return self._process

    def _receive(self, block: bool) -> None:
        """Read the replies that arrived (waiting for one with ``block``) and end their writes."""
        process = self._process
        if process is None:
            return
        assert process.stdout is not None
        fd = process.stdout.fileno()
        if block:
            self._send()
            ready, _, _ = select.select([fd], [], [], None if self._started else START_SECONDS)
            if not ready:  # not a writer process (``sys.executable`` is another program)
                process.kill()
                self._ended(process, f"it did not start within {START_SECONDS:g} s")
                return
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self._ended(process)
            return
        replies = self._replies
        replies += chunk
        start = 0
        try:  # each reply is taken in whole, even if an interruption repeats the last one
            while len(replies) - start >= REPLY.size:
                ident, code, size = REPLY.unpack_from(replies, start)
                end = start + REPLY.size + size
                if end > len(replies):
                    break
                if ident == HELLO:
                    self._started = True
                elif (write := self._pending.get(ident)) is not None:
                    _end(write, code, bytes(replies[start + REPLY.size : end]))
                    del self._pending[ident]
                    self._bytes -= write.size
                start = end
        finally:
            del replies[:start]

    def _ended(
        self, process: subprocess.Popen[bytes], unstarted: str = "it ended as it started"
    ) -> None:
        """The writer process ended: write what it had not, and start another next time (if
        it had started at all; ``unstarted`` says why not)."""
        code = process.wait()
        _close(process)
        self._process = None
        self._replies.clear()
        self._outbox.clear()
        self._unsent = 0
        pending = list(self._pending.values())
        self._pending.clear()
        self._bytes = 0
        if not self._started:
            self._give_up(f"{unstarted} (exit code {code})")
        elif pending:
            _log.warning(
                "The value writer process ended (exit code %s) with %d writes pending; "
                "they are written by this process.",
                code,
                len(pending),
            )
        for write in pending:
            _write_now(write)

    def _give_up(self, why: str) -> None:
        self.unavailable = True
        _log.warning(
            "nbflow's value writer process is not available here: %s. Small values are "
            "written by the run's thread instead (slower, as safe).",
            why,
        )

    def close(self) -> None:
        """Let the writer process finish its writes and end; wait for it."""
        with self._lock:
            while self._pending:
                self._receive(block=True)
            process, self._process = self._process, None
        if process is not None:
            _close(process)
            with contextlib.suppress(Exception):
                process.wait(10)

    def forget(self) -> None:
        """In a process just forked from the owner: drop this process's copies of the pipes
        (so the writer ends when its owner does), without touching the writer."""
        process, self._process = self._process, None
        self._pending.clear()
        self._outbox.clear()
        self._unsent = 0
        self._bytes = 0
        if process is not None:
            _close(process)
            _INHERITED.append(process)  # never collected here: it is not this process's child


def _absolute(path: str) -> bytes:
    """``path`` made absolute (the writer process keeps the working folder it started in),
    as bytes."""
    return os.fsencode(path if os.path.isabs(path) else os.path.abspath(path))


def _close(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def _end(write: PendingWrite, code: int, message: bytes) -> None:
    if code:
        text, _, filename = os.fsdecode(message).partition("\0")
        if code < 0:
            write.error = OSError(text)
        else:
            write.error = OSError(code, text, filename) if filename else OSError(code, text)
    write.data = b""
    write.done = True


def _write_now(write: PendingWrite) -> None:
    try:
        if write.written is not None:
            publish_temporary(write.written, write.path)
        else:
            atomic_write_bytes(write.path, write.data, temporaries=write.temporaries)
    except Exception as exc:  # kept for the run's thread, which reports it
        write.error = exc
    write.data = b""
    write.done = True


_INHERITED: list[Any] = []
_WRITER: ValueWriter | None = None
_WRITER_LOCK = threading.Lock()


def writer() -> ValueWriter:
    """This process's value writer (its process starts with the first write)."""
    global _WRITER
    if _WRITER is None:
        with _WRITER_LOCK:
            if _WRITER is None:
                _WRITER = ValueWriter()
                atexit.register(_WRITER.close)
    return _WRITER


def _forget_in_child() -> None:
    global _WRITER
    if _WRITER is not None:
        _WRITER.forget()
        _WRITER = None


os.register_at_fork(after_in_child=_forget_in_child)
