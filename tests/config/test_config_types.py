"""Tests for nbflow.config.types: every type accepting, resolving and rejecting values."""

from __future__ import annotations

import enum
from types import MappingProxyType

import pytest

from nbflow.config import (
    Any,
    Array,
    Bool,
    ConfigType,
    Enum,
    EnumValue,
    Field,
    Float,
    Int,
    Noneable,
    Permissive,
    Selector,
    Shape,
    String,
    resolve_config,
)
from nbflow.errors import ConfigSchemaError


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def check(config_type: ConfigType, value: object) -> tuple[object, list[str]]:
    return resolve_config(config_type, value)


# --- scalars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config_type", "value", "resolved"),
    [
        (Int, 3, 3),
        (Int, -(10**30), -(10**30)),
        (Float, 1.5, 1.5),
        (Float, 2, 2.0),
        (String, "", ""),
        (String, "abc", "abc"),
        (Bool, True, True),
        (Bool, False, False),
        (Any, None, None),
        (Any, {"x": [1]}, {"x": [1]}),
    ],
    ids=[
        "int",
        "big-int",
        "float",
        "float-from-int",
        "empty-str",
        "str",
        "true",
        "false",
        "any-none",
        "any-dict",
    ],
)
def test_scalar_accepts(config_type: ConfigType, value: object, resolved: object) -> None:
    assert check(config_type, value) == (resolved, [])


def test_float_resolves_int_as_float() -> None:
    resolved, _ = check(Float, 2)
    assert type(resolved) is float


@pytest.mark.parametrize(
    ("config_type", "value", "problem"),
    [
        (Int, True, "root: expected Int, got True (bool)"),
        (Int, 1.0, "root: expected Int, got 1.0 (float)"),
        (Int, "3", "root: expected Int, got '3' (str)"),
        (Int, None, "root: expected Int, got None"),
        (Float, False, "root: expected Float, got False (bool)"),
        (Float, "1.5", "root: expected Float, got '1.5' (str)"),
        (String, 3, "root: expected String, got 3 (int)"),
        (String, b"x", "root: expected String, got b'x' (bytes)"),
        (Bool, 1, "root: expected Bool, got 1 (int)"),
        (Bool, "true", "root: expected Bool, got 'true' (str)"),
    ],
    ids=[
        "int-bool",
        "int-float",
        "int-str",
        "int-none",
        "float-bool",
        "float-str",
        "str-int",
        "str-bytes",
        "bool-int",
        "bool-str",
    ],
)
def test_scalar_rejects(config_type: ConfigType, value: object, problem: str) -> None:
    assert check(config_type, value)[1] == [problem]


def test_long_values_are_clipped_in_problems() -> None:
    _, problems = check(Int, "x" * 500)
    assert problems == [f"root: expected Int, got '{'x' * 58}… (str)"]


# --- Array and Noneable ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "resolved"),
    [([], []), ([1, 2], [1, 2]), ((1, 2), [1, 2])],
    ids=["empty", "list", "tuple"],
)
def test_array_accepts(value: object, resolved: object) -> None:
    assert check(Array(Int), value) == (resolved, [])


def test_array_reports_every_bad_item_with_its_index() -> None:
    _, problems = check(Array(Int), [1, "a", 3, True])
    assert problems == [
        "root[1]: expected Int, got 'a' (str)",
        "root[3]: expected Int, got True (bool)",
    ]


@pytest.mark.parametrize("value", ["abc", {"a": 1}, 3, None], ids=["str", "dict", "int", "none"])
def test_array_rejects_non_lists(value: object) -> None:
    problems = check(Array(Int), value)[1]
    assert len(problems) == 1
    assert problems[0].startswith("root: expected [Int], got ")


def test_array_of_shapes_fills_defaults_per_item() -> None:
    array = Array({"a": Field(int, default_value=1), "b": str})
    assert check(array, [{"b": "x"}, {"a": 2, "b": "y"}]) == (
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
        [],
    )
    assert check(array, [{}, {"b": 1}])[1] == [
        "root[0]: missing required field 'b' (String)",
        "root[1]:b: expected String, got 1 (int)",
    ]


