"""``context.log``: messages from ops, sent to the job's loggers (Python ``logging``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

LOGGER_NAME = "nbflow"
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


class RunLog:
    """Sends messages to every logger of a run, prefixed with job, run and step."""

    __slots__ = ("_loggers", "_prefix")

    def __init__(self, loggers: Sequence[logging.Logger], prefix: str) -> None:
        self._loggers = tuple(loggers)
        self._prefix = prefix

    @classmethod
    def default(cls, job_name: str, run_id: str) -> RunLog:
        return cls.to([logging.getLogger(LOGGER_NAME)], job_name, run_id)

    @classmethod
    def to(cls, loggers: Sequence[logging.Logger], job_name: str, run_id: str) -> RunLog:
        """A run's log, sending to ``loggers``."""
        return cls(loggers, f"{job_name} - {run_id[:8]}")

    def for_step(self, step_key: str) -> RunLog:
        return RunLog(self._loggers, f"{self._prefix} - {step_key}")

    def log(self, level: int, msg: str, *args: Any, **kwargs: Any) -> None:
        for target in self._loggers:
            if target.isEnabledFor(level):
                target.log(level, f"{self._prefix} - {msg}", *args, **kwargs)

    def relay(self, level: int, text: str) -> None:
        """Send a message logged by a step elsewhere (already prefixed) to every logger."""
        for target in self._loggers:
            if target.isEnabledFor(level):
                target.log(level, text)

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
