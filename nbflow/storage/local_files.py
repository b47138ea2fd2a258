"""The file operations of stored values, on the local disk.

Writing goes through a temporary file beside the target (or in a folder of temporaries on the
same file system), flushed to disk and renamed over the target (publishing it); reading opens
the published file. A file written with ``stamp=True`` gets the exact time it was written as
its modification time (to the nanosecond where the system allows), not the file system's
coarser clock, so the newest of several files written within one clock tick can be told.
Sizes, moving a damaged file aside, and removing the temporaries of writers that were killed
complete the set. The filesystem IO managers use nothing else, so another file system plugs
in here.

A writer holds an exclusive advisory lock on its temporary file while it writes, so a cleaner
can tell a temporary file in use from one a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: temporaries are judged by age alone
    fcntl = None  # type: ignore[assignment]

TEMPORARY_SUFFIX = ".tmp"
"""Temporary files are named ``.<target name>.<writer's pid>-<count>.tmp``."""

STALE_AFTER_SECONDS = 3600.0
"""A temporary file untouched for this long, and not locked, was left by a killed writer."""

CORRUPT_SUFFIX = ".corrupt"
"""A stored file found damaged is renamed to ``<name>.corrupt``, out of every reader's way."""


class _Names:
    """Names of this process's temporary files: its pid and a count, unique among live
    writers without a system call (a name left by a dead process is skipped: ``O_EXCL``)."""

    def __init__(self) -> None:
        self.reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self._prefix = f"{os.getpid()}-"
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._count)}"


_NAMES = _Names()


def claim_temporary(path: Path, folder: Path) -> tuple[int, Path]:
    """A new, empty ``.tmp`` file for ``path`` in ``folder``, open for writing and locked
    (see the module doc); mode 0o666 less the umask, like ``open()``.

    The folders are created only when the file cannot be (one system call per write otherwise).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f".{path.name}.{_NAMES.next()}{TEMPORARY_SUFFIX}"
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            if folder != path.parent:
                path.parent.mkdir(parents=True, exist_ok=True)
            continue
        _try_lock(fd)  # a fresh file: nobody else can hold its lock
        return fd, tmp


def stamp_now(fd: int) -> None:
    """Set the modification time of ``fd`` to now, exactly (see the module doc)."""
    if os.utime in os.supports_fd:
        now = time.time_ns()
        os.utime(fd, ns=(now, now))


def _try_lock(fd: int) -> bool:
    """Take the exclusive advisory lock of ``fd`` without waiting; ``False`` if another holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def atomic_write_bytes(
    path: Path,
    data: bytes | bytearray,
    *,
    durable: bool = True,
    temporaries: Path | None = None,
    stamp: bool = False,
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A process killed mid-write leaves at most a ``.tmp`` file that no reader looks at;
    two writers of the same path each rename a complete file, so the last one wins whole.
    The data is flushed to disk before the rename (unless ``durable`` is false), so a machine
    crash cannot leave a truncated file under ``path`` either. ``temporaries`` and ``stamp``:
    see :func:`write_atomically`.

    It makes one system call per step and no file object (the value writer process of
    :mod:`nbflow.storage.value_writer` calls it for every small value).
    """
    fd, tmp = claim_temporary(path, path.parent if temporaries is None else temporaries)
    with _removed_on_failure(tmp):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if stamp:
                stamp_now(fd)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)


@contextlib.contextmanager
def _removed_on_failure(tmp: Path) -> Iterator[None]:
    """Remove the temporary file ``tmp`` if what is inside fails (it is never published)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def write_atomically(
    path: Path,
    *,
    durable: bool = True,
    temporaries: Path | None = None,
    stamp: bool = False,
    hand_over: Callable[[Path], None] | None = None,
) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for writing; publish it as ``path`` on success.

    A process killed mid-write leaves at most a ``.tmp`` file that no reader looks at; two
    writers of the same path each rename a complete file, so the last one wins whole. On an
    exception the temporary file is removed and ``path`` keeps its old content.

    Args:
        path: the file to publish.
        durable: flush the data to disk (``fsync``) before the rename, so that a machine crash
            cannot leave a truncated file under ``path``. Records whose loss after a crash is
            harmless (they are checked, or only explain) skip it.
        temporaries: the folder of the temporary file, when not beside ``path``; it must be
            on the same file system as ``path`` (a rename publishes the file).
        stamp: set the file's modification time to the exact time of writing (see the
            module doc).
        hand_over: once the file is written and closed, it is handed to this (with the path
            of the temporary file) instead of being flushed and published here: whoever takes
            it publishes it (see :func:`publish_temporary`).

    Yields:
        The open temporary file.
    """
    fd, tmp = claim_temporary(path, path.parent if temporaries is None else temporaries)
    with _removed_on_failure(tmp):
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if stamp:
                stamp_now(handle.fileno())
            if durable and hand_over is None:
                os.fsync(handle.fileno())
        if hand_over is not None:
            hand_over(tmp)
            return
        os.replace(tmp, path)


def publish_temporary(tmp: Path, path: Path) -> None:
    """Flush the written temporary file ``tmp`` to disk and rename it to ``path`` (what
    :func:`write_atomically` does at the end, for a file it handed over); ``tmp`` is removed
    if that fails."""
    with _removed_on_failure(tmp):
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)


def open_for_reading(path: str | Path) -> IO[bytes]:
    """Open a published file for reading (``FileNotFoundError`` if there is none)."""
    return open(path, "rb")


def file_size(path: Path) -> int | None:
    """The size of the regular file at ``path`` in bytes; ``None`` if there is none."""
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return found.st_size if stat.S_ISREG(found.st_mode) else None


def remove(path: Path) -> None:
    """Remove the file at ``path``, if there is one."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def move_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.corrupt`` (replacing an older one); return that path."""
    aside = path.with_name(path.name + CORRUPT_SUFFIX)
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, aside)
    return aside


def remove_stale_temporaries(
    folder: Path, older_than: float = STALE_AFTER_SECONDS, now: float | None = None
) -> list[Path]:
    """Remove the temporary files in ``folder`` that killed writers left behind.

    A temporary file is stale when it was not modified for ``older_than`` seconds and no
    process holds its lock (a live writer does, however slow it is).

    Returns:
        The files removed.
    """
    deadline = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime > deadline:
                continue
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                os.unlink(entry.path)
                removed.append(folder / name)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed
