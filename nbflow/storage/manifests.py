"""Version manifests: the named parts of each stored output's version, kept to explain staleness.

A manifest is the JSON form of a ``VersionParts`` record. Stores keep every manifest by
version and remember the latest one per step output.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

VALUE_FINGERPRINT_KEY = "value_fingerprint"
"""Manifest key of the stored value's fingerprint (absent when it was too costly to take)."""


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

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        versions = self._manifests.get((step_key, output_name))
        return None if versions is None else versions.get(version)

    def clear(self) -> None:
        self._manifests.clear()


PROCESS_MANIFESTS = InMemoryManifestStore()
"""Manifests of in-memory values and of ephemeral instances: they last as long as the process."""


_MANIFEST_METHODS = ("record_manifest", "latest_manifest")


def manifest_store_for(io_manager: object, fallback: ManifestStore) -> ManifestStore:
    """The IO manager itself when it keeps manifests next to its values, else ``fallback``."""
    if all(callable(getattr(io_manager, name, None)) for name in _MANIFEST_METHODS):
        return io_manager  # type: ignore[return-value]
    return fallback


def manifest_of_version(
    store: ManifestStore, step_key: str, output_name: str, version: str
) -> Mapping[str, Any] | None:
    """The manifest recorded for ``version`` of a step output, if the store has it.

    Stores may offer ``manifest_for(step_key, output_name, version)``; for those that keep
    only the latest manifest, it is returned when it is of that version.
    """
    lookup = getattr(store, "manifest_for", None)
    if callable(lookup):
        found: Mapping[str, Any] | None = lookup(step_key, output_name, version)
        return found
    latest = store.latest_manifest(step_key, output_name)
    return latest if latest is not None and latest.get("version") == version else None
