"""Parameter sweeps: a grid of notebook runs on two worker processes, memoized per point."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from nbflow.notebook import sweep

from .conftest import NOTEBOOKS


def nbflow_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "NBFLOW_HOME": str(cwd / "home")},
    )


def table_rows(stdout: str) -> list[list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_cli_sweep_runs_the_grid_then_nothing(tmp_path: Path) -> None:
    args = (
        "notebook",
        "sweep",
        str(NOTEBOOKS / "scale.ipynb"),
        "-p",
        "x",
        "1",
        "2",
        "-p",
        "factor",
        "3",
        "10",
        "--max-concurrent",
        "2",
        "--output-dir",
        "swept",
    )

    first = nbflow_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    header, *rows = table_rows(first.stdout)
    assert header == ["x", "factor", "result", "extra", "status"]
    assert [row[:4] for row in rows] == [
        ["1", "3", "3", "null"],
        ["1", "10", "10", "null"],
        ["2", "3", "6", "null"],
        ["2", "10", "20", "null"],
    ]
    assert all(row[4].startswith("ran (") for row in rows)
    assert "4 parameter set(s), 4 ran, 0 memoized, 0 failed" in first.stdout
    folder = tmp_path / "swept" / "scale-355e72de9d97"
    executed = sorted(folder.glob("*.ipynb"))
    assert len(executed) == 4
    parameters = [
        json.loads(p.read_text())["metadata"]["papermill"]["parameters"] for p in executed
    ]
    assert sorted((p["x"], p["factor"]) for p in parameters) == [(1, 3), (1, 10), (2, 3), (2, 10)]

    again = nbflow_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [row[4] for row in table_rows(again.stdout)[1:]] == ["memoized"] * 4
    assert "4 ran" not in again.stdout and "0 ran, 4 memoized" in again.stdout
    assert sorted(folder.glob("*.ipynb")) == executed


def test_python_sweep_reports_failures_and_retries_only_them(tmp_path: Path) -> None:
    result = sweep(
        NOTEBOOKS / "fails.ipynb",
        {"divisor": [1, 2, 0, 5]},
        max_concurrent=2,
        output_dir=tmp_path,
    )
    assert [row.status for row in result.rows] == ["ran", "ran", "failed", "ran"]
    assert [row.results.get("result") for row in result.rows] == [10.0, 5.0, None, 2.0]
    failed = result.rows[2]
    assert failed.error == "ZeroDivisionError: division by zero in cell 2"
    assert failed.output_path.endswith(".failed.ipynb") and Path(failed.output_path).is_file()
    assert not result.success
    assert "failed: ZeroDivisionError: division by zero in cell 2" in result.table()
    assert not list(Path(result.folder).glob("*.partial-*"))

    again = sweep(NOTEBOOKS / "fails.ipynb", {"divisor": [1, 2, 0, 5]}, output_dir=tmp_path)
    assert [row.status for row in again.rows] == ["memoized", "memoized", "failed", "memoized"]
    assert again.rows[3].results == {"result": 2.0}


def _gated_notebook(path: Path) -> Path:
    """A notebook that waits, when its ``gate`` parameter names a file, until that file exists."""
    import nbformat

    parameters = nbformat.v4.new_code_cell('gate = ""')
    parameters.metadata["tags"] = ["parameters"]
    wait = nbformat.v4.new_code_cell(
        "import pathlib, time\n"
        "while gate and not pathlib.Path(gate).exists():\n"
        "    time.sleep(0.05)"
    )
    notebook = nbformat.v4.new_notebook(cells=[parameters, wait])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def test_cli_sweep_says_each_point_as_it_ends_while_others_still_run(tmp_path: Path) -> None:
    notebook = _gated_notebook(tmp_path / "gated.ipynb")
    gate = tmp_path / "open"
    sweep_args = ["-p", "gate", "", str(gate), "--max-concurrent", "2", "--output-dir", "swept"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbflow", "notebook", "sweep", str(notebook), *sweep_args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NBFLOW_HOME": str(tmp_path / "home")},
        start_new_session=True,
    )
    # A sweep that never reports a point before the gate opens fails, never hangs: the
    # watchdog ends the CLI and its kernels (they hold stdout open too).
    watchdog = threading.Timer(120, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # the gated point cannot end before the test opens the gate
            seen.append(line.rstrip("\n"))
            if line.startswith("  gate=:"):
                break
        still_running = proc.poll() is None
        gate.touch()
        rest, err = proc.communicate(timeout=300)
    finally:
        watchdog.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert still_running, "the sweep ended before its first point was reported"
    assert seen[-1].startswith("  gate=: ran in "), seen
    assert f"  gate={gate}: ran in " in rest, rest
    assert proc.returncode == 0, err