def test_array_exposes_inner_type() -> None:
    assert Array(int).inner_type is Int
    assert Array([str]).inner_type == Array(String)


@pytest.mark.parametrize(("value", "resolved"), [(None, None), (3, 3)], ids=["none", "value"])
def test_noneable_accepts(value: object, resolved: object) -> None:
    assert check(Noneable(int), value) == (resolved, [])


def test_noneable_rejects_wrong_inner_value() -> None:
    assert check(Noneable(int), "a")[1] == ["root: expected Int, got 'a' (str)"]
    assert Noneable(int).inner_type is Int


# --- Shape -----------------------------------------------------------------------------------


DOG = Shape(
    {"dog_breed": str, "age": Field(int, default_value=3), "nick": Field(str, is_required=False)}
)


def test_shape_accepts_and_fills_defaults() -> None:
    assert check(DOG, {"dog_breed": "pug"}) == ({"dog_breed": "pug", "age": 3}, [])
    assert check(DOG, {"dog_breed": "pug", "age": 5, "nick": "p"}) == (
        {"dog_breed": "pug", "age": 5, "nick": "p"},
        [],
    )


def test_shape_accepts_any_mapping() -> None:
    assert check(DOG, MappingProxyType({"dog_breed": "pug"}))[1] == []


def test_shape_missing_required_field() -> None:
    assert check(DOG, {}) == ({"age": 3}, ["root: missing required field 'dog_breed' (String)"])


def test_shape_unknown_field_with_did_you_mean() -> None:
    assert check(DOG, {"dog_breed": "pug", "dog_bread": "pug"})[1] == [
        "root: unknown field 'dog_bread'. Did you mean 'dog_breed'?"
    ]


def test_shape_unknown_field_lists_allowed_when_nothing_is_close() -> None:
    assert check(DOG, {"dog_breed": "pug", "zzz": 1})[1] == [
        "root: unknown field 'zzz'. Expected one of: 'dog_breed', 'age', 'nick'."
    ]


def test_shape_unknown_non_string_key() -> None:
    assert check(Shape({"a": int}), {"a": 1, 3: 1})[1] == [
        "root: unknown field 3. Expected one of: 'a'."
    ]


def test_empty_shape_says_no_fields_allowed() -> None:
    assert check(Shape({}), {"x": 1})[1] == ["root: unknown field 'x'. No fields are allowed here."]


def test_shape_treats_none_as_empty() -> None:
    assert check(Shape({"a": Field(int, default_value=1)}), None) == ({"a": 1}, [])


@pytest.mark.parametrize("value", [[1], "abc", 3], ids=["list", "str", "int"])
def test_shape_rejects_non_dicts(value: object) -> None:
    problems = check(Shape({"a": int}), value)[1]
    assert problems == [f"root: expected {{a: Int}}, got {value!r} ({type(value).__name__})"]


def test_shape_fills_nested_defaults_for_missing_all_optional_dicts() -> None:
    schema = Shape(
        {
            "ops": {
                "load": {"config": {"path": Field(str, default_value="a.csv")}},
                "save": {"config": {"n": Field(int, default_value=2), "tag": Noneable(str)}},
            }
        }
    )
    expected = {
        "ops": {
            "load": {"config": {"path": "a.csv"}},
            "save": {"config": {"n": 2, "tag": None}},
        }
    }
    assert check(schema, {"ops": {}}) == (expected, [])
    assert check(schema, {}) == (expected, [])
    assert check(schema, {"ops": None}) == (expected, [])


def test_shape_leaves_out_optional_field_without_default() -> None:
    schema = Shape({"a": Field(int, is_required=False), "b": Field({"x": int}, is_required=False)})
    assert check(schema, {}) == ({}, [])


def test_missing_noneable_field_resolves_to_none() -> None:
    assert check(Shape({"a": Noneable(int)}), {}) == ({"a": None}, [])


def test_required_noneable_must_be_given() -> None:
    schema = Shape({"a": Field(Noneable(int), is_required=True)})
    assert check(schema, {})[1] == ["root: missing required field 'a' (Noneable(Int))"]
    assert check(schema, {"a": None}) == ({"a": None}, [])


