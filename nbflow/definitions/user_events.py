"""Events user code logs through ``context.log_event``: materializations, observations, checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset_key import AssetKey

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@dataclass(frozen=True, init=False)
class _AssetEvent:
    asset_key: AssetKey
    description: str | None
    metadata: Mapping[str, Any]
    partition: str | None

    def __init__(
        self,
        asset_key: AssetKey | str | Sequence[str],
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        partition: str | None = None,
    ) -> None:
        object.__setattr__(self, "asset_key", AssetKey.from_coercible(asset_key))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "metadata", dict(metadata or {}))
        object.__setattr__(self, "partition", partition)


class AssetMaterialization(_AssetEvent):
    """An asset was written (or rewritten) by this op."""


class AssetObservation(_AssetEvent):
    """Something was learned about an asset without changing it."""


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """The outcome of a data-quality check run inside an op."""

    success: bool
    label: str | None = None
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


UserEvent = AssetMaterialization | AssetObservation | ExpectationResult
