"""Version strategies with duck-typed definitions, and version validation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nbflow.errors import InvalidVersionError, VersioningError
from nbflow.versioning import (
    OpVersionContext,
    ResourceVersionContext,
    SourceHashVersionStrategy,
    VersionStrategy,
    source_version,
    validate_version,
)
from nbflow.versioning.code_walk import code_record


def emit_tree() -> str:
    return "oak"


def database() -> dict[str, str]:
    return {}


def test_source_hash_strategy_versions_ops_by_compute_fn() -> None:
    op_def = SimpleNamespace(name="emit_tree", compute_fn=emit_tree)
    context = OpVersionContext(op_def, {"n": 1})
    version = SourceHashVersionStrategy().get_op_version(context)
    assert version == code_record(emit_tree).version
    assert validate_version("Op 'emit_tree'", version) == version
    assert SourceHashVersionStrategy().describe_op_version(context) == code_record(emit_tree)
    immediate = SourceHashVersionStrategy(follow="immediate")
    assert immediate.get_op_version(context) == source_version(emit_tree)
    assert immediate.describe_op_version(context) is None


def test_source_hash_strategy_versions_resources_by_resource_fn() -> None:
    resource_def = SimpleNamespace(resource_fn=database)
    context = ResourceVersionContext(resource_def, None)
    assert SourceHashVersionStrategy().get_resource_version(context) == (
        code_record(database).version
    )
    immediate = SourceHashVersionStrategy(follow="immediate")
    assert immediate.get_resource_version(context) == source_version(database)


def test_source_hash_strategy_follow_option() -> None:
    assert repr(SourceHashVersionStrategy()) == "SourceHashVersionStrategy()"
    assert repr(SourceHashVersionStrategy(follow="immediate")) == (
        "SourceHashVersionStrategy(follow='immediate')"
    )
    with pytest.raises(VersioningError, match=r"follow='deep'\) is not an option"):
        SourceHashVersionStrategy(follow="deep")


def test_custom_strategies_describe_nothing_by_default() -> None:
    class Fixed(VersionStrategy):
        def get_op_version(self, context: OpVersionContext) -> str:
            return "1"

    assert Fixed().describe_op_version(OpVersionContext(None, None)) is None


def test_source_hash_strategy_needs_the_function_attribute() -> None:
    with pytest.raises(VersioningError, match="it has no callable 'compute_fn'"):
        SourceHashVersionStrategy().get_op_version(OpVersionContext(SimpleNamespace(), None))
    with pytest.raises(VersioningError, match="it has no callable 'resource_fn'"):
        SourceHashVersionStrategy().get_resource_version(
            ResourceVersionContext(SimpleNamespace(resource_fn=None), None)
        )


def test_custom_strategy_resources_default_to_unversioned() -> None:
    class ConfigStrategy(VersionStrategy):
        def get_op_version(self, context: OpVersionContext) -> str:
            return f"{context.op_def.name}_{context.op_config['n']}"

    strategy = ConfigStrategy()
    op_def = SimpleNamespace(name="emit_tree")
    assert strategy.get_op_version(OpVersionContext(op_def, {"n": 3})) == "emit_tree_3"
    assert strategy.get_resource_version(ResourceVersionContext(object(), None)) is None


def test_version_strategy_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        VersionStrategy()  # type: ignore[abstract]


def test_contexts_are_frozen() -> None:
    context = OpVersionContext(op_def=None, op_config={"a": 1})
    with pytest.raises(AttributeError):
        context.op_config = {}  # type: ignore[misc]
    assert context == OpVersionContext(None, {"a": 1})


@pytest.mark.parametrize("version", ["1", "v2", "2024_06_01", "A_b_9", "_"])
def test_validate_version_accepts(version: str) -> None:
    assert validate_version("Op 'a'", version) == version


@pytest.mark.parametrize(
    "version",
    ["", "a b", "v-1", "1.0", "é", "v1\n", None, 1, b"v1"],
    ids=["empty", "space", "dash", "dot", "non-ascii", "newline", "none", "int", "bytes"],
)
def test_validate_version_rejects(version: object) -> None:
    with pytest.raises(InvalidVersionError) as info:
        validate_version("Op 'emit_tree'", version)
    assert str(info.value) == (
        f"Op 'emit_tree' has version {version!r}, but versions must be non-empty strings of "
        'letters, digits and underscores.\nFix: pass a version such as "v2" or "2024_06_01".'
    )


def test_validate_version_pinned_message() -> None:
    with pytest.raises(
        InvalidVersionError,
        match=r"^Resource 'db' has version 'v-1', but versions must be non-empty strings",
    ):
        validate_version("Resource 'db'", "v-1")


def test_validate_version_returns_plain_str() -> None:
    class Tag(str):
        pass

    result = validate_version("Op 'a'", Tag("v1"))
    assert type(result) is str
