"""Turning what users write as a config schema (``int``, ``{"a": str}``, ``[int]``...) into types.

Accepted forms:

- ``None``: no config (``normalize_schema`` returns ``None``);
- a ``ConfigType`` (``Int``, ``Shape(...)``, ...): used as-is;
- ``int``, ``float``, ``str``, ``bool``: ``Int``, ``Float``, ``String``, ``Bool``;
- ``typing.Any`` or ``object``: ``Any``; ``list``: ``Array(Any)``; ``dict``: ``Permissive()``;
- ``[T]``: ``Array(T)``; ``list[T]`` / ``typing.List[T]``: ``Array(T)``;
- ``{"name": T or Field(...), ...}``: ``Shape``;
- ``typing.Optional[T]`` / ``T | None``: ``Noneable(T)``;
- ``dict[str, typing.Any]``: ``Permissive()``;
- a python ``enum.Enum`` subclass: ``Enum.from_python_enum``;
- a ``Field`` at the top: its type (``normalize_schema``) or itself (``as_field``).

Anything else raises ``ConfigSchemaError`` naming every offender with its path in the schema.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import TYPE_CHECKING

from nbflow.config import _problems
from nbflow.config.field import Field
from nbflow.config.types import Any as ConfigAny
from nbflow.config.types import (
    Array,
    Bool,
    ConfigType,
    Float,
    Int,
    Noneable,
    Permissive,
    Shape,
    String,
)
from nbflow.config.types import Enum as ConfigEnum
from nbflow.errors import ConfigSchemaError

if TYPE_CHECKING:
    from collections.abc import Mapping

_FIX = (
    "Fix: use a python type such as int or str, a dict of types, [type] for a list, "
    "or Field(type, default_value=...)."
)

_SCALARS: dict[type, ConfigType] = {int: Int, float: Float, str: String, bool: Bool}


def normalize_schema(obj: object, *, where: str = "config_schema") -> ConfigType | None:
    """Return the config type for a user-written schema; ``None`` stays ``None`` (no config).

    A ``Field`` at the top gives its type; use ``as_field`` to keep its default too.

    Args:
        obj: the schema as written, e.g. ``{"name": str, "sizes": [int]}``.
        where: what to call the schema in error messages.

    Raises:
        ConfigSchemaError: listing every part of ``obj`` that is not a config type.

    Examples:
        >>> normalize_schema({"n": int})
        {n: Int}
    """
    if obj is None:
        return None
    if isinstance(obj, Field):
        return obj.config_type
    return to_config_type(obj, where=where)


def as_field(obj: object, *, where: str = "config_schema") -> Field:
    """Return ``obj`` if it is a ``Field``, else a ``Field`` of its normalized type.

    Raises:
        ConfigSchemaError: ``obj`` (or a part of it) is not a config type, or it is ``None``.
    """
    if isinstance(obj, Field):
        return obj
    return Field(to_config_type(obj, where=where))


def to_config_type(obj: object, *, where: str) -> ConfigType:
    """Like ``normalize_schema`` but ``None`` and ``Field`` are errors (used inside types)."""
    problems: list[str] = []
    config_type = _to_type(obj, where, problems)
    _raise_if(problems)
    assert config_type is not None
    return config_type


def to_fields(fields: Mapping[str, object], *, where: str) -> dict[str, Field]:
    """Return field name to ``Field`` for the fields of a dict type; raise on any bad entry."""
    problems: list[str] = []
    normalized = _to_fields(fields, where, problems)
    _raise_if(problems)
    return normalized


def _raise_if(problems: list[str]) -> None:
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        bullets = "\n".join(f"  - {p}" for p in problems)
        raise ConfigSchemaError(f"Config schema is invalid ({count}):\n{bullets}\n{_FIX}")


def _to_type(obj: object, where: str, problems: list[str]) -> ConfigType | None:
    """Return the type for ``obj``, or append problems (with paths under ``where``) and ``None``."""
    if isinstance(obj, ConfigType):
        return obj
    if obj is typing.Any:  # a class since python 3.11, so test it before other classes
        return ConfigAny
    if isinstance(obj, type):
        return _from_class(obj, where, problems)
    if isinstance(obj, dict):
        fields = _to_fields(obj, where, problems)
        return Shape(fields) if len(fields) == len(obj) else None
    if isinstance(obj, list):
        if len(obj) != 1:
            problems.append(
                f"{where}: a list schema needs exactly one element, the item type "
                f"(e.g. [int]), got {len(obj)} elements"
            )
            return None
        item = _to_type(obj[0], f"{where}[0]", problems)
        return Array(item) if item is not None else None
    origin = typing.get_origin(obj)
    if origin is not None:
        return _from_generic(obj, origin, where, problems)
    if isinstance(obj, Field):
        problems.append(
            f"{where}: {obj!r} is only allowed as a dict value or as the whole schema; "
            "write the bare type here"
        )
    elif obj is None:
        problems.append(
            f"{where}: None is not a config type; use Any for any value or Noneable(type) "
            "to allow None"
        )
    else:
        problems.append(f"{where}: {_problems.safe_repr(obj)} is not a config type")
    return None


def _from_class(cls: type, where: str, problems: list[str]) -> ConfigType | None:
    scalar = _SCALARS.get(cls)
    if scalar is not None:
        return scalar
    if cls is object:
        return ConfigAny
    if cls is list:
        return Array(ConfigAny)
    if cls is dict:
        return Permissive()
    if issubclass(cls, enum.Enum):
        return ConfigEnum.from_python_enum(cls)
    problems.append(f"{where}: class {cls.__module__}.{cls.__qualname__} is not a config type")
    return None


def _from_generic(
    obj: object, origin: object, where: str, problems: list[str]
) -> ConfigType | None:
    """Handle ``list[T]``, ``dict[str, Any]`` and ``T | None`` (typing or ``|`` syntax)."""
    args = typing.get_args(obj)
    if origin is list:
        if not args:
            return Array(ConfigAny)
        item = _to_type(args[0], f"{where}[0]", problems)
        return Array(item) if item is not None else None
    if origin is dict and (not args or (args[0] is str and args[1] in (typing.Any, object))):
        return Permissive()
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            inner = _to_type(rest[0], where, problems)
            return Noneable(inner) if inner is not None else None
        problems.append(
            f"{where}: union {_problems.safe_repr(obj)} is not a config type; only "
            "T | None (Noneable) is supported, use Any or a Selector for alternatives"
        )
        return None
    if origin is dict:
        problems.append(
            f"{where}: {_problems.safe_repr(obj)} is not a config type; use dict for a dict "
            'of any values, or {"name": type, ...} for named fields'
        )
        return None
    problems.append(f"{where}: {_problems.safe_repr(obj)} is not a config type")
    return None


def _to_fields(fields: Mapping[str, object], where: str, problems: list[str]) -> dict[str, Field]:
    """Return the valid fields of ``fields``; append a problem for every invalid one."""
    normalized: dict[str, Field] = {}
    for name, value in fields.items():
        at = f"{where}[{_problems.safe_repr(name)}]"
        if not isinstance(name, str):
            problems.append(
                f"{at}: field name {_problems.describe(name)} is not a string; "
                "field names must be strings"
            )
        if isinstance(value, Field):
            field: Field | None = value
        else:
            inner = _to_type(value, at, problems)
            field = Field(inner) if inner is not None else None
        if field is not None and isinstance(name, str):
            normalized[name] = field
    return normalized
