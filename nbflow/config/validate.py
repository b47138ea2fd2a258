"""Checking a whole config value against a config type, collecting or raising every problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.errors import RunConfigValidationError

if TYPE_CHECKING:
    from nbflow.config.types import ConfigType, Path


def resolve_config(
    config_type: ConfigType, value: object, *, root: Path = ("root",)
) -> tuple[object, list[str]]:
    """Validate ``value`` and return ``(resolved, problems)`` without raising.

    For callers that merge problems from several places before reporting them once.

    Args:
        config_type: the type to check against (see ``normalize_schema``).
        value: the config as the user wrote it; ``None`` counts as ``{}`` for dict types.
        root: path prefix of every problem, e.g. ``("root", "ops", "emit", "config")``.

    Returns:
        The resolved value (defaults filled in) and the problem strings, in a stable order.
        The resolved value is meaningless when there are problems.
    """
    problems: list[str] = []
    resolved = config_type.validate(value, root, problems)
    return resolved, problems


def validate_config(
    config_type: ConfigType,
    value: object,
    *,
    root: Path = ("root",),
    target: str = "the run",
) -> object:
    """Validate ``value`` and return it resolved, with defaults filled in.

    Args:
        config_type: the type to check against.
        value: the config as the user wrote it.
        root: path prefix of every problem.
        target: what the config is for, named in the error (e.g. ``"job 'etl'"``).

    Raises:
        RunConfigValidationError: listing every problem with its path.

    Examples:
        >>> from nbflow.config import Shape, Field
        >>> validate_config(Shape({"n": Field(int, default_value=1)}), {})
        {'n': 1}
    """
    resolved, problems = resolve_config(config_type, value, root=root)
    if problems:
        raise RunConfigValidationError.build(target, problems)
    return resolved