def test_shape_type_name_marks_optional_fields() -> None:
    assert DOG.type_name == "{dog_breed: String, age?: Int, nick?: String}"
    assert repr(DOG) == "Shape({dog_breed: String, age?: Int, nick?: String})"


def test_shape_fields_are_read_only_fields() -> None:
    assert list(DOG.fields) == ["dog_breed", "age", "nick"]
    assert DOG.fields["age"].default_value == 3
    with pytest.raises(TypeError):
        DOG.fields["x"] = Field(int)  # type: ignore[index]


def test_defaults_are_fresh_copies() -> None:
    schema = Shape({"tags": Field([str], default_value=["a"])})
    first = check(schema, {})[0]
    assert isinstance(first, dict)
    first["tags"].append("b")
    assert check(schema, {})[0] == {"tags": ["a"]}


# --- Permissive ------------------------------------------------------------------------------


def test_permissive_keeps_unknown_keys_and_checks_known_ones() -> None:
    schema = Permissive({"a": Field(int, default_value=1)})
    assert check(schema, {"b": [1], "c": None}) == ({"a": 1, "b": [1], "c": None}, [])
    assert check(schema, {"a": "x"})[1] == ["root:a: expected Int, got 'x' (str)"]


def test_empty_permissive_accepts_any_dict() -> None:
    assert check(Permissive(), {"x": 1}) == ({"x": 1}, [])
    assert check(Permissive(), None) == ({}, [])
    assert check(Permissive(), [1])[1] == ["root: expected Permissive(), got [1] (list)"]


def test_permissive_type_name() -> None:
    assert Permissive().type_name == "Permissive()"
    assert Permissive({"a": int}).type_name == "Permissive({a: Int})"


# --- Selector --------------------------------------------------------------------------------


EXECUTOR = Selector(
    {"in_process": {"retries": Field(int, default_value=0)}, "multiprocess": {"n": int}}
)


def test_selector_accepts_one_key_and_resolves_it() -> None:
    assert check(EXECUTOR, {"in_process": None}) == ({"in_process": {"retries": 0}}, [])
    assert check(EXECUTOR, {"multiprocess": {"n": 2}}) == ({"multiprocess": {"n": 2}}, [])


def test_selector_checks_the_chosen_value() -> None:
    assert check(EXECUTOR, {"multiprocess": {}})[1] == [
        "root:multiprocess: missing required field 'n' (Int)"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "root: expected exactly one of 'in_process', 'multiprocess', got none"),
        (None, "root: expected exactly one of 'in_process', 'multiprocess', got none"),
        (
            {"in_process": {}, "multiprocess": {}},
            "root: expected exactly one of 'in_process', 'multiprocess', "
            "got 2: 'in_process', 'multiprocess'",
        ),
        (
            {"in_proces": {}},
            "root: unknown field 'in_proces'. Did you mean 'in_process', 'multiprocess'?",
        ),
        (
            {"dask": {}},
            "root: unknown field 'dask'. Expected one of: 'in_process', 'multiprocess'.",
        ),
        (
            "in_process",
            "root: expected Selector({in_process?: {retries?: Int}, multiprocess: {n: I…, "
            "got 'in_process' (str)",
        ),
    ],
    ids=["empty", "none", "several", "misspelt", "unknown", "not-a-dict"],
)
def test_selector_rejects(value: object, problem: str) -> None:
    assert check(EXECUTOR, value)[1] == [problem]


def test_single_optional_choice_selector_defaults() -> None:
    selector = Selector({"in_process": {"retries": Field(int, default_value=0)}})
    assert selector.has_implicit_default
    assert check(selector, {}) == ({"in_process": {"retries": 0}}, [])
    assert check(Shape({"execution": selector}), {}) == (
        {"execution": {"in_process": {"retries": 0}}},
        [],
    )


def test_selector_needs_a_choice() -> None:
    with pytest.raises(ConfigSchemaError, match=r"Selector\(\{\}\) has no choices"):
        Selector({})


