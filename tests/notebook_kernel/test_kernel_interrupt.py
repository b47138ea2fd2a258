"""Interrupting a real Jupyter kernel (the notebook's stop button) while a run goes on.

The run ends ``CANCELED`` with its last event, the kernel's own SIGINT handling is back
afterwards (a later interrupt still stops a plain cell), and SIGTERM's handler is restored.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from jupyter_client.manager import start_new_kernel

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel() -> Iterator[tuple[Any, Any]]:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run_cell(kernel: tuple[Any, Any], code: str, interrupt_after: float | None = None) -> str:
    """Run ``code``; its stdout, and ``ERROR <name>`` for an error."""
    manager, client = kernel
    msg_id = client.execute(code)
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        manager.interrupt_kernel()
    out: list[str] = []
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            out.append(f"ERROR {content['ename']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


def test_interrupting_the_kernel_cancels_the_run_and_keeps_its_handlers(
    kernel: tuple[Any, Any], tmp_path: Path
) -> None:
    setup = f"""
import signal, time
from pathlib import Path
from nbflow import Instance, job, op

@op
def slow():
    Path({str(tmp_path / "running")!r}).touch()
    time.sleep(60)

@job
def slow_job():
    slow()

instance = Instance.local({str(tmp_path / "home")!r})
before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
"""
    assert run_cell(kernel, setup) == ""
    manager, client = kernel
    msg_id = client.execute("slow_job.execute_in_process(instance=instance, run_id='k')")
    deadline = time.monotonic() + 60
    while not (tmp_path / "running").exists():
        assert time.monotonic() < deadline, "the op did not start"
        time.sleep(0.05)
    manager.interrupt_kernel()
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "error":
            assert message["content"]["ename"] == "KeyboardInterrupt"
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    check = """
run = instance.get_run('k')
print(run.status.value, run.end_time is not None, instance.get_events('k')[-1].event_type.name)
print((signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before)
"""
    assert run_cell(kernel, check).split() == ["CANCELED", "True", "RUN_CANCELED", "True"]
    assert run_cell(kernel, "time.sleep(60); print('ran on')", interrupt_after=1.0) == (
        "ERROR KeyboardInterrupt"
    )
