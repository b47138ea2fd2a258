"""VersionParts: what goes into an output version, manifests, config fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest

from nbflow.errors import UnversionableValueError, VersioningError
from nbflow.versioning import (
    OUTPUT_VERSION_FORMAT,
    VALUE_SOURCE,
    VersionParts,
    config_fingerprints,
    fingerprint,
)


def _parts(**overrides: Any) -> VersionParts:
    arguments: dict[str, Any] = {
        "op_version": "1",
        "output_name": "result",
        "config": config_fingerprints({"tree_species": "oak", "n": 3}),
        "resources": {"db": "v1", "log": None},
        "inputs": {"tree": ("emit_tree.result", "a" * 40), "n": (VALUE_SOURCE, fingerprint(3))},
    }
    arguments.update(overrides)
    return VersionParts.build(**arguments)


def test_build_sorts_and_splits_resources() -> None:
    parts = _parts(resources={"z": "2", "log": None, "a": "1", "cache": None})
    assert parts.resources == (("a", "1"), ("z", "2"))
    assert parts.unversioned_resources == ("cache", "log")
    assert [name for name, _, _ in parts.inputs] == ["n", "tree"]
    assert [key for key, _ in parts.config] == ["n", "tree_species"]


def test_version_format_and_determinism() -> None:
    parts = _parts()
    assert len(parts.version) == 40
    assert set(parts.version) <= set("0123456789abcdef")
    assert _parts().version == parts.version


def test_order_of_given_entries_does_not_matter() -> None:
    forward = _parts(resources={"a": "1", "b": "2"})
    backward = _parts(resources={"b": "2", "a": "1"})
    assert forward == backward
    assert forward.version == backward.version


@pytest.mark.parametrize(
    "overrides",
    [
        {"op_version": "2"},
        {"output_name": "other"},
        {"config": config_fingerprints({"tree_species": "elm", "n": 3})},
        {"config": config_fingerprints({"tree_species": "oak"})},
        {"resources": {"db": "v2", "log": None}},
        {"resources": {"log": None}},
        {"inputs": {"tree": ("emit_tree.result", "b" * 40), "n": (VALUE_SOURCE, fingerprint(3))}},
        {"inputs": {"tree": ("other.result", "a" * 40), "n": (VALUE_SOURCE, fingerprint(3))}},
        {"inputs": {"tree": ("emit_tree.result", "a" * 40), "n": (VALUE_SOURCE, fingerprint(4))}},
        {"inputs": {"tree": ("emit_tree.result", "a" * 40)}},
    ],
    ids=[
        "op",
        "output",
        "config-value",
        "config-key",
        "resource",
        "resource-gone",
        "upstream",
        "source",
        "input-value",
        "input-gone",
    ],
)
def test_every_part_changes_the_version(overrides: dict[str, Any]) -> None:
    assert _parts(**overrides).version != _parts().version


def test_unversioned_resources_are_left_out_of_the_version() -> None:
    assert _parts(resources={"db": "v1"}).version == _parts().version
    assert _parts(resources={"db": "v1", "x": None, "y": None}).version == _parts().version


def test_flattening_is_unambiguous() -> None:
    # a config key that looks like a field label cannot shift entries between fields
    left = VersionParts("1", (("resources", "x"),), (), (), (), "result")
    right = VersionParts("1", (), (("x", "resources"),), (), (), "result")
    assert left.version != right.version


def test_version_is_derived_not_compared() -> None:
    parts = _parts()
    with pytest.raises(AttributeError):
        parts.version = "x"  # type: ignore[misc]
    assert replace(parts, op_version="2").version == _parts(op_version="2").version


def test_manifest_round_trips_through_json() -> None:
    parts = _parts()
    manifest = json.loads(json.dumps(parts.to_manifest()))
    assert manifest["format"] == OUTPUT_VERSION_FORMAT
    assert manifest["version"] == parts.version
    assert manifest["unversioned_resources"] == ["log"]
    assert manifest["inputs"]["tree"] == {"source": "emit_tree.result", "version": "a" * 40}
    restored = VersionParts.from_manifest(manifest)
    assert restored == parts
    assert restored.version == parts.version


def test_manifest_of_another_format_is_refused() -> None:
    manifest = {**_parts().to_manifest(), "format": "nbflow.output.v0"}
    with pytest.raises(VersioningError, match=r"has format 'nbflow\.output\.v0'"):
        VersionParts.from_manifest(manifest)


def test_altered_manifest_is_refused() -> None:
    manifest = _parts().to_manifest()
    manifest["op_version"] = "2"
    with pytest.raises(VersioningError, match="it was altered or is corrupt"):
        VersionParts.from_manifest(manifest)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("inputs"),
        lambda m: m.update(config=["not", "a", "dict"]),
        lambda m: m.update(op_version=1),
        lambda m: m["inputs"]["tree"].pop("source"),
    ],
    ids=["missing-field", "wrong-shape", "wrong-type", "missing-nested"],
)
def test_malformed_manifest_is_refused(damage: Any) -> None:
    manifest = _parts().to_manifest()
    damage(manifest)
    with pytest.raises(VersioningError, match="Version manifest is malformed"):
        VersionParts.from_manifest(manifest)


def test_config_fingerprints_per_top_level_key() -> None:
    config = {"tree_species": "oak", "sizes": [1, 2], "nested": {"b": 1, "a": 2}}
    entries = config_fingerprints(config)
    assert [key for key, _ in entries] == ["nested", "sizes", "tree_species"]
    assert dict(entries)["tree_species"] == fingerprint("oak")
    assert config_fingerprints(dict(reversed(list(config.items())))) == entries
    assert config_fingerprints(MappingProxyType(config)) == entries


def test_config_fingerprints_non_dict_and_none() -> None:
    assert config_fingerprints(None) == ()
    assert config_fingerprints(5) == (("", fingerprint(5)),)
    assert config_fingerprints({}) == ()


def test_config_fingerprints_errors_name_the_key() -> None:
    with pytest.raises(UnversionableValueError, match=r"Cannot fingerprint config\['db'\]\[0\]"):
        config_fingerprints({"db": [object()]})
    with pytest.raises(UnversionableValueError, match="top-level config keys must be str"):
        config_fingerprints({1: "a"})
