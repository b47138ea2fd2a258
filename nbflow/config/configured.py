"""``Configured``: the config type of a definition made by ``.configured(...)``.

A configured definition fixes its config, or derives it from a new, smaller config through a
function. Its config type checks what the user gives against the new schema, applies the
function and checks the result against the original schema, so that the resolved value is the
original definition's config, exactly as if it had been given in run config (and versioned as
such).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from nbflow.config.types import ConfigType
from nbflow.errors import RunConfigValidationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.config.field import Field
    from nbflow.config.types import Path


class Configured(ConfigType):
    """Config checked against ``outer``, turned into the original config by ``config_fn``.

    Args:
        inner: the original definition's config field (``None``: it took no config).
        config_fn: turns the resolved outer config into the original config.
        outer: the new schema's field; ``None`` means no config may be given.
        owner: what was configured, named in problems (``"resource 'db'"``).
    """

    __slots__ = ("_config_fn", "_inner", "_outer", "_owner")

    def __init__(
        self,
        inner: Field | None,
        config_fn: Callable[[object], object],
        outer: Field | None,
        owner: str,
    ) -> None:
        self._inner = inner
        self._config_fn = config_fn
        self._outer = outer
        self._owner = owner

    @property
    def type_name(self) -> str:
        outer = "{}" if self._outer is None else self._outer.config_type.type_name
        return f"Configured({outer})"

    def _key(self) -> tuple[object, ...]:
        return (type(self), id(self))

    @property
    def has_implicit_default(self) -> bool:
        return self._outer is None or not self._outer.is_required

    def implicit_default(self) -> object:
        problems: list[str] = []
        resolved = self.validate(None, ("root",), problems)
        if problems:
            raise RunConfigValidationError.build(self._owner, problems)
        return resolved

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if self._outer is None:
            if value not in (None, {}):
                problems.append(
                    f"{':'.join(path)}: {self._owner} has its config fixed by .configured(...) "
                    "and takes none in run config. Fix: leave it out, or configure the "
                    "original definition with a config_schema."
                )
                return None
            outer: object = None
        elif value is None and not self._outer.is_required:
            outer = self._outer.missing_value()[1]
        else:
            outer = self._outer.config_type.validate(value, path, problems)
        if problems:
            return None
        try:
            given = self._config_fn(copy.deepcopy(outer))
        except Exception as error:
            problems.append(
                f"{':'.join(path)}: the config function of {self._owner} raised "
                f"{type(error).__name__}: {error}"
            )
            return None
        if self._inner is None:
            return given
        if given is None and not self._inner.is_required:
            return self._inner.missing_value()[1]
        return self._inner.config_type.validate(given, (*path, "(configured)"), problems)
