"""Starting processes without re-running the user's ``__main__`` script in them.

``spawn`` and ``forkserver`` children re-import the parent's ``__main__`` (a script runs
again as ``__mp_main__``), which is why scripts need an ``if __name__ == "__main__":`` guard.
nbflow's children rebuild jobs from payloads and never need the script, so while a child
starts, ``__main__`` is replaced by an empty stand-in that names no file.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

_lock = threading.Lock()


@contextlib.contextmanager
def main_module_hidden() -> Iterator[None]:
    """Within this block, processes started here do not import the ``__main__`` script."""
    with _lock:
        real = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__", "nbflow: stand-in for __main__")
        try:
            yield
        finally:
            if real is not None:
                sys.modules["__main__"] = real
