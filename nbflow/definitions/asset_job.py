"""Asset jobs: a set of assets turned into a job, and the layer mapping steps to asset keys."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.dependency import DependencyDefinition, NodeInvocation
from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.source_asset import SourceAsset
from nbflow.errors import InvalidDefinitionError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence, Set

    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.partitions import PartitionsDefinition
    from nbflow.definitions.resource import ResourceDefinition


MATERIALIZE_JOB_NAME = "materialize"
"""The name of the job that ``materialize`` and ``materialize_to_memory`` build for their assets."""


@dataclass(frozen=True)
class AssetLayer:
    """Which asset each step produces, and which source asset feeds which input."""

    keys_by_node: Mapping[str, AssetKey]
    sources_by_input: Mapping[tuple[str, str], SourceAsset]

    def asset_key_for(self, step_key: str) -> AssetKey | None:
        return self.keys_by_node.get(step_key)

    def source_for(self, step_key: str, input_name: str) -> SourceAsset | None:
        return self.sources_by_input.get((step_key, input_name))

    def node_for(self, key: AssetKey) -> str | None:
        return self._nodes_by_key.get(key)

    @cached_property
    def _nodes_by_key(self) -> dict[AssetKey, str]:
        found: dict[AssetKey, str] = {}
        for node, key in self.keys_by_node.items():
            found.setdefault(key, node)
        return found


def split_assets(
    assets: Iterable[AssetsDefinition | SourceAsset],
) -> tuple[list[AssetsDefinition], list[SourceAsset]]:
    """Separate computed assets from source assets, refusing anything else."""
    computed: list[AssetsDefinition] = []
    sources: list[SourceAsset] = []
    for item in assets:
        if isinstance(item, AssetsDefinition):
            computed.append(item)
        elif isinstance(item, SourceAsset):
            sources.append(item)
        else:
            raise InvalidDefinitionError(
                f"{item!r} is not an asset. Expected @asset functions or SourceAsset objects."
            )
    return computed, sources


def merged_resource_defs(
    assets: Sequence[AssetsDefinition], given: Mapping[str, ResourceDefinition]
) -> dict[str, ResourceDefinition]:
    """Resources the assets bring, plus ``given``; the same key defined twice is an error."""
    merged: dict[str, ResourceDefinition] = {}
    owners: dict[str, str] = {}
    problems: list[str] = []
    for item in assets:
        for key, definition in item.resource_defs.items():
            if key in merged and merged[key] is not definition:
                problems.append(
                    f"resource {key!r} is defined by asset {owners[key]!r} and by asset "
                    f"{item.key.to_user_string()!r}; define it once."
                )
            merged[key] = definition
            owners[key] = item.key.to_user_string()
    for key, definition in given.items():
        if key in merged and merged[key] is not definition:
            problems.append(
                f"resource {key!r} is given to the run and also defined on asset "
                f"{owners[key]!r}. Fix: remove one of them."
            )
        merged[key] = definition
    if problems:
        raise InvalidDefinitionError.build("Resources", problems)
    return merged


def _shared_partitions(assets: Sequence[AssetsDefinition]) -> PartitionsDefinition | None:
    found = {id(a.partitions_def): a.partitions_def for a in assets if a.partitions_def}
    if len(found) > 1:
        raise InvalidDefinitionError(
            "These assets have different partitions definitions; materialize them separately, "
            "or give them one shared PartitionsDefinition object."
        )
    return next(iter(found.values()), None)


def build_asset_job(
    name: str,
    assets: Iterable[AssetsDefinition | SourceAsset],
    resource_defs: Mapping[str, ResourceDefinition] | None = None,
    **job_kwargs: Any,
) -> JobDefinition:
    """A job computing ``assets``, reading the given source assets through their IO managers."""
    computed, sources = split_assets(assets)
    producers: dict[AssetKey, AssetsDefinition] = {}
    problems: list[str] = []
    for item in computed:
        if item.key in producers:
            problems.append(f"asset {item.key.to_user_string()!r} is defined twice.")
        producers[item.key] = item
    source_keys = {s.key: s for s in sources}
    deps: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
    sources_by_input: dict[tuple[str, str], SourceAsset] = {}
    known = [k.to_user_string() for k in (*producers, *source_keys)]
    every_key = {*producers, *source_keys}
    for item in computed:
        for input_name, read in item.keys_by_input_name.items():
            key = _resolve_in_prefix(read, item.key, every_key)
            if key in producers:
                deps.setdefault(item.node_name, {})[input_name] = DependencyDefinition(
                    producers[key].node_name
                )
            elif key in source_keys:
                sources_by_input[(item.node_name, input_name)] = source_keys[key]
            else:
                problems.append(
                    f"asset {item.key.to_user_string()!r} reads {key.to_user_string()!r}, which "
                    f"is neither an asset nor a source asset here."
                    f"{did_you_mean(key.to_user_string(), known)} Fix: pass that asset too, or "
                    f"SourceAsset({key.to_user_string()!r})."
                )
    if problems:
        raise InvalidDefinitionError.build(f"Assets of {name!r}", problems)
    graph = GraphDefinition(name, node_defs=[a.op for a in computed], dependencies=deps)
    layer = AssetLayer({a.node_name: a.key for a in computed}, sources_by_input)
    return JobDefinition(
        graph_def=graph,
        resource_defs=merged_resource_defs(computed, resource_defs or {}),
        partitions_def=_shared_partitions(computed),
        asset_layer=layer,
        **job_kwargs,
    )


def _resolve_in_prefix(read: AssetKey, reader: AssetKey, known: Set[AssetKey]) -> AssetKey:
    """The asset an input reads: ``read`` when it exists, else the asset of that name under
    the reader's own key prefix (``@asset(key_prefix="shop")`` reading ``orders`` reads
    ``shop/orders`` when only that one exists)."""
    prefix = reader.path[:-1]
    if read in known or not prefix:
        return read
    nearby = read.with_prefix(prefix)
    return nearby if nearby in known else read


def define_asset_job(
    name: str,
    selection: Iterable[AssetsDefinition | SourceAsset],
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    **job_kwargs: Any,
) -> JobDefinition:
    """A job materializing the assets in ``selection`` (assets outside it are loaded)."""
    return build_asset_job(name, selection, tags=tags, description=description, **job_kwargs)
