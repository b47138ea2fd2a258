"""What a Dask worker runs for one step: the request in, the step's messages out.

Each message is also published on the run's topic as it happens (``Worker.log_event``), so
the run sees a step start and log while it runs; the task's result repeats every message,
in order, and is what counts: whatever the topic lost, the run takes from the result.

A step's first message (its start) is published before the step runs, and the task waits
until the scheduler has it: a task the run never heard start never ran its step (it only
waited on its worker), so when its worker dies the run submits it again instead of blaming
it. That same report carries the final reports of the steps that ended in this process
since the last one the scheduler confirmed: whatever the step about to run does (a crash,
``os._exit``), the run has the earlier steps' outcomes, and the worker's death is not
blamed on them (a final report there holds every message, ``done`` last, as nothing says
the messages published without waiting got there first). As a step ends, its final report
is also published without waiting, after its other messages: only ``done``, numbered after
them, so the run has the outcome without fetching the task's result.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING, Any

from nbflow.events import Event, EventType
from nbflow.execution.executors import _wire
from nbflow.execution.executors.output_capture import run_step_request_captured
from nbflow.execution.executors.step_request import decode_request, run_step_request

if TYPE_CHECKING:
    from collections.abc import Mapping

REPORT_TIMEOUT_SECONDS = 10.0
"""Longest wait for the scheduler to take a step's start report."""

_unconfirmed: list[tuple[str, dict[str, Any]]] = []
"""(topic, final report) of the steps that ended in this process since the scheduler last
confirmed a report from it."""
_unconfirmed_lock = threading.Lock()

_halted_runs: set[str] = set()
"""Runs halted by a failure: their steps that start here from now on do not run."""


def halt_run(run_id: str) -> None:
    """Run on every worker when run ``run_id`` halts (``Client.run``)."""
    _halted_runs.add(run_id)


def _take_unconfirmed() -> list[tuple[str, dict[str, Any]]]:
    with _unconfirmed_lock:
        taken = list(_unconfirmed)
        _unconfirmed.clear()
    return taken


class TopicChannel:
    """Keeps a step's messages for the task's result and publishes each on ``topic``.

    Messages published while the worker's event loop is busy go out together: each is
    added to an outbox, and one callback on the loop publishes what the outbox holds then.
    """

    def __init__(self, topic: str | None, task_key: str) -> None:
        self.messages: list[bytes] = []
        self._topic = topic
        self._task_key = task_key
        self._worker: Any = None
        self._outbox: list[dict[str, Any]] = []
        self._outbox_lock = threading.Lock()
        if topic is not None:
            from distributed import get_worker

            with contextlib.suppress(ValueError):  # not on a worker: the result alone
                self._worker = get_worker()

    def _live(self, data: bytes) -> dict[str, Any]:
        seq = len(self.messages)
        self.messages.append(data)
        return {"key": self._task_key, "seq": seq, "data": data}

    def _send(self, data: bytes) -> None:
        self._publish(self._live(data))

    def _publish(self, message: dict[str, Any]) -> None:
        """Publish ``message`` soon, after those published before it."""
        if self._worker is None:
            return
        with self._outbox_lock:
            self._outbox.append(message)
            if len(self._outbox) > 1:
                return  # the callback already on its way takes this one too
        with contextlib.suppress(Exception):  # the result carries it anyway
            self._worker.loop.add_callback(self._flush)

    def _flush(self) -> None:
        """Publish the outbox (on the worker's event loop)."""
        with self._outbox_lock:
            messages, self._outbox = self._outbox, []
        with contextlib.suppress(Exception):  # the result carries them anyway
            self._worker.log_event(self._topic, messages)

    def start(self, event: Event) -> None:
        """Publish the step's first message (and earlier steps' final reports), waiting
        for the scheduler to have them."""
        live = self._live(_wire.encode_event(event))
        worker = self._worker
        if worker is None:
            return
        from distributed.utils import sync

        reports: dict[str, list[dict[str, Any]]] = {}
        for topic, final in _take_unconfirmed():
            reports.setdefault(topic, []).append(final)
        reports.setdefault(str(self._topic), []).append(live)
        for topic, messages in reports.items():
            with contextlib.suppress(Exception):  # the results still carry them
                sync(
                    worker.loop,
                    worker.scheduler.log_event,
                    topic=topic,
                    msg=messages,
                    callback_timeout=REPORT_TIMEOUT_SECONDS,
                )

    def event(self, event: Event) -> None:
        self._send(_wire.encode_event(event))

    def failure(self, key: str, exc: BaseException) -> None:
        self._send(_wire.encode_failure(key, exc))

    def manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._send(_wire.encode_manifest(step_key, output_name, manifest))

    def withdraw(self) -> None:
        """The step will not run (its run halted): say so, with no outcome."""
        if self._worker is not None:
            self._publish({"key": self._task_key, "final": [], "withdrawn": True})

    def finish(self, ok: bool) -> None:
        """Add the ``done`` message; publish every message, and keep them for the next
        step's start report to confirm."""
        self.messages.append(_wire.encode_done(ok))
        worker = self._worker
        if worker is None:
            return
        whole = {"key": self._task_key, "seq": 0, "final": self.messages}
        with _unconfirmed_lock:
            _unconfirmed.append((str(self._topic), whole))
        done = len(self.messages) - 1
        self._publish({"key": self._task_key, "seq": done, "final": self.messages[done:]})


def run_step_task(
    payload: bytes, topic: str | None = None, task_key: str = "", capture: bool = True
) -> list[bytes]:
    """Run one step from its serialized request; returns its encoded messages, ``done`` last.

    With ``capture``, what the step prints is sent back too (LOGS_CAPTURED events); the
    executor turns it off for workers that are threads of the process that runs the job.
    A step of a run halted by a failure does not run: no messages, and an empty result.
    """
    request = decode_request(payload)
    channel = TopicChannel(topic, task_key)
    channel.start(
        Event(
            EventType.STEP_WORKER_STARTED,
            request.run.job_name,
            request.step_key,
            f"Executing step {request.step_key!r} on a Dask worker (pid {os.getpid()})",
            run_id=request.run.run_id,
        )
    )
    if request.run.run_id in _halted_runs:  # checked once the start reached the scheduler
        channel.withdraw()
        return []
    ok = (run_step_request_captured if capture else run_step_request)(request, channel)
    channel.finish(ok)
    return channel.messages
