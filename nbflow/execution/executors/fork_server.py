"""nbflow's own fork server: step processes start from a server that has nbflow preloaded,
whatever fork server another library started first.

The standard library keeps one fork server per process, and its preload list counts only
until that server starts: when another library (a ``ProcessPoolExecutor``, a test runner)
started it first, every step process imported nbflow again (about 0.1-0.3 s a process).
Here each list of preloaded modules has a server of its own (``multiprocessing``'s
``ForkServer``), and :func:`starting_from` makes a ``forkserver`` process started inside it
connect to that server instead of the shared one. The child side is the standard one.
"""

from __future__ import annotations

import contextlib
import multiprocessing.forkserver
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_servers: dict[tuple[str, ...], multiprocessing.forkserver.ForkServer] = {}
_lock = threading.Lock()


def server_for(preload: Sequence[str]) -> multiprocessing.forkserver.ForkServer:
    """The fork server that preloads ``preload`` (made on first use, started when it first
    starts a process, kept for the life of this process)."""
    key = tuple(preload)
    with _lock:
        server = _servers.get(key)
        if server is None:
            server = multiprocessing.forkserver.ForkServer()
            server.set_forkserver_preload(list(key))
            _servers[key] = server
        return server


@contextlib.contextmanager
def starting_from(preload: Sequence[str]) -> Iterator[None]:
    """Inside, ``forkserver`` processes of this thread start from :func:`server_for`'s
    server (the shared module function is swapped, under a lock, while they start)."""
    server = server_for(preload)
    with _lock:
        shared = multiprocessing.forkserver.connect_to_new_process
        multiprocessing.forkserver.connect_to_new_process = server.connect_to_new_process
        try:
            yield
        finally:
            multiprocessing.forkserver.connect_to_new_process = shared
