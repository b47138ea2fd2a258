"""``Field``: a config type plus its default, whether it is required, and a description."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Final

from nbflow.config import _problems
from nbflow.config.types import Any as ConfigAny
from nbflow.config.types import Permissive, Shape
from nbflow.errors import ConfigSchemaError

if TYPE_CHECKING:
    from nbflow.config.types import ConfigType, Path


class _NoDefault:
    """Type of ``NO_DEFAULT``; there is only ever one instance."""

    __slots__ = ()
    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault()
"""Marks a ``Field`` without a default value (``None`` is a valid default, so it cannot)."""

_MUTABLE = (dict, list, set)


class Field:
    """A config type with a default value, a required flag and a description.

    Args:
        config: the field's type, in any form ``normalize_schema`` accepts (default: ``Any``).
        default_value: used when the field is left out; must itself fit the type.
        is_required: whether the field must be given. Default: required unless there is a
            default value, or the type is ``Noneable``, or it is a dict type whose fields are
            all optional.
        description: shown in forms and docs.

    Raises:
        ConfigSchemaError: the type is not a config type, the default does not fit it, or
            ``is_required=True`` is combined with a default.

    Examples:
        >>> Field(int, default_value=3).is_required
        False
    """

    __slots__ = (
        "_config_type",
        "_default_value",
        "_description",
        "_is_required",
        "_missing",
    )

    def __init__(
        self,
        config: object = ConfigAny,
        default_value: object = NO_DEFAULT,
        is_required: bool | None = None,
        description: str | None = None,
    ) -> None:
        from nbflow.config.schema import to_config_type  # schema builds on this module

        if isinstance(config, Field):
            raise ConfigSchemaError(
                f"Field({config!r}): a Field cannot wrap another Field.\n"
                "Fix: pass the type itself, e.g. Field(int, default_value=3)."
            )
        config_type = to_config_type(config, where="Field type")
        has_default = default_value is not NO_DEFAULT
        if is_required and has_default:
            raise ConfigSchemaError(
                f"Field({config_type.type_name}) has is_required=True and default value "
                f"{_problems.safe_repr(default_value)}, but a field with a default is optional.\n"
                "Fix: drop is_required=True, or drop default_value."
            )
        self._config_type = config_type
        self._default_value = default_value
        self._description = description
        if is_required is None:
            is_required = not has_default and not config_type.has_implicit_default
        self._is_required = is_required
        self._missing: tuple[bool, object] = (False, None)
        if has_default:
            problems: list[str] = []
            resolved = config_type.validate(default_value, ("default_value",), problems)
            if problems:
                raise ConfigSchemaError(
                    f"Field({config_type.type_name}) has a default value that does not fit "
                    "its type:\n" + "\n".join(f"  - {p}" for p in problems) + "\n"
                    "Fix: give a default that matches the type, or change the type "
                    "(e.g. Noneable(...) to allow None)."
                )
            self._missing = (True, resolved)
        elif not is_required and config_type.has_implicit_default:
            self._missing = (True, None)

    @property
    def config_type(self) -> ConfigType:
        """The field's type, normalized."""
        return self._config_type

    @property
    def default_value(self) -> object:
        """The default value as given (``NO_DEFAULT`` if there is none)."""
        return self._default_value

    @property
    def has_default_value(self) -> bool:
        """Whether a default value was given."""
        return self._default_value is not NO_DEFAULT

    @property
    def is_required(self) -> bool:
        """Whether the field must be given."""
        return self._is_required

    @property
    def description(self) -> str | None:
        """Human description, or ``None``."""
        return self._description

    def missing_value(self) -> tuple[bool, object]:
        """Return ``(True, value)`` if a left-out field resolves to a value, else ``(False, None)``.

        The value is the resolved default, or the type's implicit default (``None`` for
        ``Noneable``, the defaulted dict for all-optional dict types). Each call returns a
        fresh copy, so callers may change it.
        """
        found, value = self._missing
        if not found:
            return self._missing
        if self.has_default_value:
            if isinstance(value, _MUTABLE):
                value = copy.deepcopy(value)
            return True, value
        return True, self._config_type.implicit_default()

    def fill_missing(
        self, resolved: dict[object, object], name: str, path: Path, problems: list[str]
    ) -> None:
        """Handle this field being left out of a dict at ``path``.

        Appends a problem if the field is required; otherwise stores its resolved value
        under ``name`` in ``resolved``, or leaves it out when it resolves to nothing.
        """
        if self._is_required:
            if isinstance(self._config_type, Shape | Permissive):
                # Report the fields missing inside it, at their own paths, not the whole dict.
                resolved[name] = self._config_type.validate({}, (*path, name), problems)
            else:
                problems.append(_problems.missing_field(path, name, self._config_type.type_name))
            return
        found, value = self.missing_value()
        if found:
            resolved[name] = value

    def _key(self) -> tuple[object, ...]:
        return (self._config_type, self._is_required, self._description)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Field):
            return NotImplemented
        if self is other:
            return True
        if self._key() != other._key():
            return False
        mine, theirs = self._default_value, other._default_value
        return mine is theirs or (
            mine is not NO_DEFAULT and theirs is not NO_DEFAULT and bool(mine == theirs)
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        text = f"Field({self._config_type!r}"
        if self.has_default_value:
            text += f", default_value={_problems.safe_repr(self._default_value)}"
        text += f", is_required={self._is_required}"
        if self._description is not None:
            text += f", description={_problems.safe_repr(self._description)}"
        return text + ")"
