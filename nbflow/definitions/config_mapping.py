"""``ConfigMapping``: a simpler config schema for a job, mapped onto the full run config."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.config import as_field, validate_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from nbflow.config.types import Path


@dataclass(frozen=True, eq=False)
class ConfigMapping:
    """Users give config matching ``config_schema``; ``config_fn`` turns it into run config.

    Args:
        config_fn: turns the config users give into run config (a dict).
        config_schema: schema of the config users give; none means any config.
        receive_processed_config_values: when True (the default), ``config_fn`` receives the
            config resolved: defaults filled in and values processed (an ``Enum`` name turned
            into its Python value, a ``StringSource`` read from its environment variable). When
            False it receives the config exactly as given, after it is checked.
        description: shown in docs and notebook views.
    """

    config_fn: Callable[[Any], Mapping[str, Any]]
    config_schema: Any = None
    receive_processed_config_values: bool = True
    description: str | None = None

    def config_for_fn(self, given: Any, *, root: Path = ("root",), target: str) -> Any:
        """The config ``config_fn`` receives for ``given``: checked, then processed or raw.

        Args:
            given: the config as the user wrote it.
            root: path prefix of every problem.
            target: what the config is for, named in the error.

        Raises:
            RunConfigValidationError: ``given`` does not fit ``config_schema``.
        """
        if self.config_schema is None:
            return given
        field = as_field(self.config_schema)
        resolved = validate_config(field.config_type, given, root=root, target=target)
        return resolved if self.receive_processed_config_values else copy.deepcopy(given)
