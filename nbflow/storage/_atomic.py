"""Atomic file writes: a reader sees the old file or the whole new one, never a part."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.storage.local_files import write_atomically

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
    """
    with write_atomically(path, durable=durable, temporaries=temporaries, stamp=stamp) as handle:
        handle.write(data)
