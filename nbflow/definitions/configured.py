"""The config field of a definition made by ``.configured(config_or_config_fn, ...)``."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from nbflow.config import Field, as_field
from nbflow.config.configured import Configured
from nbflow.errors import DefinitionError, RunConfigValidationError

if TYPE_CHECKING:
    from collections.abc import Callable


def config_function(config_or_config_fn: Any, config_schema: Any, owner: str) -> Callable[..., Any]:
    """``config_or_config_fn`` as a function of the outer config.

    Raises:
        DefinitionError: a ``config_schema`` was given with a fixed config value.
    """
    if callable(config_or_config_fn):
        fn: Callable[..., Any] = config_or_config_fn
        return fn
    if config_schema is not None:
        raise DefinitionError(
            f"{owner}.configured(...) got a config_schema with a fixed config value; the "
            "schema describes the config a config function receives. Fix: pass a function "
            "of the new config, or drop config_schema."
        )
    fixed = config_or_config_fn
    return lambda _outer: copy.deepcopy(fixed)


def configured_field(
    inner: Field | None, config_or_config_fn: Any, config_schema: Any, owner: str
) -> Field:
    """The config field of ``owner`` configured with ``config_or_config_fn``.

    A fixed config is checked against the original schema now; a config function is applied
    to the config given for the new definition (checked against ``config_schema``) at each run.

    Args:
        inner: the original definition's config field (``None`` if it took no config).
        config_or_config_fn: the config itself, or a function of the new config returning it.
        config_schema: the new definition's schema, for a config function only.
        owner: what is configured, named in errors (``"resource 'db'"``).

    Raises:
        DefinitionError: a schema came with a fixed config.
        RunConfigValidationError: a fixed config does not fit the original schema.
    """
    fn = config_function(config_or_config_fn, config_schema, owner)
    outer = None if config_schema is None or not callable(config_or_config_fn) else config_schema
    config_type = Configured(inner, fn, None if outer is None else as_field(outer), owner)
    if not callable(config_or_config_fn):
        problems: list[str] = []
        config_type.validate(None, ("configured",), problems)
        if problems:
            raise RunConfigValidationError.build(owner, problems)
    return Field(config_type)
