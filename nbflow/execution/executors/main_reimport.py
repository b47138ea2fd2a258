"""Noticing, in the parent, that a child process re-imported the user's ``__main__`` script.

A restarted Dask worker is spawned by its nanny without nbflow hiding ``__main__``, so it
imports the user's script again; a script with no ``if __name__ == "__main__":`` guard then
runs its job at import, which nbflow refuses there, and the worker never starts. The child
leaves a note in a folder named by ``$NBFLOW_REIMPORT_DIR`` (set for the workers a run starts);
the run looks for new notes while it waits and fails with a clear error instead of hanging.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

REIMPORT_DIR_ENV = "NBFLOW_REIMPORT_DIR"
"""Environment variable: the folder where a child notes that it re-imported ``__main__``."""


def note_main_reimport() -> None:
    """In a child importing the user's script: leave a note naming the script, if asked to."""
    folder = os.environ.get(REIMPORT_DIR_ENV)
    if not folder:
        return
    main = sys.modules.get("__mp_main__") or sys.modules.get("__main__")
    script = str(getattr(main, "__file__", None) or "the main script")
    with contextlib.suppress(OSError):
        (Path(folder) / f"{os.getpid()}.note").write_text(script, encoding="utf-8")


class ReimportWatch:
    """Notes left by children since this watch started (one folder per parent process).

    Starting a watch sets ``$NBFLOW_REIMPORT_DIR`` in this process for good, so every child
    started from now on (a worker a nanny restarts too) knows where to leave its note; a
    value inherited from a parent process is replaced.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.gettempdir()) / f"nbflow-reimport-{os.getpid()}"
        self.folder.mkdir(exist_ok=True)
        os.environ[REIMPORT_DIR_ENV] = str(self.folder)
        self._seen = set(self._notes())

    def _notes(self) -> list[Path]:
        try:
            return list(self.folder.glob("*.note"))
        except OSError:
            return []

    def reimported(self) -> str | None:
        """The script a child re-imported since the watch started, or ``None``."""
        for note in self._notes():
            if note in self._seen:
                continue
            self._seen.add(note)
            with contextlib.suppress(OSError):
                script = note.read_text(encoding="utf-8")
                note.unlink()
                return script
        return None
