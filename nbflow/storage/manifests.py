"""Version manifests: the named parts of each stored output's version, kept to explain staleness.

A manifest is the JSON form of a ``VersionParts`` record. Stores keep every manifest by
version and remember the latest one per step output.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping


class ManifestStore(Protocol):
    """Keeps version manifests per step output."""

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Keep ``manifest`` and make it the latest for this step output."""

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        """The most recently recorded manifest of this step output, if any."""


class InMemoryManifestStore:
    """Manifests in a dictionary; the newest ``keep`` versions per step output."""

    def __init__(self, keep: int = 64) -> None:
        self._keep = keep
        self._manifests: dict[tuple[str, str], OrderedDict[str, Mapping[str, Any]]] = {}

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        versions = self._manifests.setdefault((step_key, output_name), OrderedDict())
        version = str(manifest.get("version", ""))
        versions[version] = dict(manifest)
        versions.move_to_end(version)
        while len(versions) > self._keep:
            versions.popitem(last=False)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        versions = self._manifests.get((step_key, output_name))
        if not versions:
            return None
        return next(reversed(versions.values()))

    def clear(self) -> None:
        self._manifests.clear()


PROCESS_MANIFESTS = InMemoryManifestStore()
"""Manifests of in-memory values and of ephemeral instances: they last as long as the process."""


def manifest_store_for(io_manager: object, fallback: ManifestStore) -> ManifestStore:
    """The IO manager itself when it keeps manifests next to its values, else ``fallback``."""
    if callable(getattr(io_manager, "record_manifest", None)) and callable(
        getattr(io_manager, "latest_manifest", None)
    ):
        return io_manager  # type: ignore[return-value]
    return fallback
