"""The instance's manifest store as a step process sees it (multiprocess and Dask steps).

Manifests a step records in its instance's store travel to the run with its events (a
``manifest`` message on the step's channel) and the run keeps them in its run history; the
step process never writes that SQLite file, which may be on another machine's disk (SQLite's
locking is not safe across machines). Reading goes to the run history directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.storage.manifests import manifest_of_version

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.execution.executors.step_request import StepChannel
    from nbflow.storage.manifests import ManifestStore


class ReportedManifests:
    """Sends the manifests recorded here to the run through ``channel``; reads ``history``."""

    def __init__(self, channel: StepChannel, history: ManifestStore) -> None:
        self._channel = channel
        self._history = history

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._channel.manifest(step_key, output_name, manifest)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return self._history.latest_manifest(step_key, output_name)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return manifest_of_version(self._history, step_key, output_name, version)
