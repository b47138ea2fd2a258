"""``Instance``: where runs, their events and (by default) stored outputs are kept."""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from nbflow.storage.manifests import PROCESS_MANIFESTS

if TYPE_CHECKING:
    from nbflow.events import Event
    from nbflow.storage.manifests import ManifestStore
    from nbflow.storage.run import Run


class RunStorage(ABC):
    """Keeps run records and their events."""

    @abstractmethod
    def add_run(self, run: Run) -> None: ...

    @abstractmethod
    def update_run(self, run: Run) -> None: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def get_runs(self, limit: int | None = None) -> list[Run]:
        """Runs, newest first."""

    @abstractmethod
    def store_event(self, event: Event) -> None: ...

    @abstractmethod
    def get_events(self, run_id: str) -> list[Event]: ...


class InMemoryRunStorage(RunStorage):
    """Runs and events in dictionaries; gone with the process."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._events: dict[str, list[Event]] = {}

    def add_run(self, run: Run) -> None:
        self._runs[run.run_id] = run
        self._events.setdefault(run.run_id, [])

    def update_run(self, run: Run) -> None:
        self._runs[run.run_id] = run

    def get_run(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def get_runs(self, limit: int | None = None) -> list[Run]:
        runs = list(reversed(self._runs.values()))
        return runs if limit is None else runs[:limit]

    def store_event(self, event: Event) -> None:
        self._events.setdefault(event.run_id, []).append(event)

    def get_events(self, run_id: str) -> list[Event]:
        return list(self._events.get(run_id, ()))


class Instance:
    """Where runs, events and, by default, stored outputs live.

    ``Instance.ephemeral()`` keeps everything in memory (the default for in-process runs).
    """

    def __init__(
        self,
        run_storage: RunStorage,
        root: Path | None = None,
        manifests: ManifestStore = PROCESS_MANIFESTS,
    ) -> None:
        self.run_storage = run_storage
        self.manifests = manifests
        self._root = root
        self._persistent = root is not None

    @classmethod
    def ephemeral(cls) -> Instance:
        """An instance that keeps runs and events in memory."""
        return cls(InMemoryRunStorage())

    @property
    def is_persistent(self) -> bool:
        return self._persistent

    @property
    def root(self) -> Path:
        """The instance's folder (a fresh temporary folder for an ephemeral instance)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="nbflow-"))
        return self._root

    @property
    def storage_dir(self) -> str:
        """Default ``base_dir`` of filesystem IO managers."""
        return os.fspath(self.root / "storage")

    def add_run(self, run: Run) -> None:
        self.run_storage.add_run(run)

    def update_run(self, run: Run) -> None:
        self.run_storage.update_run(run)

    def get_run(self, run_id: str) -> Run | None:
        return self.run_storage.get_run(run_id)

    def get_runs(self, limit: int | None = None) -> list[Run]:
        return self.run_storage.get_runs(limit)

    def handle_event(self, event: Event) -> None:
        self.run_storage.store_event(event)

    def get_events(self, run_id: str) -> list[Event]:
        return self.run_storage.get_events(run_id)

    def __repr__(self) -> str:
        where = os.fspath(self.root) if self._persistent else "ephemeral"
        return f"<Instance {where}>"
