"""The step process: what runs in a process that executes steps for the multiprocess executor.

Either a fresh process for one step (``step_process_main``) or a warm worker that runs the
steps sent to it one after another (``worker_main``). Either leaves as soon as its parent does
(no orphans), reports native crashes to stderr, rebuilds the job from each request (a worker
keeps the job it last unpickled) and streams every event back through a pipe as it happens.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import threading
from typing import TYPE_CHECKING

from nbflow.events import ErrorInfo, Event, EventType, StepFailureData
from nbflow.execution.executors import _wire
from nbflow.execution.executors.output_capture import run_step_request_captured
from nbflow.execution.executors.step_request import decode_request, hold_job

if TYPE_CHECKING:
    from collections.abc import Mapping
    from multiprocessing.connection import Connection
    from multiprocessing.synchronize import Event as SharedFlag
    from typing import Any

EXIT_PARENT_GONE = 70
"""Exit code of a step process whose parent died while the step ran."""


class PipeChannel:
    """Sends a step's messages to its parent, one pickled message at a time."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def event(self, event: Event) -> None:
        self._conn.send_bytes(_wire.encode_event(event))

    def failure(self, key: str, exc: BaseException) -> None:
        self._conn.send_bytes(_wire.encode_failure(key, exc))

    def manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        self._conn.send_bytes(_wire.encode_manifest(step_key, output_name, manifest))

    def done(self, ok: bool) -> None:
        self._conn.send_bytes(_wire.encode_done(ok))


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="nbflow-parent-watch", daemon=True).start()


def take_parent_surroundings(environment: Mapping[str, str], folder: str) -> None:
    """Use the parent's current environment variables and working folder.

    A process started from a fork server begins with the server's, as they were when that
    server started; a variable set (or a folder changed to) in the parent after its first
    multiprocess run must still reach its steps, as it would a spawned process.
    """
    if os.environ != environment:
        os.environ.clear()
        os.environ.update(environment)
    with contextlib.suppress(OSError):  # the folder may be gone; the step decides what it needs
        os.chdir(folder)


def step_process_main(
    header: tuple[str, str, str],
    payload: bytes,
    surroundings: tuple[Mapping[str, str], str],
    conn: Connection,
) -> None:
    """Entry point of a fresh step process: run one step and report to the parent through
    ``conn``.

    ``header`` is (job name, step key, run id), known before the payload is unpickled;
    ``surroundings`` the parent's environment variables and working folder.
    """
    take_parent_surroundings(*surroundings)
    _exit_with_parent()
    faulthandler.enable()
    _run_one(header, payload, PipeChannel(conn), "in a new process")
    conn.close()


def worker_main(
    requests: Connection, halt: SharedFlag, halt_on_failure: bool, conn: Connection
) -> None:
    """Entry point of a warm worker: run each step sent through ``requests`` (a header, a
    payload and the parent's surroundings, as :func:`step_process_main` takes them) and report
    through ``conn``, until ``None`` comes or the parent closes its end. A ``("job", job)``
    message gives the job the next requests name as :class:`HeldJob`.

    The parent may send a step before the one running has finished (it waits here); once
    ``halt`` is set (the run stops starting steps), the worker leaves instead of starting it,
    and the parent starts it nowhere. With ``halt_on_failure`` (the run halts when a step
    fails), a worker whose step failed sets ``halt`` itself, before the parent hears of it:
    no worker starts a waiting step after that."""
    _exit_with_parent()
    faulthandler.enable()
    channel = PipeChannel(conn)
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "job":
            hold_job(message[1])
            continue
        if halt.is_set():
            return
        header, payload, surroundings = message
        take_parent_surroundings(*surroundings)
        ok = _run_one(header, payload, channel, "in a warm worker process")
        if not ok and halt_on_failure:
            halt.set()


def _run_one(header: tuple[str, str, str], payload: bytes, channel: PipeChannel, how: str) -> bool:
    job_name, step_key, run_id = header
    channel.event(
        Event(
            EventType.STEP_WORKER_STARTED,
            job_name,
            step_key,
            f"Executing step {step_key!r} {how} (pid {os.getpid()})",
            run_id=run_id,
        )
    )
    try:
        request = decode_request(payload)
    except Exception as exc:
        channel.failure(step_key, exc)
        channel.event(
            Event(
                EventType.STEP_FAILURE,
                job_name,
                step_key,
                f"Step {step_key!r} could not be read in its process: {type(exc).__name__}: {exc}",
                StepFailureData(ErrorInfo.from_exception(exc), user_failure=False),
                run_id=run_id,
            )
        )
        ok = False
    else:
        ok = run_step_request_captured(request, channel)
    channel.done(ok)
    return ok
