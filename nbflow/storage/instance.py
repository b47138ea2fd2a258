"""``Instance``: where runs, their events and (by default) stored outputs are kept."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from nbflow.errors import StorageError
from nbflow.storage.manifests import PROCESS_MANIFESTS
from nbflow.storage.run_storage import InMemoryRunStorage as InMemoryRunStorage
from nbflow.storage.run_storage import RunStorage as RunStorage

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.events import Event
    from nbflow.storage.manifests import ManifestStore
    from nbflow.storage.run import Run


HOME_ENV_VAR = "NBFLOW_HOME"
"""Environment variable naming the folder of the default persistent instance."""

DEFAULT_HOME = ".nbflow"
"""Folder of the default persistent instance, relative to the working directory, when
``$NBFLOW_HOME`` is not set."""

RUNS_DB = "runs.db"
"""File name of a persistent instance's run history (runs, events, version manifests)."""


class Instance:
    """Where runs, events and, by default, stored outputs live.

    ``Instance.ephemeral()`` keeps everything in memory (the default for in-process runs).
    ``Instance.get()`` and ``Instance.local(path)`` keep them in a folder: runs, events and
    version manifests in ``<root>/runs.db`` (SQLite), outputs of filesystem IO managers under
    ``<root>/storage``.
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

    @classmethod
    def local(cls, path: str | os.PathLike[str]) -> Instance:
        """A persistent instance in folder ``path`` (created on first write)."""
        from nbflow.storage.sqlite import SqliteRunStorage

        root = Path(path).expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise StorageError(
                f"Cannot use {root} as an nbflow instance folder: it is a file, expected a "
                "folder. Fix: pass (or set NBFLOW_HOME to) a folder path; nbflow creates it "
                "if it does not exist."
            )
        storage = SqliteRunStorage(root / RUNS_DB)
        return cls(storage, root=root, manifests=storage.manifests)

    @classmethod
    def get(cls) -> Instance:
        """The default persistent instance: folder ``$NBFLOW_HOME``, else ``./.nbflow``."""
        home = os.environ.get(HOME_ENV_VAR, "").strip()
        return cls.local(home or DEFAULT_HOME)

    @property
    def is_persistent(self) -> bool:
        return self._persistent

    @property
    def root(self) -> Path:
        """The instance's folder (a fresh temporary folder for an ephemeral instance, removed
        when the instance is garbage-collected or the process exits)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="nbflow-"))
            weakref.finalize(self, shutil.rmtree, self._root, ignore_errors=True)
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

    def get_runs_with_id_prefix(self, prefix: str, limit: int | None = None) -> list[Run]:
        """Runs whose id starts with ``prefix``, newest first."""
        return self.run_storage.get_runs_with_id_prefix(prefix, limit)

    def handle_event(self, event: Event) -> None:
        self.run_storage.store_event(event)

    def store_events(self, events: Iterable[Event]) -> None:
        """Store several events at once (one transaction on persistent instances)."""
        self.run_storage.store_events(events)

    def get_events(self, run_id: str) -> list[Event]:
        return self.run_storage.get_events(run_id)

    def __repr__(self) -> str:
        where = os.fspath(self.root) if self._persistent else "ephemeral"
        return f"<Instance {where}>"
