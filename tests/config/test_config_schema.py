"""Tests for nbflow.config.schema: every accepted schema form and every rejected one."""

from __future__ import annotations

import datetime
import enum
import typing

import pytest

from nbflow.config import (
    Any,
    Array,
    Bool,
    ConfigType,
    Enum,
    Field,
    Float,
    Int,
    Noneable,
    Permissive,
    Selector,
    Shape,
    String,
    as_field,
    normalize_schema,
)
from nbflow.errors import ConfigSchemaError


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


SELECTOR = Selector({"a": int})


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (int, Int),
        (float, Float),
        (str, String),
        (bool, Bool),
        (typing.Any, Any),
        (object, Any),
        (list, Array(Any)),
        (dict, Permissive()),
        ([int], Array(Int)),
        ([[str]], Array(Array(String))),
        ([{"a": int}], Array(Shape({"a": Int}))),
        ({"a": int, "b": {"c": [bool]}}, Shape({"a": Int, "b": Shape({"c": Array(Bool)})})),
        ({}, Shape({})),
        ({"a": Field(int, default_value=1)}, Shape({"a": Field(Int, default_value=1)})),
        (typing.Optional[int], Noneable(Int)),  # noqa: UP045 - the typing spelling is the point
        (int | None, Noneable(Int)),
        (None | str, Noneable(String)),
        (typing.Union[int, None], Noneable(Int)),  # noqa: UP007 - the typing spelling is the point
        (list[int], Array(Int)),
        (typing.List[int], Array(Int)),  # noqa: UP006 - the typing spelling is the point
        (typing.List, Array(Any)),  # noqa: UP006 - the typing spelling is the point
        (list[int] | None, Noneable(Array(Int))),
        (dict[str, typing.Any], Permissive()),
        (dict[str, object], Permissive()),
        (typing.Dict, Permissive()),  # noqa: UP006 - the typing spelling is the point
        (Size, Enum.from_python_enum(Size)),
        (Int, Int),
        (SELECTOR, SELECTOR),
        (Field(int, default_value=3), Int),
    ],
    ids=[
        "int",
        "float",
        "str",
        "bool",
        "typing-any",
        "object",
        "list",
        "dict",
        "list-of-int",
        "list-of-list",
        "list-of-dict",
        "nested-dict",
        "empty-dict",
        "dict-with-field",
        "optional",
        "pipe-none",
        "none-pipe",
        "union-none",
        "list-generic",
        "typing-list",
        "bare-typing-list",
        "optional-list",
        "dict-str-any",
        "dict-str-object",
        "bare-typing-dict",
        "python-enum",
        "config-type",
        "selector-instance",
        "top-field",
    ],
)
def test_normalize_accepts(schema: object, expected: ConfigType) -> None:
    assert normalize_schema(schema) == expected


def test_normalize_none_means_no_config() -> None:
    assert normalize_schema(None) is None


def test_config_type_instances_pass_through_unchanged() -> None:
    shape = Shape({"a": int})
    assert normalize_schema(shape) is shape
    assert normalize_schema(int) is Int


def test_as_field_keeps_a_top_level_field() -> None:
    field = Field(int, default_value=3)
    assert as_field(field) is field
    assert as_field({"a": int}) == Field(Shape({"a": Int}))
    assert as_field(int).is_required


def test_as_field_rejects_none() -> None:
    with pytest.raises(ConfigSchemaError, match=r"config_schema: None is not a config type"):
        as_field(None)


