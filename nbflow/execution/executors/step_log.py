"""``context.log`` of a step running in another process: each message goes back as an event.

The run that receives a ``LOG_MESSAGE`` event from a step hands its text to the run's own
loggers (the job's loggers live with the run, so ``context.log`` in a step process reaches
the same handlers, a notebook's or a file's, as it does in-process) and keeps the event when
its level is at or above the run's (``$NBFLOW_LOG_LEVEL``, see :mod:`~nbflow.execution.engine.log`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nbflow.events import Event, EventType, LogMessageData
from nbflow.execution.engine.log import LOGGER_NAME, RunLog

if TYPE_CHECKING:
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.executors.step_request import StepChannel


def channel_log(channel: StepChannel, job_name: str, run_id: str) -> RunLog:
    """The log of a step run elsewhere: every message, DEBUG and above, is sent as an event
    through ``channel``; the run decides what its loggers print and what it keeps."""

    def record(level: int, text: str, step_key: str | None) -> None:
        data = LogMessageData(level, LOGGER_NAME)
        channel.event(Event(EventType.LOG_MESSAGE, job_name, step_key, text, data, run_id=run_id))

    return RunLog.to((), job_name, run_id).recording(record, logging.DEBUG)


def keeps_log_message(run: RunContext, event: Event) -> bool:
    """Hand a step's LOG_MESSAGE event to the run's loggers; whether the run keeps the event."""
    data = event.data
    level = data.level if isinstance(data, LogMessageData) else logging.INFO
    return run.log.relay(level, event.message, event.step_key)
