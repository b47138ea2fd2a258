"""The in-memory IO manager: values live in this Python process.

Unversioned values belong to one run. Versioned values (memoized runs) are kept for the
life of the process, so re-running a job in a notebook reuses what did not change; the
newest ``MAX_VERSIONS_PER_OUTPUT`` versions of each step output are kept.
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

_memoized: dict[tuple[str, str], OrderedDict[str, Any]] = {}


def clear_memoized_values() -> None:
    """Forget every versioned value (and its manifest) kept in this process."""
    _memoized.clear()
    PROCESS_MANIFESTS.clear()


class InMemoryIOManager(MemoizableIOManager):
    """Keeps outputs in dictionaries: per run, or per process when versioned."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if context.version is None:
            self.values[(context.step_key, context.name)] = obj
            return
        versions = _memoized.setdefault((context.step_key, context.name), OrderedDict())
        versions[context.version] = obj
        versions.move_to_end(context.version)
        while len(versions) > MAX_VERSIONS_PER_OUTPUT:
            versions.popitem(last=False)

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        key = (upstream.step_key, upstream.name)
        if upstream.version is None:
            if key in self.values:
                return self.values[key]
        else:
            versions = _memoized.get(key)
            if versions is not None and upstream.version in versions:
                return versions[upstream.version]
        raise OutputNotFoundError(
            f"Output {upstream.step_key}.{upstream.name} (version {upstream.version}) is not in "
            "memory. In-memory values last only as long as this Python process. Fix: run the "
            "upstream step again, or use fs_io_manager to keep values on disk."
        )

    def has_output(self, context: OutputContext) -> bool:
        if context.version is None:
            return False
        versions = _memoized.get((context.step_key, context.name))
        return versions is not None and context.version in versions

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        PROCESS_MANIFESTS.record_manifest(step_key, output_name, manifest)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return PROCESS_MANIFESTS.latest_manifest(step_key, output_name)


mem_io_manager = IOManagerDefinition(
    lambda: InMemoryIOManager(),
    description="Keeps outputs in memory; versioned outputs last as long as the process.",
)
