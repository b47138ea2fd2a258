"""Start notebook kernels so that kernels started at the same moment never collide.

jupyter_client chooses a kernel's five TCP ports in the parent process by binding a socket
to port 0 and closing it; the kernel binds them later. It remembers the ports it handed out
only within one process, so two processes starting kernels at the same moment (the
workers of a sweep) can be handed the same port, and the second kernel dies with
``ZMQError: Address already in use``.

nbflow's kernels avoid the race in two ways:

- where ZeroMQ has the IPC transport (Linux, macOS) they talk over Unix sockets in a private
  temporary folder, one folder per notebook run, so there are no ports to share;
- elsewhere (TCP), a kernel that dies at start with "Address already in use" is started
  again on fresh ports, at most :data:`KERNEL_START_ATTEMPTS` times with a short pause.

Either way the kernel manager waits, before handing over to nbclient, until the kernel
answers a ``kernel_info`` request, which it can only do once all its sockets are bound.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from nbflow.errors import MissingExtraError

try:
    import zmq
    from jupyter_client.manager import AsyncKernelManager
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError.build(exc.name or "jupyter_client", "notebook") from exc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import IO

KERNEL_START_ATTEMPTS = 4
"""How many times a kernel that found its address taken is started before giving up."""

RETRY_PAUSES_S = (0.1, 0.3, 0.6)
"""Pause before the 2nd, 3rd, ... start of a kernel whose address was taken."""

READY_TIMEOUT_S = 60.0
"""How long a started kernel may take to answer; nbclient's own start-up timeout follows."""

ADDRESS_IN_USE = "Address already in use"

MAX_SOCKETS_DIR_LENGTH = 90
"""Longer socket folders (a deep ``$TMPDIR``) fall back to TCP: Unix socket paths are short."""


def kernel_transport() -> str:
    """``"ipc"`` where ZeroMQ supports Unix-socket transport (Linux, macOS), else ``"tcp"``."""
    return "ipc" if os.name == "posix" and zmq.has("ipc") else "tcp"


def kernel_manager_class(log: IO[bytes], sockets_dir: str) -> type[AsyncKernelManager]:
    """An nbclient kernel manager class for one notebook run.

    Args:
        log: where the kernel's stderr goes (its start-up errors are read back from it).
        sockets_dir: a private, empty folder for the kernel's IPC sockets (unused over TCP).

    Returns:
        A subclass of ``AsyncKernelManager`` for papermill's ``kernel_manager_class=``.
    """

    class NbflowKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("stderr", log)
            start = super().start_kernel
            await start_without_collisions(self, lambda: start(**kw), log, sockets_dir)

    return NbflowKernelManager


async def start_without_collisions(
    km: AsyncKernelManager,
    start: Callable[[], Awaitable[None]],
    log: IO[bytes],
    sockets_dir: str,
    transport: str | None = None,
) -> None:
    """Start ``km``'s kernel with ``start()`` on addresses no other kernel holds.

    Args:
        km: the kernel manager, not started yet.
        start: starts the kernel (the base class's ``start_kernel``).
        log: the kernel's stderr; "Address already in use" in it means a collision.
        sockets_dir: the private folder for IPC sockets.
        transport: ``"ipc"`` or ``"tcp"``; default :func:`kernel_transport`.

    A kernel that dies for any other reason, or still collides after
    :data:`KERNEL_START_ATTEMPTS` starts, is left dead for nbclient to report (with the
    kernel's log).
    """
    chosen = transport or kernel_transport()
    if chosen == "ipc" and len(sockets_dir) > MAX_SOCKETS_DIR_LENGTH:
        chosen = "tcp"  # a Unix socket path longer than ~104 bytes cannot be bound
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        _fresh_addresses(km, chosen, os.path.join(sockets_dir, f"k{attempt}"))
        log.seek(0, os.SEEK_END)
        mark = log.tell()
        await start()
        if await _answers(km) or attempt == KERNEL_START_ATTEMPTS:
            return
        if not _collided(log, mark):
            return
        # Keep the manager's ZeroMQ context (restart=True); drop the connection file and the
        # provisioner, so the next start picks fresh ports (the taken ones stay marked used).
        await km.cleanup_resources(restart=True)
        km.cleanup_connection_file()
        km.provisioner = None
        await asyncio.sleep(RETRY_PAUSES_S[min(attempt, len(RETRY_PAUSES_S)) - 1])


def _fresh_addresses(km: AsyncKernelManager, transport: str, ipc_prefix: str) -> None:
    """Forget any addresses of an earlier start; over IPC, put sockets under ``ipc_prefix``."""
    km.transport = transport
    km.cache_ports = transport == "tcp"
    if transport == "ipc":
        km.ip = ipc_prefix
    for name in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"):
        setattr(km, name, 0)


async def _answers(km: AsyncKernelManager) -> bool:
    """Whether the started kernel answers ``kernel_info`` (False: it died first)."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=READY_TIMEOUT_S)
    except RuntimeError:
        return bool(await km.is_alive())
    finally:
        client.stop_channels()
    return True


def _collided(log: IO[bytes], mark: int) -> bool:
    """Whether the kernel's log since ``mark`` says an address was taken."""
    log.flush()
    log.seek(mark)
    text = log.read().decode("utf-8", errors="replace")
    log.seek(0, os.SEEK_END)
    return ADDRESS_IN_USE in text
