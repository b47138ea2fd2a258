"""Config types: what a config value may look like, and how a value is checked and resolved.

Each type validates a value with ``validate(value, path, problems)``: it returns the resolved
value (defaults filled in, enums turned into python values) and appends a readable problem
string for everything wrong, without raising, so one pass reports every problem. The success
path builds no strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from nbflow.config import _problems
from nbflow.errors import ConfigSchemaError

if TYPE_CHECKING:
    import enum
    from collections.abc import Callable

    from nbflow.config.field import Field

Path = tuple[str, ...]
"""Where a value sits in the config, from the root; joined with ``:`` in problem strings."""

_EMPTY: Mapping[object, object] = MappingProxyType({})
_INDEXES = tuple(f"[{i}]" for i in range(512))


def _index(i: int) -> str:
    return _INDEXES[i] if i < len(_INDEXES) else f"[{i}]"


class ConfigType(ABC):
    """Base of every config type.

    Config types compare equal when they describe the same values, so
    ``normalize_schema({"a": int}) == Shape({"a": Int})``.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def type_name(self) -> str:
        """Readable name such as ``Int``, ``[Int]``, ``{a: Int, b?: String}``, ``Noneable(Int)``."""

    @abstractmethod
    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        """Check ``value`` and return it resolved; append one string per problem found.

        Args:
            value: the config value as the user wrote it.
            path: where ``value`` sits, e.g. ``("root", "ops", "emit", "config")``.
            problems: list that receives problem strings; never raises for bad values.

        Returns:
            The resolved value. Meaningless if any problem was appended.
        """

    @property
    def has_implicit_default(self) -> bool:
        """Whether a field of this type that is left out still resolves to a value.

        True for ``Noneable`` (resolves to ``None``), for ``Shape``/``Permissive`` whose
        fields are all optional and for a one-field ``Selector`` whose field is optional;
        such fields are optional unless ``is_required=True`` is given.
        """
        return False

    def implicit_default(self) -> object:
        """Return what a left-out field of this type resolves to (see ``has_implicit_default``)."""
        return None

    def _key(self) -> tuple[object, ...]:
        return (type(self),)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigType):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self.type_name)

    def __repr__(self) -> str:
        return self.type_name


# --- scalars ---------------------------------------------------------------------------------


class AnyType(ConfigType):
    """Accepts every value (including ``None``) and resolves it unchanged."""

    __slots__ = ()

    @property
    def type_name(self) -> str:
        return "Any"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        return value


class IntType(ConfigType):
    """Accepts ``int`` values; ``bool`` is rejected although it subclasses ``int``."""

    __slots__ = ()

    @property
    def type_name(self) -> str:
        return "Int"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        problems.append(_problems.wrong_type(path, "Int", value))
        return value


class FloatType(ConfigType):
    """Accepts ``int`` or ``float`` values (not ``bool``) and resolves them as ``float``."""

    __slots__ = ()

    @property
    def type_name(self) -> str:
        return "Float"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if isinstance(value, float):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                problems.append(_problems.too_large_for_float(path, value))
                return value
        problems.append(_problems.wrong_type(path, "Float", value))
        return value


class StringType(ConfigType):
    """Accepts ``str`` values."""

    __slots__ = ()

    @property
    def type_name(self) -> str:
        return "String"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if not isinstance(value, str):
            problems.append(_problems.wrong_type(path, "String", value))
        return value


class BoolType(ConfigType):
    """Accepts ``True`` and ``False`` only (not ``0``, ``1`` or strings)."""

    __slots__ = ()

    @property
    def type_name(self) -> str:
        return "Bool"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if not isinstance(value, bool):
            problems.append(_problems.wrong_type(path, "Bool", value))
        return value


Any = AnyType()
Int = IntType()
Float = FloatType()
String = StringType()
Bool = BoolType()


# --- wrappers --------------------------------------------------------------------------------


def _inner(obj: object, where: str) -> ConfigType:
    from nbflow.config.schema import to_config_type  # schema builds on this module

    return to_config_type(obj, where=where)


class Array(ConfigType):
    """A list (or tuple) whose items all have ``inner_type``; resolves to a list.

    Args:
        inner: the item type, in any form ``normalize_schema`` accepts (``int``, a dict, ...).
    """

    __slots__ = ("_check", "inner_type")

    def __init__(self, inner: object) -> None:
        self.inner_type: ConfigType = _inner(inner, "Array item type")
        self._check = self.inner_type.validate

    @property
    def type_name(self) -> str:
        return f"[{self.inner_type.type_name}]"

    def _key(self) -> tuple[object, ...]:
        return (Array, self.inner_type)

    def __repr__(self) -> str:
        return f"Array({self.inner_type!r})"

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if not isinstance(value, (list, tuple)):
            problems.append(_problems.wrong_type(path, self.type_name, value))
            return value
        check = self._check
        return [check(item, (*path, _index(i)), problems) for i, item in enumerate(value)]


