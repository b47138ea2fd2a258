"""A run's look at its storage folders: an output whose file or folder was not there when
the run first listed the folder is not stored, without a failed ``open`` per output.

A memoized run asks for each step whether its outputs are stored, before it starts and
again as upstream values change its versions: a first run of 200 steps made 800 ``open``
calls that failed. Inside :func:`listing_folders` (a run), a filesystem IO manager lists a
storage folder once, after :data:`LIST_AFTER` lookups in it, and looks only for names that
were listed. A folder of more than :data:`MAX_ENTRIES` entries is not listed (that would
cost more than the lookups it saves).

It is safe because a listing can only be out of date by missing a file written after it
was taken: by this process (which notes what it writes, :meth:`FolderListings.note`) or by
another process (a step process of this run, which stores only outputs of steps that ran,
or another run). Missing such a file only makes the run compute that output again: a value
is never found where there is none.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

LIST_AFTER = 8
"""Lookups in a folder, within one run, before the folder is listed."""

MAX_ENTRIES = 4096
"""A folder with more entries than this is not listed; its outputs are looked up one by one."""


class FolderListings:
    """The folders listed within one run: folder → names of its entries."""

    def __init__(self) -> None:
        self._names: dict[str, set[str] | None] = {}  # None: too big to list
        self._lookups: dict[str, int] = {}

    def may_hold(self, folder: str, path: str) -> bool:
        """Whether ``path`` (in or under ``folder``) may exist: ``False`` only when its entry
        in ``folder`` was not there when ``folder`` was listed, nor written since."""
        entry = _entry(folder, path)
        if entry is None:
            return True
        if folder not in self._names:
            seen = self._lookups.get(folder, 0) + 1
            self._lookups[folder] = seen
            if seen <= LIST_AFTER:
                return True
            self._names[folder] = _list(folder)
        names = self._names[folder]
        return names is None or entry in names

    def note(self, folder: str, path: str) -> None:
        """``path`` (in or under ``folder``) is being written by this process."""
        entry = _entry(folder, path)
        names = self._names.get(folder)
        if entry is not None and names is not None:
            names.add(entry)


def _entry(folder: str, path: str) -> str | None:
    """The name of the entry of ``folder`` that holds ``path``; ``None`` if not under it."""
    prefix = folder + os.sep
    if not path.startswith(prefix):
        return None
    return path[len(prefix) :].split(os.sep, 1)[0]


def _list(folder: str) -> set[str] | None:
    names: set[str] = set()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if len(names) >= MAX_ENTRIES:
                    return None
                names.add(entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return names  # no folder: nothing stored yet
    except OSError:
        return None
    return names


_current: contextvars.ContextVar[FolderListings | None] = contextvars.ContextVar(
    "nbflow_folder_listings", default=None
)


def current_listings() -> FolderListings | None:
    """The listings of the run open in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def listing_folders() -> Iterator[FolderListings]:
    """Within, filesystem IO managers list their folders once instead of failing one
    ``open`` per output that is not stored (see the module doc)."""
    token = _current.set(FolderListings())
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)
