"""Who owns a running run, and whether that owner is gone.

A persistent run records the process that runs it (pid and host) and a heartbeat time the
process refreshes every :data:`HEARTBEAT_SECONDS` (see :mod:`nbflow.storage.heartbeat`). A run
still ``STARTED`` whose owner is gone was abandoned: its process was killed (SIGKILL, OOM) or
the machine lost power before it could end the run.

- Same host: the owner is gone as soon as its pid is no longer a live process.
- Another host: its pid cannot be checked from here, so the owner is gone once its heartbeat
  is older than :data:`STALE_AFTER_SECONDS`.
"""

from __future__ import annotations

import os
from functools import cache

HEARTBEAT_SECONDS = 5.0
"""How often a running process refreshes the heartbeat of its runs."""

STALE_AFTER_SECONDS = 60.0
"""A run of another host whose heartbeat is older than this is abandoned (12 missed beats)."""


@cache
def this_host() -> str:
    """The name of this machine, as recorded in a run's ``owner_host``."""
    import socket  # only once a run starts: ``import nbflow`` stays cheap

    return socket.gethostname()


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return True  # no /proc (macOS): the signal check is all there is
    return state != [b"Z"]


def abandoned_because(
    owner_pid: int | None, owner_host: str | None, heartbeat: float | None, now: float
) -> str | None:
    """Why a ``STARTED`` run with this owner is abandoned, or ``None`` while its owner lives.

    A run without a recorded owner (written by an older nbflow, or by hand) is never judged.
    """
    if owner_pid is None or not owner_host:
        return None
    if owner_host == this_host():
        if is_alive(owner_pid):
            return None
        return (
            f"its process (pid {owner_pid} on host {owner_host}) is no longer running: it "
            "was killed or crashed before it could end the run"
        )
    if heartbeat is not None and now - heartbeat <= STALE_AFTER_SECONDS:
        return None
    seen = "never" if heartbeat is None else f"{now - heartbeat:.0f} s ago"
    return (
        f"its process (pid {owner_pid} on host {owner_host}) last reported it alive {seen}, "
        f"more than {STALE_AFTER_SECONDS:.0f} s ago: it was killed, or its machine stopped"
    )
