"""explain: every reason an output must be recomputed, with its exact wording."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow.versioning import NEVER_RUN, OUTPUT_MISSING, VALUE_SOURCE, VersionParts, explain

OLD_OP = "a1b2c3" + "0" * 34
NEW_OP = "d4e5f6" + "0" * 34


def _parts(**overrides: Any) -> VersionParts:
    arguments: dict[str, Any] = {
        "op_version": OLD_OP,
        "output_name": "result",
        "config": (("tree_species", "f1"), ("x", "f2")),
        "resources": {"db": "r1"},
        "inputs": {"tree": ("emit_tree.result", "u1"), "n": (VALUE_SOURCE, "v1")},
    }
    arguments.update(overrides)
    return VersionParts.build(**arguments)


def test_constants() -> None:
    assert NEVER_RUN == "never run"
    assert OUTPUT_MISSING == "output missing"


def test_nothing_changed() -> None:
    assert explain(_parts(), _parts()) == []


def test_never_run() -> None:
    assert explain(None, _parts()) == ["never run"]
    assert explain(None, _parts(resources={"db": "r1", "log": None})) == [
        "never run",
        "resource 'log' has no version and is not memoized",
    ]


def test_code_changed_shows_six_characters() -> None:
    assert explain(_parts(), _parts(op_version=NEW_OP)) == [
        "code changed (op version a1b2c3 → d4e5f6)"
    ]
    assert explain(_parts(op_version="1"), _parts(op_version="2")) == [
        "code changed (op version 1 → 2)"
    ]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ((("tree_species", "f9"), ("x", "f2")), "config key 'tree_species' changed"),
        ((("tree_species", "f1"), ("x", "f2"), ("y", "f3")), "config key 'y' added"),
        ((("tree_species", "f1"),), "config key 'x' removed"),
    ],
    ids=["changed", "added", "removed"],
)
def test_config_reasons(config: tuple[tuple[str, str], ...], reason: str) -> None:
    assert explain(_parts(), _parts(config=config)) == [reason]


def test_non_dict_config_reasons() -> None:
    before, after = _parts(config=(("", "c1"),)), _parts(config=(("", "c2"),))
    assert explain(before, after) == ["config changed"]
    assert explain(_parts(config=()), before) == ["config added"]


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        (
            {"tree": ("emit_tree.result", "u2"), "n": (VALUE_SOURCE, "v1")},
            "upstream 'emit_tree.result' changed",
        ),
        (
            {"tree": ("emit_tree.result", "u1"), "n": (VALUE_SOURCE, "v2")},
            "input 'n' value changed",
        ),
        (
            {"tree": ("emit_tree.result", "u1"), "n": ("a.result", "v1")},
            "input 'n' now comes from upstream 'a.result'",
        ),
        (
            {"tree": (VALUE_SOURCE, "u1"), "n": (VALUE_SOURCE, "v1")},
            "input 'tree' is now given as a value",
        ),
        ({"tree": ("emit_tree.result", "u1")}, "input 'n' removed"),
        (
            {"tree": ("emit_tree.result", "u1"), "n": (VALUE_SOURCE, "v1"), "m": ("b.out", "w")},
            "input 'm' added",
        ),
    ],
    ids=["upstream", "value", "to-upstream", "to-value", "removed", "added"],
)
def test_input_reasons(inputs: dict[str, tuple[str, str]], reason: str) -> None:
    assert explain(_parts(), _parts(inputs=inputs)) == [reason]


@pytest.mark.parametrize(
    ("resources", "reasons"),
    [
        ({"db": "r2"}, ["resource 'db' changed"]),
        ({"db": "r1", "cache": "c1"}, ["resource 'cache' added"]),
        ({}, ["resource 'db' removed"]),
        ({"db": None}, ["resource 'db' has no version and is not memoized"]),
        (
            {"db": "r1", "log": None},
            ["resource 'log' added", "resource 'log' has no version and is not memoized"],
        ),
    ],
    ids=["changed", "added", "removed", "now-unversioned", "unversioned-added"],
)
def test_resource_reasons(resources: dict[str, str | None], reasons: list[str]) -> None:
    assert explain(_parts(), _parts(resources=resources)) == reasons


def test_resource_gaining_a_version_counts_as_changed() -> None:
    before = _parts(resources={"db": None})
    assert explain(before, _parts()) == ["resource 'db' changed"]


def test_unversioned_resource_is_listed_even_when_nothing_changed() -> None:
    parts = _parts(resources={"db": "r1", "log": None})
    assert explain(parts, parts) == ["resource 'log' has no version and is not memoized"]


def test_output_name_changed() -> None:
    assert explain(_parts(), _parts(output_name="other")) == [
        "output name changed ('result' → 'other')"
    ]


def test_several_reasons_in_a_fixed_order() -> None:
    current = _parts(
        op_version=NEW_OP,
        config=(("tree_species", "f9"),),
        resources={"db": "r2", "log": None},
        inputs={"tree": ("emit_tree.result", "u2"), "n": (VALUE_SOURCE, "v2")},
    )
    assert explain(_parts(), current) == [
        "code changed (op version a1b2c3 → d4e5f6)",
        "config key 'tree_species' changed",
        "config key 'x' removed",
        "input 'n' value changed",
        "upstream 'emit_tree.result' changed",
        "resource 'db' changed",
        "resource 'log' added",
        "resource 'log' has no version and is not memoized",
    ]


def test_explain_is_empty_exactly_when_versions_match() -> None:
    variants = [
        _parts(),
        _parts(op_version="x"),
        _parts(config=()),
        _parts(resources={}),
        _parts(inputs={}),
        _parts(output_name="o"),
    ]
    for before in variants:
        for after in variants:
            assert (explain(before, after) == []) == (before.version == after.version)