FIX = (
    r"Fix: use a python type such as int or str, a dict of types, \[type\] for a list, "
    r"or Field\(type, default_value=\.\.\.\)\."
)


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (3, r"config_schema: 3 is not a config type"),
        ("abc", r"config_schema: 'abc' is not a config type"),
        (
            [],
            r"config_schema: a list schema needs exactly one element, the item type "
            r"\(e\.g\. \[int\]\), got 0 elements",
        ),
        (
            [int, str],
            r"config_schema: a list schema needs exactly one element, the item type "
            r"\(e\.g\. \[int\]\), got 2 elements",
        ),
        (
            {1: int},
            r"config_schema\[1\]: field name 1 \(int\) is not a string; field names "
            r"must be strings",
        ),
        (datetime.date, r"config_schema: class datetime\.date is not a config type"),
        (
            {"a": None},
            r"config_schema\['a'\]: None is not a config type; use Any for any value "
            r"or Noneable\(type\) to allow None",
        ),
        (
            [Field(int)],
            r"config_schema\[0\]: Field\(Int, is_required=True\) is only allowed as "
            r"a dict value or as the whole schema; write the bare type here",
        ),
        (
            int | str,
            r"config_schema: union int \| str is not a config type; only T \| None "
            r"\(Noneable\) is supported, use Any or a Selector for alternatives",
        ),
        (
            dict[str, int],
            r"config_schema: dict\[str, int\] is not a config type; use dict for "
            r"a dict of any values, or \{\"name\": type, \.\.\.\} for named fields",
        ),
        (typing.Literal["a"], r"config_schema: typing\.Literal\['a'\] is not a config type"),
        (Int.validate, r"config_schema: <bound method IntType\.validate of Int> is not a"),
    ],
    ids=[
        "int-value",
        "str-value",
        "empty-list",
        "two-element-list",
        "int-key",
        "unknown-class",
        "none-value",
        "field-in-list",
        "union",
        "typed-dict",
        "literal",
        "function",
    ],
)
def test_normalize_rejects(schema: object, problem: str) -> None:
    with pytest.raises(
        ConfigSchemaError, match=rf"Config schema is invalid \(1 problem\):\n  - {problem}"
    ) as info:
        normalize_schema(schema)
    assert str(info.value).endswith(
        "Fix: use a python type such as int or str, a dict of types, [type] for a list, "
        "or Field(type, default_value=...)."
    )


def test_normalize_reports_every_offender_with_its_path() -> None:
    schema = {
        "nested": {"x": 3, "ok": int, "deeper": {"y": "abc"}},
        "sizes": [int, str],
        7: str,
        "items": [{"z": 1.5}],
        "good": [int],
    }
    with pytest.raises(ConfigSchemaError, match=r"\(5 problems\)") as info:
        normalize_schema(schema)
    assert str(info.value).splitlines()[1:6] == [
        "  - config_schema['nested']['x']: 3 is not a config type",
        "  - config_schema['nested']['deeper']['y']: 'abc' is not a config type",
        "  - config_schema['sizes']: a list schema needs exactly one element, the item type "
        "(e.g. [int]), got 2 elements",
        "  - config_schema[7]: field name 7 (int) is not a string; field names must be strings",
        "  - config_schema['items'][0]['z']: 1.5 is not a config type",
    ]


def test_where_names_the_schema_in_errors() -> None:
    with pytest.raises(ConfigSchemaError, match=r"config_schema of op 'emit'\['x'\]: 3 is not"):
        normalize_schema({"x": 3}, where="config_schema of op 'emit'")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Array(3), r"Array item type: 3 is not a config type"),
        (lambda: Array(None), r"Array item type: None is not a config type"),
        (lambda: Noneable("x"), r"Noneable inner type: 'x' is not a config type"),
        (lambda: Shape({"a": 3, "b": [1, 2]}), r"\(2 problems\):\n  - Shape fields\['a'\]: 3 "),
        (lambda: Permissive({"a": 3}), r"Permissive fields\['a'\]: 3 is not a config type"),
        (lambda: Selector({"a": 3}), r"Selector fields\['a'\]: 3 is not a config type"),
    ],
    ids=["array", "array-none", "noneable", "shape", "permissive", "selector"],
)
def test_type_constructors_reject_bad_schemas(
    build: typing.Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigSchemaError, match=message):
        build()


def test_schema_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        normalize_schema(3)
