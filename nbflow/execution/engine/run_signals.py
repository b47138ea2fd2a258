"""SIGINT and SIGTERM while a run goes on: end the run first, then let the signal act.

While a run executes in the main thread, :func:`run_signals` installs handlers for both
signals (the previous ones come back when the run ends):

- SIGINT raises ``KeyboardInterrupt`` as Python's own handler does (a handler someone else
  installed, e.g. a notebook kernel's, is called instead and decides);
- SIGTERM raises :class:`RunTerminated`, a ``KeyboardInterrupt``, so the run ends the way
  Ctrl-C ends it: ``CANCELED``, steps in flight failed, the rest skipped.

While the run's end is being recorded (:meth:`RunSignals.deferred`) a signal only waits. Once
the run has ended, the signal's usual effect proceeds: an interrupt propagates (the uncaught
``KeyboardInterrupt`` exit), and SIGTERM is sent again with its previous handler back in
place, so a process whose SIGTERM was left at the default exits by that signal. Signals the
process ignores stay ignored; outside the main thread nothing is installed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_Handler = Any  # what signal.getsignal returns: a callable, SIG_DFL, SIG_IGN or None


class RunTerminated(KeyboardInterrupt):
    """Raised in the main thread when the process running a run gets SIGTERM."""


def interrupt_reason(interrupt: BaseException) -> str:
    """A few words on what stopped the run, e.g. ``"interrupted (Ctrl-C)"``."""
    if isinstance(interrupt, RunTerminated):
        return "terminated (SIGTERM)"
    return "interrupted (Ctrl-C)"


class RunSignals:
    """The signal handlers of one run (see the module docstring)."""

    def __init__(self) -> None:
        self._previous: dict[int, _Handler] = {}
        self._deferring = 0
        self.pending: list[int] = []
        """Signals that came while the run's end was being recorded, in order."""
        self.received: int | None = None
        """The signal that stopped the run, if one did."""

    def install(self) -> None:
        for signum in _SIGNALS:
            current = signal.getsignal(signum)
            if current in (signal.SIG_IGN, None) or _is_run_handler(current):
                continue  # ignored on purpose, unknown (set outside Python), or an outer run's
            self._previous[signum] = current
            signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._deferring:
            self.pending.append(signum)
            return
        self.received = signum
        self._act(signum, frame)

    def _act(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous.get(signum, signal.SIG_DFL)
        if signum == signal.SIGTERM:
            raise RunTerminated("terminated (SIGTERM)")
        if previous in (signal.default_int_handler, signal.SIG_DFL):
            raise KeyboardInterrupt
        previous(signum, frame)  # e.g. a kernel's own SIGINT handling

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """While inside, SIGINT and SIGTERM wait (in :attr:`pending`) instead of acting."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1

    def resend_after_run(self) -> None:
        """With the previous handlers back: let a SIGTERM that stopped the run, or a signal
        that waited, have its usual effect."""
        waiting = list(self.pending)
        self.pending.clear()
        if self.received == signal.SIGTERM and signal.SIGTERM not in waiting:
            waiting.insert(0, signal.SIGTERM)
        for signum in dict.fromkeys(waiting):
            if signum not in self._previous:
                continue
            previous = self._previous[signum]
            if previous is signal.SIG_DFL:
                os.kill(os.getpid(), signum)  # the default effect: the process ends by it
            elif signum == signal.SIGINT and previous is signal.default_int_handler:
                raise KeyboardInterrupt
            elif callable(previous):
                previous(signum, None)


def _is_run_handler(handler: _Handler) -> bool:
    return getattr(handler, "__func__", None) is RunSignals._handle


@contextlib.contextmanager
def run_signals() -> Iterator[RunSignals]:
    """Catch SIGINT and SIGTERM for the run executed inside (see the module docstring)."""
    signals = RunSignals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    signals.install()
    try:
        yield signals
    finally:
        signals.restore()
        signals.resend_after_run()
