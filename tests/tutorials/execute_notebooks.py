"""Execute notebooks in a real Jupyter kernel and list what went wrong in them.

Used two ways:

* imported by the tests (``execute`` and ``problems``), with this environment's kernel;
* run as a script by another environment's Python (the Binder emulation)::

      VENV/bin/python tests/tutorials/execute_notebooks.py KERNEL OUT_DIR NOTEBOOK...

  which executes each notebook with kernel ``KERNEL``, writes the executed copies to
  ``OUT_DIR`` and prints one JSON line: ``{notebook name: {"seconds": s, "problems": [...]}}``.

A problem is an error output, a stream output on stderr, or an exception from nbclient
(a timeout, a dead kernel). Only nbformat and nbclient are needed, so that any environment
with nbflow's notebook extra can run it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

TIMEOUT_S = 180


def kernel_env() -> dict[str, str]:
    """The environment for kernels: this one, as a user's would be.

    ipykernel forwards what its process writes to file descriptor 2 into the notebook, as in
    real use, except under pytest (it checks ``PYTEST_CURRENT_TEST``): hide that from it.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def execute(
    path: Path, kernel_name: str = "python3", out_dir: Path | None = None
) -> tuple[Any, list[str], float]:
    """Execute the notebook at ``path`` in its own folder: (executed node, problems, seconds).

    The executed copy is written to ``out_dir`` (default: next to ``path``, ``.executed``
    inserted before the suffix), so it can be looked at after a failure.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=TIMEOUT_S,
        iopub_timeout=60,  # outputs that come late (a loaded machine) are waited for,
        raise_on_iopub_timeout=True,  # not dropped: see tests/fixtures/kernel_output.py
        resources={"metadata": {"path": str(path.parent)}},
    )
    found: list[str] = []
    started = time.perf_counter()
    try:
        client.execute(env=kernel_env())
    except Exception as exc:  # the failing cell's error output is listed below as well
        found.append(f"nbclient: {type(exc).__name__}: {str(exc)[-1500:]}")
    seconds = time.perf_counter() - started
    target = (out_dir or path.parent) / f"{path.stem}.executed.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return nb, found + problems(nb), seconds


def problems(nb: Any) -> list[str]:
    """Error outputs and stderr stream outputs, each as one readable line."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        first_line = (cell.source.splitlines() or [""])[0][:60]
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index} ({first_line}): {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(f"cell {index} ({first_line}): stderr: {output.text.strip()}")
    return found


AT_ONCE = 2
"""Notebooks executed at the same time by :func:`main` (each in its own kernel): the
tutorials wait on sleeping steps and process starts much of the time."""


def main(argv: list[str]) -> int:
    kernel_name, out_dir, *paths = argv

    def run(name: str) -> tuple[str, dict[str, Any]]:
        path = Path(name).resolve()
        _, found, seconds = execute(path, kernel_name, Path(out_dir))
        return path.name, {"seconds": round(seconds, 1), "problems": found}

    with ThreadPoolExecutor(AT_ONCE) as pool:
        report = dict(pool.map(run, paths))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
