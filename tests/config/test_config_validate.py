"""Tests for nbflow.config.validate: whole-config validation, error reports."""

from __future__ import annotations

import pytest

from nbflow.config import (
    Field,
    Noneable,
    Shape,
    resolve_config,
    validate_config,
)
from nbflow.errors import NbflowError, RunConfigValidationError

RUN_CONFIG = Shape(
    {
        "ops": {
            "emit_dog": {"config": {"dog_breed": str, "count": Field(int, default_value=1)}},
            "walk": {"config": {"minutes": Field(float, default_value=10)}},
        },
        "resources": Field({"db": {"config": {"url": Noneable(str)}}}, is_required=False),
    }
)


def test_validate_config_returns_resolved_config() -> None:
    resolved = validate_config(RUN_CONFIG, {"ops": {"emit_dog": {"config": {"dog_breed": "pug"}}}})
    assert resolved == {
        "ops": {
            "emit_dog": {"config": {"dog_breed": "pug", "count": 1}},
            "walk": {"config": {"minutes": 10.0}},
        },
        "resources": {"db": {"config": {"url": None}}},
    }


def test_three_different_problems_are_all_reported_with_paths() -> None:
    config = {
        "ops": {
            "emit_dog": {"config": {"dog_bread": "pug"}},
            "walk": {"config": {"minutes": True}},
        }
    }
    with pytest.raises(RunConfigValidationError, match=r"\(3 problems\)") as info:
        validate_config(RUN_CONFIG, config, target="job 'dogs'")
    assert info.value.problems == [
        "root:ops:emit_dog:config: missing required field 'dog_breed' (String)",
        "root:ops:emit_dog:config: unknown field 'dog_bread'. Did you mean 'dog_breed'?",
        "root:ops:walk:config:minutes: expected Float, got True (bool)",
    ]
    assert str(info.value) == (
        "Run config for job 'dogs' is invalid (3 problems):\n"
        "  - root:ops:emit_dog:config: missing required field 'dog_breed' (String)\n"
        "  - root:ops:emit_dog:config: unknown field 'dog_bread'. Did you mean 'dog_breed'?\n"
        "  - root:ops:walk:config:minutes: expected Float, got True (bool)\n"
        "Fix the values at the paths above; nothing was run."
    )


def test_single_wrong_type_message() -> None:
    with pytest.raises(
        RunConfigValidationError,
        match=r"Run config for the run is invalid \(1 problem\):\n"
        r"  - root:ops:emit_dog:config:dog_breed: expected String, got 3 \(int\)\n",
    ):
        validate_config(RUN_CONFIG, {"ops": {"emit_dog": {"config": {"dog_breed": 3}}}})


def test_root_prefixes_every_path() -> None:
    schema = Shape({"n": int})
    with pytest.raises(RunConfigValidationError, match=r"  - root:ops:x:config:n: expected Int"):
        validate_config(schema, {"n": "a"}, root=("root", "ops", "x", "config"))


def test_resolve_config_collects_without_raising() -> None:
    resolved, problems = resolve_config(Shape({"n": int}), {"n": 1})
    assert (resolved, problems) == ({"n": 1}, [])
    _, problems = resolve_config(Shape({"n": int}), {}, root=("resources", "db"))
    assert problems == ["resources:db: missing required field 'n' (Int)"]


def test_validation_error_is_an_nbflow_value_error() -> None:
    with pytest.raises(NbflowError):
        validate_config(Shape({"n": int}), {})
    with pytest.raises(ValueError):
        validate_config(Shape({"n": int}), {})


def test_validation_does_not_change_the_given_config() -> None:
    config: dict[str, object] = {"ops": {"emit_dog": {"config": {"dog_breed": "pug"}}}}
    validate_config(RUN_CONFIG, config)
    assert config == {"ops": {"emit_dog": {"config": {"dog_breed": "pug"}}}}


def test_empty_ops_resolves_to_the_full_defaulted_structure() -> None:
    schema = Shape(
        {"ops": {f"op{i}": {"config": {"a": Field(int, default_value=i)}} for i in range(3)}}
    )
    assert validate_config(schema, {"ops": {}}) == {
        "ops": {f"op{i}": {"config": {"a": i}} for i in range(3)}
    }
    assert validate_config(schema, None) == validate_config(schema, {"ops": None})


def test_500_op_configs_validate_and_fill_defaults() -> None:
    schema = Shape(
        {
            f"op{i}": {
                "config": {
                    "a": Field(int, default_value=1),
                    "b": Field(str, default_value="x"),
                    "c": Noneable(float),
                }
            }
            for i in range(500)
        }
    )
    given = {f"op{i}": {"config": {"a": i, "b": "y", "c": 1.5}} for i in range(500)}
    assert resolve_config(schema, given) == (given, [])
    filled, errors = resolve_config(schema, {})
    assert errors == []
    assert filled["op499"] == {"config": {"a": 1, "b": "x", "c": None}}
