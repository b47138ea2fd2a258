"""Where values and records live: IO managers, runs, and the instance."""

from nbflow.storage.fs import FilesystemIOManager, fs_io_manager, versioned_filesystem_io_manager
from nbflow.storage.instance import InMemoryRunStorage, Instance, RunStorage
from nbflow.storage.memory import InMemoryIOManager, clear_memoized_values, mem_io_manager
from nbflow.storage.run import Run, RunStatus

__all__ = [
    "FilesystemIOManager",
    "InMemoryIOManager",
    "InMemoryRunStorage",
    "Instance",
    "Run",
    "RunStatus",
    "RunStorage",
    "clear_memoized_values",
    "fs_io_manager",
    "mem_io_manager",
    "versioned_filesystem_io_manager",
]
