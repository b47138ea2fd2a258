"""Kernels started at the same moment never take each other's addresses.

jupyter_client picks a kernel's TCP ports in the parent by binding port 0 and closing the
socket, and remembers them only within one process: two sweep workers starting kernels at
once could be handed the same ports, and one kernel died with "Address already in use".
These tests force that collision instead of waiting for it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.connect import LocalPortCache

import nbflow.notebook.kernel_start as kernel_start
from nbflow.errors import NotebookRunError
from nbflow.notebook import run_notebook

ROUNDS, AT_ONCE = 2, 4  # every kernel is offered the same ports: each start is a collision

REPORT_ADDRESSES = """\
from ipykernel.kernelapp import IPKernelApp
from nbflow.notebook import yield_result

app = IPKernelApp.instance()
yield_result(app.transport, "transport")
yield_result(app.shell_port, "shell_port")
"""


@pytest.fixture
def addresses_notebook(tmp_path: Path) -> Path:
    """A notebook that yields the transport and shell port its kernel bound."""
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_ADDRESSES))  # type: ignore[no-untyped-call]
    path = tmp_path / "addresses.ipynb"
    nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
    return path


def _taken_ports(count: int) -> Iterator[socket.socket]:
    for _ in range(count):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held


WORKER = """\
import json, sys
from jupyter_client.connect import LocalPortCache
from nbflow.notebook import run_notebook

notebook, folder, rounds, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
real = LocalPortCache.find_available_port
seen = []
for round_number in range(rounds):
    offered = iter(int(port) for port in shared)
    LocalPortCache.find_available_port = lambda self, ip: next(offered, None) or real(self, ip)
    output = f"{folder}/r{round_number}.ipynb"
    seen.append(run_notebook(notebook, {}, output_path=output, warn=False).results)
print(json.dumps(seen))
"""


def test_kernels_started_at_once_never_collide(addresses_notebook: Path, tmp_path: Path) -> None:
    # Five ports that are free now. Every kernel of every worker is offered exactly these
    # first: what the race does to workers that pick ports at the same moment, every time.
    holders = list(_taken_ports(5))
    shared = [str(held.getsockname()[1]) for held in holders]
    for held in holders:
        held.close()

    workers = []
    for index in range(AT_ONCE):
        folder = tmp_path / f"w{index}"
        folder.mkdir()
        argv = [str(addresses_notebook), str(folder), str(ROUNDS), *shared]
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = [worker.communicate(timeout=120) for worker in workers]

    failures = [
        err for worker, (_, err) in zip(workers, outcomes, strict=True) if worker.returncode
    ]
    assert failures == []
    transports = {run["transport"] for out, _ in outcomes for run in json.loads(out)}
    assert transports == {kernel_start.kernel_transport()}
    assert len(list(tmp_path.glob("w*/r*.ipynb"))) == ROUNDS * AT_ONCE


def test_a_kernel_whose_port_is_taken_is_started_again(
    addresses_notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernel_start, "kernel_transport", lambda: "tcp")
    monkeypatch.setattr(kernel_start, "RETRY_PAUSES_S", (0.0,))
    holders = list(_taken_ports(5))  # bound and listening: the kernel cannot bind them
    taken = [held.getsockname()[1] for held in holders]
    offers: list[int] = []
    real = LocalPortCache.find_available_port

    def taken_first(self: LocalPortCache, ip: str) -> int:
        port = taken[len(offers)] if len(offers) < len(taken) else real(self, ip)
        offers.append(port)
        return port

    monkeypatch.setattr(LocalPortCache, "find_available_port", taken_first)
    answered: list[bool] = []
    real_answers = kernel_start._answers

    async def counting(km: Any) -> bool:
        answered.append(await real_answers(km))
        return answered[-1]

    monkeypatch.setattr(kernel_start, "_answers", counting)
    try:
        run = run_notebook(addresses_notebook, {}, output_path=tmp_path / "out.ipynb")
    finally:
        for held in holders:
            held.close()

    assert run.results["transport"] == "tcp"
    assert run.results["shell_port"] not in taken
    assert offers[:5] == taken and len(offers) == 10
    assert answered == [False, True]  # the first kernel died on the taken port, then a restart


def test_a_kernel_that_keeps_colliding_fails_with_its_log(
    addresses_notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernel_start, "kernel_transport", lambda: "tcp")
    monkeypatch.setattr(kernel_start, "KERNEL_START_ATTEMPTS", 2)
    monkeypatch.setattr(kernel_start, "RETRY_PAUSES_S", (0.0,))
    holders = list(_taken_ports(5))
    taken = [held.getsockname()[1] for held in holders]
    starts: list[int] = []

    def always_taken(self: LocalPortCache, ip: str) -> int:
        starts.append(1)
        return taken[(len(starts) - 1) % len(taken)]

    monkeypatch.setattr(LocalPortCache, "find_available_port", always_taken)
    try:
        with pytest.raises(NotebookRunError, match="Address already in use"):
            run_notebook(addresses_notebook, {}, output_path=tmp_path / "out.ipynb")
    finally:
        for held in holders:
            held.close()
    assert len(starts) == 10  # two starts of five ports each, then the error
