"""Config schemas: the types a config may have, and validating values into resolved config."""

from __future__ import annotations

from nbflow.config.field import NO_DEFAULT, Field
from nbflow.config.schema import as_field, normalize_schema
from nbflow.config.types import (
    Any,
    AnyType,
    Array,
    Bool,
    ConfigType,
    Enum,
    EnumValue,
    Float,
    Int,
    Noneable,
    Permissive,
    Selector,
    Shape,
    String,
)
from nbflow.config.validate import resolve_config, validate_config

__all__ = [
    "NO_DEFAULT",
    "Any",
    "AnyType",
    "Array",
    "Bool",
    "ConfigType",
    "Enum",
    "EnumValue",
    "Field",
    "Float",
    "Int",
    "Noneable",
    "Permissive",
    "Selector",
    "Shape",
    "String",
    "as_field",
    "normalize_schema",
    "resolve_config",
    "validate_config",
]