class Noneable(ConfigType):
    """``None`` or a value of ``inner_type``; a left-out field of this type resolves to ``None``.

    Args:
        inner: the type of non-``None`` values, in any form ``normalize_schema`` accepts.
    """

    __slots__ = ("_check", "inner_type")

    def __init__(self, inner: object) -> None:
        self.inner_type: ConfigType = _inner(inner, "Noneable inner type")
        self._check = self.inner_type.validate

    @property
    def type_name(self) -> str:
        return f"Noneable({self.inner_type.type_name})"

    def _key(self) -> tuple[object, ...]:
        return (Noneable, self.inner_type)

    @property
    def has_implicit_default(self) -> bool:
        return True

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if value is None:
            return None
        return self._check(value, path, problems)


# --- dicts of fields -------------------------------------------------------------------------


class _FieldsType(ConfigType):
    """Shared part of the dict types: named fields, each a ``Field``."""

    __slots__ = ("_fields", "_items", "_names")

    _label: ClassVar[str] = ""

    def __init__(self, fields: Mapping[str, object] | None, where: str) -> None:
        from nbflow.config.schema import to_fields  # schema builds on this module

        normalized = to_fields(fields or {}, where=where)
        self._fields: Mapping[str, Field] = MappingProxyType(normalized)
        self._names: tuple[str, ...] = tuple(normalized)
        self._items: tuple[tuple[str, Field, Callable[[object, Path, list[str]], object]], ...] = (
            tuple((name, f, f.config_type.validate) for name, f in normalized.items())
        )

    @property
    def fields(self) -> Mapping[str, Field]:
        """The fields by name, in declaration order (read-only)."""
        return self._fields

    def _fields_text(self) -> str:
        parts = (
            f"{name}{'' if f.is_required else '?'}: {f.config_type.type_name}"
            for name, f in self._fields.items()
        )
        return "{" + ", ".join(parts) + "}"

    def _key(self) -> tuple[object, ...]:
        return (type(self), tuple(self._fields.items()))

    def _as_dict(
        self, value: object, path: Path, problems: list[str]
    ) -> Mapping[object, object] | None:
        """Return ``value`` as a mapping (``None`` is empty), or append a problem, return None."""
        if value is None:
            return _EMPTY
        if isinstance(value, Mapping):
            return value
        problems.append(_problems.wrong_type(path, self.type_name, value))
        return None

    def _validate_fields(
        self, value: Mapping[object, object], path: Path, problems: list[str], keep_unknown: bool
    ) -> dict[object, object]:
        resolved: dict[object, object] = {}
        matched = 0
        for name, f, check in self._items:
            if name in value:
                matched += 1
                resolved[name] = check(value[name], (*path, name), problems)
            else:
                f.fill_missing(resolved, name, path, problems)
        if matched != len(value):
            known = self._fields
            for key, item in value.items():
                if key in known:
                    continue
                if keep_unknown:
                    resolved[key] = item
                else:
                    problems.append(_problems.unknown_field(path, key, self._names))
        return resolved


class Shape(_FieldsType):
    """A dict with a fixed set of named fields; unknown keys are problems.

    Missing optional fields get their default; an optional field without a default is left
    out, except that ``Noneable`` fields resolve to ``None`` and all-optional dict fields
    resolve to their fully defaulted dict. ``None`` is accepted as an empty dict.

    Args:
        fields: field name to ``Field`` or to any schema ``normalize_schema`` accepts.
    """

    __slots__ = ("_all_optional",)

    def __init__(self, fields: Mapping[str, object]) -> None:
        super().__init__(fields, "Shape fields")
        self._all_optional = not any(f.is_required for f in self._fields.values())

    @property
    def type_name(self) -> str:
        return self._fields_text()

    def __repr__(self) -> str:
        return f"Shape({self._fields_text()})"

    @property
    def has_implicit_default(self) -> bool:
        return self._all_optional

    def implicit_default(self) -> object:
        return self._validate_fields(_EMPTY, (), [], keep_unknown=False)

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        given = self._as_dict(value, path, problems)
        if given is None:
            return value
        return self._validate_fields(given, path, problems, keep_unknown=False)


class Permissive(_FieldsType):
    """A dict that checks the given fields (like ``Shape``) and keeps any other keys as-is.

    Args:
        fields: field name to ``Field`` or schema; ``None`` means any dict at all.
    """

    __slots__ = ("_all_optional",)

    def __init__(self, fields: Mapping[str, object] | None = None) -> None:
        super().__init__(fields, "Permissive fields")
        self._all_optional = not any(f.is_required for f in self._fields.values())

    @property
    def type_name(self) -> str:
        return f"Permissive({self._fields_text() if self._fields else ''})"

    @property
    def has_implicit_default(self) -> bool:
        return self._all_optional

    def implicit_default(self) -> object:
        return self._validate_fields(_EMPTY, (), [], keep_unknown=True)

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        given = self._as_dict(value, path, problems)
        if given is None:
            return value
        return self._validate_fields(given, path, problems, keep_unknown=True)


