"""The in-memory IO manager: values live in this Python process.

Plain outputs belong to one run. Versioned outputs (memoized runs) and assets are kept for
the life of the process, so re-running a job in a notebook reuses what did not change and
a later selection can read the assets it depends on; the newest
``MAX_VERSIONS_PER_OUTPUT`` of each step output or asset are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from nbflow.definitions.io_manager import (
    InputContext,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
)
from nbflow.errors import OutputNotFoundError
from nbflow.storage.manifests import PROCESS_MANIFESTS

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_VERSIONS_PER_OUTPUT: Final = 16

_kept: dict[tuple[str, str], OrderedDict[tuple[str, ...], Any]] = {}


def clear_memoized_values() -> None:
    """Forget every versioned value and asset (and their manifests) kept in this process."""
    _kept.clear()
    PROCESS_MANIFESTS.clear()


def _lasting(context: OutputContext) -> bool:
    return context.version is not None or context.asset_key is not None


def _slot(context: OutputContext) -> tuple[str, str]:
    if context.asset_key is not None:
        return ("asset", context.asset_key.to_user_string())
    return (context.step_key, context.name)


class InMemoryIOManager(MemoizableIOManager):
    """Keeps outputs in dictionaries: per run, or per process when versioned or an asset."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if not _lasting(context):
            self.values[(context.step_key, context.name)] = obj
            return
        kept = _kept.setdefault(_slot(context), OrderedDict())
        identifier = tuple(context.get_identifier())
        kept[identifier] = obj
        kept.move_to_end(identifier)
        while len(kept) > MAX_VERSIONS_PER_OUTPUT:
            kept.popitem(last=False)

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        if not _lasting(upstream):
            if (upstream.step_key, upstream.name) in self.values:
                return self.values[(upstream.step_key, upstream.name)]
        else:
            kept = _kept.get(_slot(upstream))
            identifier = tuple(upstream.get_identifier())
            if kept is not None and identifier in kept:
                return kept[identifier]
        what = (
            f"Asset {upstream.asset_key}"
            if upstream.asset_key
            else f"Output {upstream.step_key}.{upstream.name}"
        )
        raise OutputNotFoundError(
            f"{what} (version {upstream.version}) is not in memory. In-memory values last "
            "only as long as this Python process. Fix: run the upstream step again, or use "
            "fs_io_manager to keep values on disk."
        )

    def has_output(self, context: OutputContext) -> bool:
        if not _lasting(context):
            return False
        kept = _kept.get(_slot(context))
        return kept is not None and tuple(context.get_identifier()) in kept

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        PROCESS_MANIFESTS.record_manifest(step_key, output_name, manifest)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return PROCESS_MANIFESTS.latest_manifest(step_key, output_name)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return PROCESS_MANIFESTS.manifest_for(step_key, output_name, version)


mem_io_manager = IOManagerDefinition(
    lambda: InMemoryIOManager(),
    description="Keeps outputs in memory; versioned ones and assets last as long as the process.",
)
