"""What a step prints in another process: captured per attempt, bounded, and still echoed.

While a step process (or a Dask task) runs a step, what the step's thread writes to
``sys.stdout`` and ``sys.stderr`` is copied into a bounded buffer and still written through to
the process's own streams, so prints reach the terminal as before. Before the step's
``STEP_UP_FOR_RETRY``, ``STEP_SUCCESS`` or ``STEP_FAILURE`` event, what the attempt printed is
sent as one ``LOGS_CAPTURED`` event (:class:`~nbflow.events.CapturedOutputData`); an attempt
that printed nothing sends none.

Only Python-level writes are captured (``print``, ``sys.stdout.write``, a ``logging`` handler
created during the step); bytes written straight to the file descriptors (C extensions, child
processes) reach the terminal but are not stored. Steps run in-process are never captured:
nbflow does not touch a notebook's or a script's own ``sys.stdout``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from nbflow.events import CapturedOutputData, Event, EventType
from nbflow.execution.executors.step_request import run_step_request

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.execution.executors.step_request import StepChannel, StepRequest

STREAM_LIMIT = 64 * 1024
"""Characters kept per stream and attempt: the first and the last half of what was written."""

_ATTEMPT_ENDS = frozenset(
    {EventType.STEP_UP_FOR_RETRY, EventType.STEP_SUCCESS, EventType.STEP_FAILURE}
)


class BoundedText:
    """The head and tail of a long text, counting what was left out of the middle."""

    __slots__ = ("_half", "_head", "_head_len", "_tail", "_tail_len", "dropped")

    def __init__(self, limit: int = STREAM_LIMIT) -> None:
        self._half = limit // 2
        self._head: list[str] = []
        self._head_len = 0
        self._tail: list[str] = []
        self._tail_len = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        room = self._half - self._head_len
        if room > 0:
            self._head.append(text[:room])
            self._head_len += min(room, len(text))
            text = text[room:]
        if not text:
            return
        self._tail.append(text)
        self._tail_len += len(text)
        if self._tail_len > 2 * self._half:  # trim now and then, not on every write
            joined = "".join(self._tail)
            self.dropped += len(joined) - self._half
            self._tail = [joined[-self._half :]]
            self._tail_len = self._half

    def text(self) -> str:
        """What was kept; a note marks where characters were left out."""
        tail = "".join(self._tail)
        if len(tail) > self._half:
            self.dropped += len(tail) - self._half
            tail = tail[-self._half :]
            self._tail = [tail]
            self._tail_len = len(tail)
        head = "".join(self._head)
        if not self.dropped:
            return head + tail
        return f"{head}\n[... {self.dropped} characters left out ...]\n{tail}"

    def __bool__(self) -> bool:
        return bool(self._head_len)


class _Capture:
    """What one thread's step attempt printed so far."""

    __slots__ = ("stderr", "stdout")

    def __init__(self) -> None:
        self.stdout = BoundedText()
        self.stderr = BoundedText()

    def take(self) -> CapturedOutputData | None:
        """What was printed since the last call, or None when nothing was."""
        if not (self.stdout or self.stderr):
            return None
        out, err = self.stdout, self.stderr
        data = CapturedOutputData(out.text(), err.text(), out.dropped + err.dropped)
        self.stdout, self.stderr = BoundedText(), BoundedText()
        return data


_ACTIVE = threading.local()


class _TeeStream:
    """Stands for ``sys.stdout`` or ``sys.stderr``: writes go through to the real stream and,
    on a thread running a captured step, into that step's buffer too."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        capture: _Capture | None = getattr(_ACTIVE, "capture", None)
        if capture is not None and isinstance(text, str):
            getattr(capture, self._name).write(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _install(name: str) -> None:
    stream = getattr(sys, name)
    if stream is not None and not isinstance(stream, _TeeStream):
        setattr(sys, name, _TeeStream(stream, name))


@contextlib.contextmanager
def _capturing() -> Iterator[_Capture]:
    """Capture what this thread prints while inside (the streams stay teed afterwards)."""
    _install("stdout")
    _install("stderr")
    capture = _Capture()
    _ACTIVE.capture = capture
    try:
        yield capture
    finally:
        _ACTIVE.capture = None


class _CapturingChannel:
    """Passes a step's messages on, sending what it printed before each attempt's end."""

    def __init__(self, channel: StepChannel, request: StepRequest, capture: _Capture) -> None:
        self._channel = channel
        self._request = request
        self._capture = capture

    def send_captured(self) -> None:
        """Send what was printed since the last LOGS_CAPTURED event, if anything was."""
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        data = self._capture.take()
        if data is None:
            return
        key = self._request.step_key
        cut = f" ({data.dropped_chars} characters left out)" if data.dropped_chars else ""
        message = (
            f"Step {key!r} printed {len(data.stdout)} characters to stdout and "
            f"{len(data.stderr)} to stderr{cut}"
        )
        run = self._request.run
        self._channel.event(
            Event(EventType.LOGS_CAPTURED, run.job_name, key, message, data, run_id=run.run_id)
        )

    def event(self, event: Event) -> None:
        if event.event_type in _ATTEMPT_ENDS and event.step_key == self._request.step_key:
            self.send_captured()
        self._channel.event(event)

    def failure(self, key: str, exc: BaseException) -> None:
        self._channel.failure(key, exc)

    def manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._channel.manifest(step_key, output_name, manifest)


def run_step_request_captured(request: StepRequest, channel: StepChannel) -> bool:
    """:func:`run_step_request`, sending what each attempt printed as LOGS_CAPTURED events."""
    with _capturing() as capture:
        capturing = _CapturingChannel(channel, request, capture)
        try:
            ok = run_step_request(request, capturing)
        finally:
            capturing.send_captured()  # printed after the step ended (resource teardown)
    return ok
