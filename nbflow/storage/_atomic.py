"""Atomic file writes: a reader sees the old file or the whole new one, never a part."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from nbflow.storage.local_files import claim_temporary, stamp_now

if TYPE_CHECKING:
    from pathlib import Path


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
    see :func:`~nbflow.storage.local_files.write_atomically`.

    It makes one system call per step and no file object: the writer threads of
    :mod:`nbflow.storage.write_behind` take the interpreter lock back after each call, which
    costs most while the run's thread is busy.
    """
    fd, tmp = claim_temporary(path, path.parent if temporaries is None else temporaries)
    try:
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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
