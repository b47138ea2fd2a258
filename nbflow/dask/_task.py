"""What a Dask worker runs for one step: the request in, the step's messages out.

Each message is also published on the run's topic as it happens (``Worker.log_event``), so
the run sees a step start and log while it runs; the task's result repeats every message,
in order, and is what counts: whatever the topic lost, the run takes from the result.

When the step is over, all its messages are published once more, and the task waits until
the scheduler has them before it returns: whatever the next task on this worker does (a
crash, ``os._exit``), the run has this step's outcome, and the worker's death is not blamed
on it.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from nbflow.events import Event, EventType
from nbflow.execution.executors import _wire
from nbflow.execution.executors.output_capture import run_step_request_captured
from nbflow.execution.executors.step_request import decode_request, run_step_request

if TYPE_CHECKING:
    from collections.abc import Mapping

REPORT_TIMEOUT_SECONDS = 10.0
"""Longest wait for the scheduler to take a step's final report."""


class TopicChannel:
    """Keeps a step's messages for the task's result and publishes each on ``topic``."""

    def __init__(self, topic: str | None, task_key: str) -> None:
        self.messages: list[bytes] = []
        self._topic = topic
        self._task_key = task_key
        self._worker: Any = None
        if topic is not None:
            from distributed import get_worker

            with contextlib.suppress(ValueError):  # not on a worker: the result alone
                self._worker = get_worker()

    def _send(self, data: bytes) -> None:
        seq = len(self.messages)
        self.messages.append(data)
        if self._worker is not None:
            live = {"key": self._task_key, "seq": seq, "data": data}
            with contextlib.suppress(Exception):  # the result carries it anyway
                self._worker.log_event(self._topic, live)

    def event(self, event: Event) -> None:
        self._send(_wire.encode_event(event))

    def failure(self, key: str, exc: BaseException) -> None:
        self._send(_wire.encode_failure(key, exc))

    def manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._send(_wire.encode_manifest(step_key, output_name, manifest))

    def finish(self, ok: bool) -> None:
        """Add the ``done`` message; publish every message, waiting for the scheduler."""
        self.messages.append(_wire.encode_done(ok))
        worker = self._worker
        if worker is None:
            return
        from distributed.utils import sync

        final = {"key": self._task_key, "final": self.messages}
        with contextlib.suppress(Exception):  # the result still carries them
            sync(
                worker.loop,
                worker.scheduler.log_event,
                topic=self._topic,
                msg=final,
                callback_timeout=REPORT_TIMEOUT_SECONDS,
            )


def run_step_task(
    payload: bytes, topic: str | None = None, task_key: str = "", capture: bool = True
) -> list[bytes]:
    """Run one step from its serialized request; returns its encoded messages, ``done`` last.

    With ``capture``, what the step prints is sent back too (LOGS_CAPTURED events); the
    executor turns it off for workers that are threads of the process that runs the job.
    """
    request = decode_request(payload)
    channel = TopicChannel(topic, task_key)
    channel.event(
        Event(
            EventType.STEP_WORKER_STARTED,
            request.run.job_name,
            request.step_key,
            f"Executing step {request.step_key!r} on a Dask worker (pid {os.getpid()})",
            run_id=request.run.run_id,
        )
    )
    ok = (run_step_request_captured if capture else run_step_request)(request, channel)
    channel.finish(ok)
    return channel.messages
