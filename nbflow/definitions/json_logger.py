"""``json_console_logger``: a logger that writes each message as one JSON object a line."""

from __future__ import annotations

import logging
import sys
from typing import Any

from nbflow.config import Field
from nbflow.definitions.logger import LoggerDefinition


class _JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger name and message."""

    def format(self, record: logging.LogRecord) -> str:
        import json  # only when a message is written: keeps `import nbflow` light

        entry = {
            "timestamp": record.created,
            "level": record.levelname,
            "name": record.name,
            "msg": record.getMessage(),
        }
        return json.dumps(entry, default=str)


def _build_json_logger(init_context: Any) -> logging.Logger:
    config = init_context.logger_config or {}
    built = logging.Logger(config.get("name", "nbflow_json"), config.get("log_level", "INFO"))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    built.addHandler(handler)
    return built


json_console_logger = LoggerDefinition(
    _build_json_logger,
    config_schema={
        "log_level": Field(str, is_required=False, default_value="INFO"),
        "name": Field(str, is_required=False, default_value="nbflow_json"),
    },
    description="Writes each message to stderr as a JSON object (timestamp, level, name, msg).",
)
"""Configured under ``loggers.console``-style keys: ``{"log_level": "DEBUG", "name": ...}``."""
