"""Loggers: where ``context.log`` messages go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from nbflow.config import Field, as_field

if TYPE_CHECKING:
    from collections.abc import Callable


class LoggerDefinition:
    """Builds a ``logging.Logger`` from an init context; configured under ``loggers.<key>``."""

    def __init__(
        self,
        logger_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
    ) -> None:
        self.logger_fn = logger_fn
        self.config_schema = config_schema
        self.config_field: Field | None = None if config_schema is None else as_field(config_schema)
        self.description = description


@overload
def logger(config_schema: Callable[..., Any]) -> LoggerDefinition: ...


@overload
def logger(
    config_schema: Any = None, description: str | None = None
) -> Callable[[Callable[..., Any]], LoggerDefinition]: ...


def logger(
    config_schema: Any = None, description: str | None = None
) -> LoggerDefinition | Callable[[Callable[..., Any]], LoggerDefinition]:
    """Define a logger (``@logger`` or ``@logger(config_schema=...)``)."""
    if callable(config_schema) and not isinstance(config_schema, type | Field):
        return LoggerDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> LoggerDefinition:
        return LoggerDefinition(fn, config_schema, description or fn.__doc__)

    return decorate
