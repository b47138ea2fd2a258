"""Version manifests: the named parts of each stored output's version, kept to explain staleness.

A manifest is the JSON form of a ``VersionParts`` record. Stores keep every manifest by
version and remember the latest one per step output. Process-wide stores are split by op
(``scoped_manifests``, see :mod:`nbflow.storage.namespace`), so two jobs whose steps share a name
never read each other's manifests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.storage.namespace import NO_NAMESPACE, op_namespace

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
    """Manifests in a dictionary, per op namespace; the newest ``keep`` versions per output."""

    def __init__(self, keep: int = 64) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._manifests: dict[tuple[str, str, str], OrderedDict[str, Mapping[str, Any]]] = {}

    def record_manifest(
        self,
        step_key: str,
        output_name: str,
        manifest: Mapping[str, Any],
        namespace: str = NO_NAMESPACE,
    ) -> None:
        version = str(manifest.get("version", ""))
        with self._lock:
            versions = self._manifests.setdefault((namespace, step_key, output_name), OrderedDict())
            versions[version] = dict(manifest)
            versions.move_to_end(version)
            while len(versions) > self._keep:
                versions.popitem(last=False)

    def latest_manifest(
        self, step_key: str, output_name: str, namespace: str = NO_NAMESPACE
    ) -> Mapping[str, Any] | None:
        with self._lock:
            versions = self._manifests.get((namespace, step_key, output_name))
            if not versions:
                return None
            return next(reversed(versions.values()))

    def scoped_manifests(self, namespace: str) -> ManifestStore:
        """A view that records and reads the manifests of one op namespace only."""
        return _ScopedManifests(self, namespace)

    def manifest_for(
        self, step_key: str, output_name: str, version: str, namespace: str = NO_NAMESPACE
    ) -> Mapping[str, Any] | None:
        with self._lock:
            versions = self._manifests.get((namespace, step_key, output_name))
            return None if versions is None else versions.get(version)

    def clear(self) -> None:
        with self._lock:
            self._manifests.clear()


class _ScopedManifests:
    """One namespace of an :class:`InMemoryManifestStore`."""

    __slots__ = ("_namespace", "_store")

    def __init__(self, store: InMemoryManifestStore, namespace: str) -> None:
        self._store = store
        self._namespace = namespace

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._store.record_manifest(step_key, output_name, manifest, self._namespace)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return self._store.latest_manifest(step_key, output_name, self._namespace)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return self._store.manifest_for(step_key, output_name, version, self._namespace)


PROCESS_MANIFESTS = InMemoryManifestStore()
"""Manifests of in-memory values and of ephemeral instances: they last as long as the process."""


_MANIFEST_METHODS = ("record_manifest", "latest_manifest")


def manifest_store_for(
    io_manager: object, fallback: ManifestStore, op_def: Any = None
) -> ManifestStore:
    """Where an output's manifests live: its IO manager when that keeps manifests next to
    its values, else ``fallback``; narrowed to ``op_def``'s namespace when the store is
    process-wide (it has ``scoped_manifests``) and ``op_def`` is given."""
    store: Any = fallback
    if all(callable(getattr(io_manager, name, None)) for name in _MANIFEST_METHODS):
        store = io_manager
    scoped = getattr(store, "scoped_manifests", None)
    if op_def is not None and callable(scoped):
        return scoped(op_namespace(op_def))  # type: ignore[no-any-return]
    return store  # type: ignore[no-any-return]


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
