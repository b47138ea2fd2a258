"""``context.log``: messages from ops, sent to the job's loggers (Python ``logging``) and,
during a run, recorded as the run's ``LOG_MESSAGE`` events.

Which messages become events is decided by ``$NBFLOW_LOG_LEVEL`` (INFO when unset), read when
a run starts; Python ``logging`` levels decide, as usual, what the loggers' handlers print.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nbflow.errors import LogLevelError

if TYPE_CHECKING:
    from collections.abc import Sequence

LOGGER_NAME = "nbflow"
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())

LOG_LEVEL_ENV_VAR = "NBFLOW_LOG_LEVEL"
"""Environment variable: the lowest level of ``context.log`` messages a run records as events."""

DEFAULT_EVENT_LEVEL = logging.INFO
"""The lowest level recorded as events when ``$NBFLOW_LOG_LEVEL`` is not set."""

LogRecorder = Callable[[int, str, "str | None"], None]
"""Receives (level, text, step key or ``None``) of each message a run records as an event."""


def event_level() -> int:
    """The lowest level of messages recorded as ``LOG_MESSAGE`` events, from the environment.

    Raises:
        LogLevelError: when ``$NBFLOW_LOG_LEVEL`` names no level.
    """
    value = os.environ.get(LOG_LEVEL_ENV_VAR, "").strip()
    if not value:
        return DEFAULT_EVENT_LEVEL
    if value.isdigit():
        return int(value)
    level = logging.getLevelName(value.upper())
    if not isinstance(level, int):
        raise LogLevelError.build(LOG_LEVEL_ENV_VAR, value)
    return level


def message_text(msg: object, args: tuple[Any, ...], exc_info: Any = None) -> str:
    """The text ``logging`` would make of ``msg % args``, with the traceback of ``exc_info``."""
    text = str(msg)
    if args:
        if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            args = args[0]  # type: ignore[assignment]  # logging's "%(name)s" form
        try:
            text = text % args
        except (TypeError, ValueError, KeyError):
            text = f"{text} {args!r}"
    if exc_info:
        if isinstance(exc_info, BaseException):
            lines = traceback.format_exception(type(exc_info), exc_info, exc_info.__traceback__)
        elif isinstance(exc_info, tuple):
            lines = traceback.format_exception(*exc_info)
        else:
            lines = [traceback.format_exc()]
        text = f"{text}\n{''.join(lines).rstrip()}"
    return text


class RunLog:
    """Sends messages to every logger of a run, prefixed with job, run and step; a run's log
    also records them (see :meth:`recording`)."""

    __slots__ = ("_level", "_loggers", "_prefix", "_record", "_step_key")

    def __init__(
        self,
        loggers: Sequence[logging.Logger],
        prefix: str,
        record: LogRecorder | None = None,
        level: int = DEFAULT_EVENT_LEVEL,
        step_key: str | None = None,
    ) -> None:
        self._loggers = tuple(loggers)
        self._prefix = prefix
        self._record = record
        self._level = level
        self._step_key = step_key

    @classmethod
    def default(cls, job_name: str, run_id: str) -> RunLog:
        return cls.to([logging.getLogger(LOGGER_NAME)], job_name, run_id)

    @classmethod
    def to(cls, loggers: Sequence[logging.Logger], job_name: str, run_id: str) -> RunLog:
        """A run's log, sending to ``loggers``."""
        return cls(loggers, f"{job_name} - {run_id[:8]}")

    def recording(self, record: LogRecorder, level: int) -> RunLog:
        """This log, also handing each message at ``level`` or above to ``record``."""
        return RunLog(self._loggers, self._prefix, record, level, self._step_key)

    def unrecorded(self) -> RunLog:
        """This log, sending to the loggers only (for work done after the run has ended)."""
        return RunLog(self._loggers, self._prefix, None, self._level, self._step_key)

    def for_step(self, step_key: str) -> RunLog:
        return RunLog(
            self._loggers, f"{self._prefix} - {step_key}", self._record, self._level, step_key
        )

    def log(self, level: int, msg: str, *args: Any, **kwargs: Any) -> None:
        if self._record is not None and level >= self._level:
            self._record(level, message_text(msg, args, kwargs.get("exc_info")), self._step_key)
        for target in self._loggers:
            if target.isEnabledFor(level):
                target.log(level, f"{self._prefix} - {msg}", *args, **kwargs)

    def relay(self, level: int, text: str, step_key: str | None) -> bool:
        """Send a message a step logged elsewhere (text already formatted) to every logger.

        Returns:
            Whether this run records a message of ``level`` (its event is to be kept).
        """
        prefix = self._prefix if step_key is None else f"{self._prefix} - {step_key}"
        for target in self._loggers:
            if target.isEnabledFor(level):
                target.log(level, f"{prefix} - {text}")
        return self._record is not None and level >= self._level

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.INFO, msg, *args, **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.WARNING, msg, *args, **kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)

    def critical(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.CRITICAL, msg, *args, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, exc_info=True, **kwargs)
