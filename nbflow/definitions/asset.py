"""Assets: ``@asset`` functions whose outputs are named, stored data (``AssetKey``).

An asset is an op whose output is the asset; its parameters name the upstream assets it
reads (``AssetKey(param)``, or ``ins={"param": AssetIn(key=...)}``); ``deps`` names
assets it must run after without reading them. Assets run through the same plan as jobs.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from nbflow.definitions.asset_key import AssetKey, CoercibleToAssetKey
from nbflow.definitions.op import OpDefinition, takes_context
from nbflow.definitions.source_asset import SourceAsset
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY, DEFAULT_OUTPUT, In, Nothing, Out
from nbflow.errors import InvalidDefinitionError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from nbflow.definitions.partitions import PartitionsDefinition
    from nbflow.definitions.resource import ResourceDefinition


@dataclass(frozen=True)
class AssetIn:
    """Which asset an input of an ``@asset`` reads: ``key``, or ``key_prefix`` + the param name."""

    key: CoercibleToAssetKey | None = None
    key_prefix: str | Sequence[str] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, param: str) -> AssetKey:
        if self.key is not None:
            return AssetKey.from_coercible(self.key)
        key = AssetKey(param)
        return key.with_prefix(self.key_prefix) if self.key_prefix else key


def node_name_for(key: AssetKey) -> str:
    """The op node name of an asset: its key parts joined by ``__``, made an identifier."""
    name = re.sub(r"\W", "_", "__".join(key.path))
    return f"_{name}" if name[0].isdigit() else name


class AssetsDefinition:
    """An asset: the op that computes it, its key, and what it reads and follows."""

    def __init__(
        self,
        *,
        key: AssetKey,
        op: OpDefinition,
        keys_by_input_name: Mapping[str, AssetKey],
        partitions_def: PartitionsDefinition | None = None,
        group_name: str | None = None,
        resource_defs: Mapping[str, ResourceDefinition] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.op = op
        self.keys_by_input_name = dict(keys_by_input_name)
        self.partitions_def = partitions_def
        self.group_name = group_name or "default"
        self.resource_defs = dict(resource_defs or {})
        self.metadata = dict(metadata or {})

    @property
    def node_name(self) -> str:
        return self.op.name

    @property
    def dependency_keys(self) -> set[AssetKey]:
        return set(self.keys_by_input_name.values())

    @property
    def code_version(self) -> str | None:
        return self.op.version

    @property
    def description(self) -> str | None:
        return self.op.description

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the asset's function directly (outside any run), like an op."""
        return self.op(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<AssetsDefinition {self.key}>"


def _dep_key(dep: AssetsDefinition | SourceAsset | CoercibleToAssetKey) -> AssetKey:
    if isinstance(dep, AssetsDefinition | SourceAsset):
        return dep.key
    return AssetKey.from_coercible(dep)


def _build_asset(
    fn: Callable[..., Any],
    *,
    name: str | None,
    key: CoercibleToAssetKey | None,
    key_prefix: str | Sequence[str] | None,
    ins: Mapping[str, AssetIn] | None,
    deps: Iterable[AssetsDefinition | SourceAsset | CoercibleToAssetKey] | None,
    config_schema: Any,
    required_resource_keys: Iterable[str] | None,
    io_manager_key: str | None,
    version: str | None,
    partitions_def: PartitionsDefinition | None,
    group_name: str | None,
    description: str | None,
    metadata: Mapping[str, Any] | None,
    resource_defs: Mapping[str, ResourceDefinition] | None,
    op_tags: Mapping[str, Any] | None,
) -> AssetsDefinition:
    if key is not None and (name is not None or key_prefix is not None):
        raise InvalidDefinitionError(
            f"@asset on {fn.__name__!r} got key= together with name= or key_prefix=; pass key "
            "alone, or name/key_prefix."
        )
    asset_key = (
        AssetKey.from_coercible(key)
        if key is not None
        else AssetKey(name or fn.__name__).with_prefix(key_prefix or ())
    )
    signature = list(inspect.signature(fn).parameters.values())
    if signature and takes_context(signature[0]):
        signature = signature[1:]
    params = [p.name for p in signature]
    declared = dict(ins or {})
    unknown = sorted(set(declared) - set(params))
    if unknown:
        raise InvalidDefinitionError(
            f"@asset {asset_key.to_user_string()!r}: ins has {unknown}, which are not "
            f"parameters of the function ({params}). Fix: add the parameters or remove them."
        )
    keys_by_input = {p: (declared.get(p) or AssetIn()).resolve(p) for p in params}
    op_ins: dict[str, In] = {
        p: In(metadata=dict((declared.get(p) or AssetIn()).metadata)) for p in params
    }
    for dep in deps or ():
        dep_key = _dep_key(dep)
        input_name = f"_dep_{node_name_for(dep_key)}"
        keys_by_input[input_name] = dep_key
        op_ins[input_name] = In(Nothing)
    op_def = OpDefinition(
        name=node_name_for(asset_key),
        compute_fn=fn,
        ins=op_ins,
        outs={DEFAULT_OUTPUT: Out(io_manager_key=io_manager_key or DEFAULT_IO_MANAGER_KEY)},
        config_schema=config_schema,
        required_resource_keys=required_resource_keys,
        tags=op_tags,
        version=version,
        description=description or inspect.getdoc(fn),
    )
    return AssetsDefinition(
        key=asset_key,
        op=op_def,
        keys_by_input_name=keys_by_input,
        partitions_def=partitions_def,
        group_name=group_name,
        resource_defs=resource_defs,
        metadata=metadata,
    )


@overload
def asset(compute_fn: Callable[..., Any]) -> AssetsDefinition: ...


@overload
def asset(
    compute_fn: None = None,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[AssetsDefinition | SourceAsset | CoercibleToAssetKey] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    io_manager_key: str | None = None,
    code_version: str | None = None,
    version: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    resource_defs: Mapping[str, ResourceDefinition] | None = None,
    op_tags: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def asset(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[AssetsDefinition | SourceAsset | CoercibleToAssetKey] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    io_manager_key: str | None = None,
    code_version: str | None = None,
    version: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    resource_defs: Mapping[str, ResourceDefinition] | None = None,
    op_tags: Mapping[str, Any] | None = None,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Define an asset from a function (``@asset`` or ``@asset(...)``).

    Args:
        name: the asset's name (last part of its key); defaults to the function's name.
        key: the whole key instead of name/key_prefix.
        key_prefix: parts put before the name.
        ins: which asset each parameter reads, when not ``AssetKey(param)``.
        deps: assets to run after without reading them.
        config_schema: schema of ``ops.<node>.config``.
        required_resource_keys: resources read from ``context.resources``.
        io_manager_key: the IO manager storing the asset.
        code_version: version of the code, for memoization (``version`` is the same).
        partitions_def: the partitions the asset is materialized for.
        group_name: a group to show it in.
        description: defaults to the docstring.
        metadata: free-form information.
        resource_defs: resources the asset brings along.
        op_tags: tags of the underlying op (e.g. ``nbflow/priority``).
    """
    if version is not None and code_version is not None and version != code_version:
        raise InvalidDefinitionError("@asset got both version= and code_version=; pass one.")

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        return _build_asset(
            fn,
            name=name,
            key=key,
            key_prefix=key_prefix,
            ins=ins,
            deps=deps,
            config_schema=config_schema,
            required_resource_keys=required_resource_keys,
            io_manager_key=io_manager_key,
            version=code_version if code_version is not None else version,
            partitions_def=partitions_def,
            group_name=group_name,
            description=description,
            metadata=metadata,
            resource_defs=resource_defs,
            op_tags=op_tags,
        )

    return decorate(compute_fn) if compute_fn is not None else decorate
