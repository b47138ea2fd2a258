"""Ops and resources called directly with built contexts: config, events, output metadata."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import Field, build_init_resource_context, build_op_context, op, resource
from nbflow.errors import RunConfigValidationError


@resource(config_schema={"url": str, "timeout": Field(int, default_value=5)})
def configured_db(init_context: Any) -> dict[str, Any]:
    return dict(init_context.resource_config)


@op(required_resource_keys={"db"})
def read_db(context: Any) -> dict[str, Any]:
    return dict(context.resources.db)


# --- resources_config -------------------------------------------------------------------------


def test_resources_config_in_run_config_shape_gets_defaults() -> None:
    context = build_op_context(
        resources={"db": configured_db}, resources_config={"db": {"config": {"url": "u"}}}
    )
    assert read_db(context) == {"url": "u", "timeout": 5}


def test_resources_config_given_bare_gets_defaults_too() -> None:
    context = build_op_context(
        resources={"db": configured_db}, resources_config={"db": {"url": "u"}}
    )
    assert read_db(context) == {"url": "u", "timeout": 5}


def test_bad_resources_config_is_rejected_by_build_op_context() -> None:
    with pytest.raises(RunConfigValidationError) as caught:
        build_op_context(
            resources={"db": configured_db}, resources_config={"db": {"config": {"timeout": "x"}}}
        )
    assert caught.value.problems == [
        "root:resources:db:config: missing required field 'url' (String)",
        "root:resources:db:config:timeout: expected Int, got 'x' (str)",
    ]


def test_resources_config_for_an_unknown_resource_is_rejected() -> None:
    with pytest.raises(RunConfigValidationError, match=r"root:resources:dbb: no resource 'dbb'"):
        build_op_context(resources={"db": configured_db}, resources_config={"dbb": {}})


def test_a_resource_schema_with_a_field_named_config_takes_it_bare() -> None:
    @resource(config_schema={"config": Field(str, default_value="d")})
    def nested(init_context: Any) -> Any:
        return init_context.resource_config

    context = build_op_context(resources={"db": nested}, resources_config={"db": {"config": "x"}})
    assert read_db(context) == {"config": "x"}


def test_a_resource_called_with_a_built_init_context_gets_defaults() -> None:
    assert configured_db(build_init_resource_context(config={"url": "u"})) == {
        "url": "u",
        "timeout": 5,
    }
    with pytest.raises(RunConfigValidationError, match=r"root:config:timeout: expected Int"):
        configured_db(build_init_resource_context(config={"url": "u", "timeout": "x"}))