# --- Enum ------------------------------------------------------------------------------------


def test_enum_resolves_to_python_value() -> None:
    colors = Enum("Color", [EnumValue("RED", python_value=1), EnumValue("BLUE")])
    assert check(colors, "RED") == (1, [])
    assert check(colors, "BLUE") == ("BLUE", [])
    assert colors.type_name == "Color"
    assert [v.config_value for v in colors.values] == ["RED", "BLUE"]


def test_enum_from_python_enum() -> None:
    colors = Enum.from_python_enum(Color)
    assert check(colors, "BLUE") == (Color.BLUE, [])
    assert colors.values[0] == EnumValue("RED", python_value=Color.RED)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("GREEN", "root: expected one of 'RED', 'BLUE' (Enum Color), got 'GREEN'"),
        (
            "BLEU",
            "root: expected one of 'RED', 'BLUE' (Enum Color), got 'BLEU'. Did you mean 'BLUE'?",
        ),
        (1, "root: expected one of 'RED', 'BLUE' (Enum Color), got 1 (int)"),
        (Color.RED, "root: expected one of 'RED', 'BLUE' (Enum Color), got <Color.RED: 1> (Color)"),
    ],
    ids=["unknown", "misspelt", "int", "python-member"],
)
def test_enum_rejects(value: object, problem: str) -> None:
    assert check(Enum.from_python_enum(Color), value)[1] == [problem]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], r"Enum 'E' has no values"),
        (["A", "B", "A"], r"Enum 'E' repeats 'A'"),
    ],
    ids=["empty", "duplicate"],
)
def test_enum_rejects_bad_values(values: list[str], message: str) -> None:
    with pytest.raises(ConfigSchemaError, match=message):
        Enum("E", values)


def test_enum_value_must_be_a_string() -> None:
    with pytest.raises(ConfigSchemaError, match=r"EnumValue\(1\): config values must be strings"):
        EnumValue(1)  # type: ignore[arg-type]


# --- names and equality ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config_type", "name"),
    [
        (Int, "Int"),
        (Float, "Float"),
        (String, "String"),
        (Bool, "Bool"),
        (Any, "Any"),
        (Array(int), "[Int]"),
        (Array([int]), "[[Int]]"),
        (Noneable(int), "Noneable(Int)"),
        (Shape({"a": int}), "{a: Int}"),
        (Selector({"a": int, "b": str}), "Selector({a: Int, b: String})"),
        (Enum("Color", ["RED"]), "Color"),
    ],
    ids=[
        "int",
        "float",
        "string",
        "bool",
        "any",
        "array",
        "nested-array",
        "noneable",
        "shape",
        "selector",
        "enum",
    ],
)
def test_type_names(config_type: ConfigType, name: str) -> None:
    assert config_type.type_name == name


def test_structurally_equal_types_are_equal_and_hash_alike() -> None:
    assert Shape({"a": int, "b": [str]}) == Shape({"a": Int, "b": Array(String)})
    assert hash(Shape({"a": int})) == hash(Shape({"a": Int}))
    assert Shape({"a": int}) != Shape({"a": str})
    assert Shape({"a": int}) != Permissive({"a": int})
    assert Noneable(int) != Array(int)
    assert Enum("E", ["A"]) != Enum("E", ["B"])
    assert Int != 3


def test_reprs_read_like_constructors() -> None:
    assert repr(Array(int)) == "Array(Int)"
    assert repr(Enum("Color", ["RED", "BLUE"])) == "Enum('Color', ['RED', 'BLUE'])"
    assert Enum("Color", ["RED"]).name == "Color"


def test_missing_permissive_field_with_defaults_resolves_to_its_defaults() -> None:
    schema = Shape({"extra": Permissive({"a": Field(int, default_value=1)})})
    assert check(schema, {}) == ({"extra": {"a": 1}}, [])


def test_long_allowed_lists_are_cut() -> None:
    schema = Shape({f"field_{i}": Field(int, is_required=False) for i in range(25)})
    _, problems = check(schema, {"zzz": 1})
    assert problems[0].endswith("'field_19', … (5 more).")
