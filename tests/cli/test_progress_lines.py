"""The lines ``nbflow job execute`` prints for events: logs under their step, captured
output left out (the terminal already showed it)."""

from __future__ import annotations

import logging

from nbflow.cli.progress import event_line
from nbflow.events import CapturedOutputData, Event, EventType, LogMessageData
from nbflow.execution.engine.step_states import StepStates


def _event(kind: EventType, step: str | None, message: str = "", data: object = None) -> Event:
    return Event(kind, "job", step, message, data, 0.0, 1, "run-1")


def test_log_messages_are_printed_under_their_step() -> None:
    event = _event(
        EventType.LOG_MESSAGE, "load", "read 3 rows", LogMessageData(logging.WARNING, "nbflow")
    )
    assert event_line(event, StepStates([event])) == "  [load] WARNING read 3 rows"


def test_run_level_log_messages_say_run() -> None:
    event = _event(EventType.LOG_MESSAGE, None, "db up", LogMessageData(logging.INFO))
    assert event_line(event, StepStates([event])) == "  [run] INFO db up"


def test_captured_output_is_not_printed_again() -> None:
    event = _event(EventType.LOGS_CAPTURED, "load", "", CapturedOutputData("hello\n"))
    assert event_line(event, StepStates([event])) is None
