"""What a Dask worker runs for one step: the request in, the step's messages out."""

from __future__ import annotations

import os

from nbflow.events import Event, EventType
from nbflow.execution import _wire
from nbflow.execution.step_request import decode_request, run_step_request


class ListChannel:
    """Keeps a step's messages, in order, to return them with the task's result."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def event(self, event: Event) -> None:
        self.messages.append(_wire.encode_event(event))

    def failure(self, key: str, exc: BaseException) -> None:
        self.messages.append(_wire.encode_failure(key, exc))

    def log(self, level: int, text: str) -> None:
        self.messages.append(_wire.encode_log(level, text))


def run_step_task(payload: bytes) -> list[bytes]:
    """Run one step from its serialized request; returns its encoded messages, ``done`` last."""
    request = decode_request(payload)
    channel = ListChannel()
    channel.event(
        Event(
            EventType.STEP_WORKER_STARTED,
            request.run.job_name,
            request.step_key,
            f"Executing step {request.step_key!r} on a Dask worker (pid {os.getpid()})",
            run_id=request.run.run_id,
        )
    )
    ok = run_step_request(request, channel)
    channel.messages.append(_wire.encode_done(ok))
    return channel.messages