class Selector(_FieldsType):
    """A dict with exactly one key, chosen from ``fields``; resolves to ``{key: resolved}``.

    A selector with a single field that is optional may be left out or given as ``{}``; it
    then resolves to that field's default.

    Args:
        fields: the choices, field name to ``Field`` or schema.
    """

    __slots__ = ()

    def __init__(self, fields: Mapping[str, object]) -> None:
        super().__init__(fields, "Selector fields")
        if not self._fields:
            raise ConfigSchemaError(
                "Selector({}) has no choices, so no value can ever fit it.\n"
                'Fix: give at least one field, e.g. Selector({"in_process": {}}).'
            )

    @property
    def type_name(self) -> str:
        return f"Selector({self._fields_text()})"

    @property
    def has_implicit_default(self) -> bool:
        if len(self._names) != 1:
            return False
        only = self._fields[self._names[0]]
        return not only.is_required and only.missing_value()[0]

    def implicit_default(self) -> object:
        name = self._names[0]
        return {name: self._fields[name].missing_value()[1]}

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        given = self._as_dict(value, path, problems)
        if given is None:
            return value
        if len(given) == 1:
            ((key, item),) = given.items()
            chosen = self._fields.get(key) if isinstance(key, str) else None
            if chosen is None or not isinstance(key, str):
                problems.append(_problems.unknown_field(path, key, self._names))
                return value
            return {key: chosen.config_type.validate(item, (*path, key), problems)}
        if not given and self.has_implicit_default:
            return self.implicit_default()
        problems.append(_problems.selector_count(path, list(given), self._names))
        return value


# --- enums -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnumValue:
    """One allowed value of an ``Enum``.

    Args:
        config_value: the string users write in config.
        python_value: what the config value resolves to; ``None`` means ``config_value``.
        description: shown in forms and docs.
    """

    config_value: str
    python_value: object = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.config_value, str):
            raise ConfigSchemaError(
                f"EnumValue({self.config_value!r}): config values must be strings, got "
                f'{type(self.config_value).__name__}.\nFix: write EnumValue("NAME", '
                f"python_value={self.config_value!r})."
            )
        if self.python_value is None:
            object.__setattr__(self, "python_value", self.config_value)


class Enum(ConfigType):
    """One of a fixed set of strings; resolves to the matching ``EnumValue.python_value``.

    Args:
        name: the enum's name, shown in type names and problems.
        values: the allowed values; a plain string ``s`` means ``EnumValue(s)``.
    """

    __slots__ = ("_by_config", "_name", "values")

    def __init__(self, name: str, values: Sequence[EnumValue | str]) -> None:
        self._name = name
        self.values: tuple[EnumValue, ...] = tuple(
            v if isinstance(v, EnumValue) else EnumValue(v) for v in values
        )
        self._by_config = {v.config_value: v.python_value for v in self.values}
        if not self.values or len(self._by_config) != len(self.values):
            seen = [v.config_value for v in self.values]
            dupes = sorted({s for s in seen if seen.count(s) > 1})
            why = f"repeats {_problems.quote_names(dupes)}" if dupes else "has no values"
            raise ConfigSchemaError(
                f"Enum {name!r} {why}; config values must be unique and there must be at "
                'least one.\nFix: list each allowed string once, e.g. Enum("Color", '
                '[EnumValue("RED"), EnumValue("BLUE")]).'
            )

    @classmethod
    def from_python_enum(cls, enum_cls: type[enum.Enum]) -> Enum:
        """Build an ``Enum`` whose config values are the member names and resolve to the members.

        Examples:
            >>> class Color(enum.Enum):
            ...     RED = 1
            >>> Enum.from_python_enum(Color).validate("RED", ("root",), [])
            <Color.RED: 1>
        """
        return cls(enum_cls.__name__, [EnumValue(m.name, python_value=m) for m in enum_cls])

    @property
    def name(self) -> str:
        """The enum's name."""
        return self._name

    @property
    def type_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"Enum({self._name!r}, {[v.config_value for v in self.values]!r})"

    def _key(self) -> tuple[object, ...]:
        return (Enum, self._name, self.values)

    def validate(self, value: object, path: Path, problems: list[str]) -> object:
        if isinstance(value, str):
            try:
                return self._by_config[value]
            except KeyError:
                pass
        problems.append(_problems.bad_enum_value(path, self._name, list(self._by_config), value))
        return value
