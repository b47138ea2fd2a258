"""Where values and records live: IO managers, runs, and the instance."""

from typing import TYPE_CHECKING, Any

from nbflow.storage.fs import FilesystemIOManager, fs_io_manager, versioned_filesystem_io_manager
from nbflow.storage.instance import InMemoryRunStorage, Instance, RunStorage
from nbflow.storage.kept_values import MemoryUsage, memory_usage, set_memory_budget
from nbflow.storage.memory import InMemoryIOManager, clear_memoized_values, mem_io_manager
from nbflow.storage.run import Run, RunStatus
from nbflow.storage.runs_filter import RunsFilter
from nbflow.storage.url_io_manager import UrlIOManager

if TYPE_CHECKING:
    from nbflow.storage.sqlite import SqliteManifestStore, SqliteRunStorage

# The SQLite classes load sqlite3 on first access only.
_LAZY = {"SqliteManifestStore", "SqliteRunStorage"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from nbflow.storage import sqlite

        return getattr(sqlite, name)
    raise AttributeError(f"module 'nbflow.storage' has no attribute {name!r}")


__all__ = [
    "FilesystemIOManager",
    "InMemoryIOManager",
    "InMemoryRunStorage",
    "Instance",
    "MemoryUsage",
    "Run",
    "RunStatus",
    "RunStorage",
    "RunsFilter",
    "SqliteManifestStore",
    "SqliteRunStorage",
    "UrlIOManager",
    "clear_memoized_values",
    "fs_io_manager",
    "mem_io_manager",
    "memory_usage",
    "set_memory_budget",
    "versioned_filesystem_io_manager",
]
