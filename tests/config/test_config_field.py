"""Tests for nbflow.config.field: Field defaults, required rules and schema errors."""

from __future__ import annotations

import copy
import pickle

import pytest

from nbflow.config import (
    NO_DEFAULT,
    Any,
    Array,
    Field,
    Int,
    Noneable,
    Permissive,
    Selector,
    Shape,
    String,
)
from nbflow.errors import ConfigSchemaError


def test_field_defaults_to_any_and_required() -> None:
    field = Field()
    assert field.config_type is Any
    assert field.default_value is NO_DEFAULT
    assert not field.has_default_value
    assert field.is_required
    assert field.description is None


def test_field_normalizes_its_type() -> None:
    field = Field({"a": [int]}, description="sizes")
    assert field.config_type == Shape({"a": Array(Int)})
    assert field.description == "sizes"


@pytest.mark.parametrize(
    ("field", "required"),
    [
        (Field(int), True),
        (Field(int, default_value=3), False),
        (Field(int, default_value=3, is_required=False), False),
        (Field(int, is_required=False), False),
        (Field(Noneable(int)), False),
        (Field(Noneable(int), is_required=True), True),
        (Field({"a": Field(int, default_value=1)}), False),
        (Field({"a": int}), True),
        (Field({"a": int}, is_required=False), False),
        (Field(Permissive()), False),
        (Field(Permissive({"a": int})), True),
        (Field(Shape({})), False),
        (Field(Selector({"x": {"a": Field(int, default_value=1)}})), False),
        (Field(Selector({"x": {}, "y": {}})), True),
        (Field(Any), True),
    ],
    ids=[
        "plain",
        "default",
        "default-explicit-optional",
        "explicit-optional",
        "noneable",
        "noneable-forced-required",
        "all-optional-shape",
        "required-shape",
        "shape-forced-optional",
        "permissive",
        "permissive-required-field",
        "empty-shape",
        "single-optional-selector",
        "two-choice-selector",
        "any",
    ],
)
def test_is_required_rules(field: Field, required: bool) -> None:
    assert field.is_required is required


def test_none_is_a_valid_default() -> None:
    field = Field(Noneable(str), default_value=None)
    assert field.has_default_value
    assert field.default_value is None
    assert field.missing_value() == (True, None)


def test_default_value_keeps_what_was_given_and_resolves_for_filling() -> None:
    field = Field(float, default_value=1)
    assert field.default_value == 1
    assert field.missing_value() == (True, 1.0)


def test_required_with_default_is_an_error() -> None:
    with pytest.raises(
        ConfigSchemaError,
        match=r"Field\(Int\) has is_required=True and default value 3, but a field with a "
        r"default is optional\.\nFix: drop is_required=True, or drop default_value\.",
    ):
        Field(int, default_value=3, is_required=True)


@pytest.mark.parametrize(
    ("config", "default", "problem"),
    [
        (str, 3, r"default_value: expected String, got 3 \(int\)"),
        (int, None, r"default_value: expected Int, got None"),
        ({"a": int}, {"b": 1}, r"default_value: missing required field 'a' \(Int\)"),
        ([int], [1, "x"], r"default_value\[1\]: expected Int, got 'x' \(str\)"),
    ],
    ids=["scalar", "none", "shape", "array-item"],
)
def test_default_must_fit_the_type(config: object, default: object, problem: str) -> None:
    with pytest.raises(
        ConfigSchemaError,
        match=r"has a default value that does not fit its type:\n"
        rf"  - {problem}",
    ):
        Field(config, default_value=default)


def test_field_of_field_is_an_error() -> None:
    with pytest.raises(ConfigSchemaError, match=r"a Field cannot wrap another Field"):
        Field(Field(int))


def test_field_of_none_is_an_error() -> None:
    with pytest.raises(ConfigSchemaError, match=r"Field type: None is not a config type"):
        Field(None)


def test_field_of_bad_schema_lists_every_offender() -> None:
    with pytest.raises(ConfigSchemaError, match=r"\(2 problems\)") as info:
        Field({"a": 3, "b": "x"})
    assert "Field type['a']: 3 is not a config type" in str(info.value)
    assert "Field type['b']: 'x' is not a config type" in str(info.value)


def test_field_equality_and_repr() -> None:
    assert Field(int, default_value=1) == Field(Int, default_value=1)
    assert Field(int, default_value=1) != Field(int, default_value=2)
    assert Field(int) != Field(int, is_required=False)
    assert Field(int) != Field(String)
    assert hash(Field(int, default_value=1)) == hash(Field(Int, default_value=1))
    assert repr(Field(int, default_value=1, description="n")) == (
        "Field(Int, default_value=1, is_required=False, description='n')"
    )


def test_missing_value_of_dict_default_is_a_fresh_copy() -> None:
    field = Field(Any, default_value={"a": [1]})
    found, value = field.missing_value()
    assert found
    assert isinstance(value, dict)
    value["a"].append(2)
    assert field.missing_value() == (True, {"a": [1]})


def test_no_default_is_a_singleton() -> None:
    assert repr(NO_DEFAULT) == "NO_DEFAULT"
    assert copy.deepcopy(NO_DEFAULT) is NO_DEFAULT
    assert pickle.loads(pickle.dumps(NO_DEFAULT)) is NO_DEFAULT
    assert type(NO_DEFAULT)() is NO_DEFAULT


def test_field_is_not_equal_to_other_objects() -> None:
    field = Field(int)
    assert field == field
    assert field != Int
    assert field != "Field(Int)"
