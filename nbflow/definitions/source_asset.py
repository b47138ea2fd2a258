"""Source assets: data nbflow reads but does not compute, and how to tell when it changed.

A plain :class:`SourceAsset` is versioned by its key alone, so memoized runs assume its data
never changes. Give it an observe function (``SourceAsset(..., observe_fn=...)`` or
``@observable_source_asset``) returning a :class:`DataVersion` (a file's hash, a table's
last-modified time) and that version becomes part of the version of every step that reads
it: when the data changes, those steps and everything downstream run again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from nbflow.definitions.asset_key import AssetKey, CoercibleToAssetKey
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY
from nbflow.errors import InvalidDefinitionError, VersioningError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.definitions.partitions import PartitionsDefinition


@dataclass(frozen=True, slots=True)
class DataVersion:
    """The version of a source asset's data, as its observe function reports it."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value:
            raise InvalidDefinitionError(
                f"DataVersion({self.value!r}): expected a non-empty str, such as a hash of the "
                "data or its last-modified time. Fix: DataVersion(str(...))."
            )


@dataclass(frozen=True, slots=True)
class ObserveContext:
    """What an observe function may receive: the asset's key and the run's partition."""

    asset_key: AssetKey
    partition_key: str | None = None


ObserveFn = Callable[..., DataVersion | str]


class SourceAsset:
    """An asset nbflow does not compute; downstream assets load it through its IO manager.

    Args:
        observe_fn: a function (``fn()`` or ``fn(context)``) that returns the data's current
            :class:`DataVersion` (or a str); called before each memoized run.
    """

    def __init__(
        self,
        key: CoercibleToAssetKey,
        io_manager_key: str = DEFAULT_IO_MANAGER_KEY,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: PartitionsDefinition | None = None,
        observe_fn: ObserveFn | None = None,
    ) -> None:
        self.key = AssetKey.from_coercible(key)
        self.io_manager_key = io_manager_key
        self.description = description
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        if observe_fn is not None and not callable(observe_fn):
            raise InvalidDefinitionError(
                f"Source asset {self.key.to_user_string()!r}: observe_fn is {observe_fn!r}, "
                "not a function. Fix: pass a function returning DataVersion(...)."
            )
        self.observe_fn = observe_fn

    @property
    def is_observable(self) -> bool:
        return self.observe_fn is not None

    def observe(self, partition_key: str | None = None) -> str | None:
        """The data's current version, or None when the asset has no observe function.

        Raises:
            VersioningError: the observe function raised or returned something else.
        """
        if self.observe_fn is None:
            return None
        name = self.key.to_user_string()
        args = (ObserveContext(self.key, partition_key),) if _wants_context(self.observe_fn) else ()
        try:
            found = self.observe_fn(*args)
        except Exception as exc:
            raise VersioningError(
                f"Observing source asset {name!r} failed: {type(exc).__name__}: {exc}. Nothing "
                "was run. Fix the observe function, or make the data it reads available."
            ) from exc
        if isinstance(found, DataVersion):
            return found.value
        if isinstance(found, str) and found:
            return found
        raise VersioningError(
            f"The observe function of source asset {name!r} returned {found!r:.60}; expected "
            "DataVersion(str) or a non-empty str. Nothing was run."
        )

    def __repr__(self) -> str:
        return f"<SourceAsset {self.key}>"


def _wants_context(fn: ObserveFn) -> bool:
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional for p in inspect.signature(fn).parameters.values())


@overload
def observable_source_asset(observe_fn: ObserveFn) -> SourceAsset: ...


@overload
def observable_source_asset(
    observe_fn: None = None,
    *,
    key: CoercibleToAssetKey | None = None,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    io_manager_key: str = DEFAULT_IO_MANAGER_KEY,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: PartitionsDefinition | None = None,
) -> Callable[[ObserveFn], SourceAsset]: ...


def observable_source_asset(
    observe_fn: ObserveFn | None = None,
    *,
    key: CoercibleToAssetKey | None = None,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    io_manager_key: str = DEFAULT_IO_MANAGER_KEY,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: PartitionsDefinition | None = None,
) -> SourceAsset | Callable[[ObserveFn], SourceAsset]:
    """A :class:`SourceAsset` whose decorated function returns its data's version.

    The key is ``key``, else ``key_prefix`` + (``name`` or the function's name).
    """

    def build(fn: ObserveFn) -> SourceAsset:
        if key is not None:
            asset_key = AssetKey.from_coercible(key)
        else:
            asset_key = AssetKey(name or fn.__name__)
            if key_prefix:
                asset_key = asset_key.with_prefix(key_prefix)
        return SourceAsset(
            asset_key,
            io_manager_key=io_manager_key,
            description=description if description is not None else fn.__doc__,
            metadata=metadata,
            partitions_def=partitions_def,
            observe_fn=fn,
        )

    return build(observe_fn) if observe_fn is not None else build
